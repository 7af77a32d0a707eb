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
cmake -S . -B "build/$kind" -G Ninja -DMESHSIM_WERROR=ON "${flags[@]}" > /dev/null
ninja -C "build/$kind" "${@:2}"
