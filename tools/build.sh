#!/usr/bin/env bash
# tools/build.sh KIND: configures and builds build/KIND (release | asan).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
case "$kind" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMESHSIM_SANITIZE=ON) ;;
  *) echo "usage: tools/build.sh release|asan" >&2; exit 2 ;;
esac
# ccache (installed by tools/install-deps.sh) makes rebuilds and fresh clones cheap;
# relative paths let clones and worktrees in other folders share the cache.
if command -v ccache > /dev/null; then
  flags+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
fi
cmake -S . -B "build/$kind" -G Ninja -DMESHSIM_WERROR=ON "${flags[@]}" > /dev/null
ninja -C "build/$kind" "${@:2}"
