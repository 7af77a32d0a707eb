#!/usr/bin/env bash
# tools/build.sh KIND: configures and builds build/KIND (release | asan | pgo).
# pgo: meshsim alone, profile-guided (docs/performance.md, "Ninth round"): an
# instrumented meshsim runs the benches' workloads, then meshsim is built again
# with what they counted. No test binaries; the results are the release build's.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
case "$kind" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMESHSIM_SANITIZE=ON) ;;
  pgo) flags=(-DCMAKE_BUILD_TYPE=Release -DMESHSIM_TESTS=OFF) ;;
  *) echo "usage: tools/build.sh release|asan|pgo [ninja arguments]" >&2; exit 2 ;;
esac
# ccache (installed by tools/install-deps.sh) makes rebuilds and fresh clones cheap;
# relative paths let clones and worktrees in other folders share the cache.
if command -v ccache > /dev/null; then
  flags+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
fi
configure() { cmake -S . -B "build/$kind" -G Ninja -DMESHSIM_WERROR=ON "${flags[@]}" "$@" > /dev/null; }

if [ "$kind" != pgo ]; then
  configure
  ninja -C "build/$kind" "${@:2}"
  exit
fi

# Stage 1: count. The counts land beside the object files (*.gcda), where stage 2,
# built in the same folder, finds them; old counts would add to the new ones.
configure -DMESHSIM_PGO=generate
find "build/$kind" -name '*.gcda' -delete
ninja -C "build/$kind" meshsim
trainer="build/$kind/harness/meshsim"
training=$(mktemp -d)
trap 'rm -rf "$training"' EXIT
echo "pgo: training (meshsim bench --json, then mesh_100 and the flagship scenario)"
"$trainer" bench --json > "$training/bench.json"
for scenario in scenarios/mesh_100.json scenarios/flagship.json; do
  # What runs is what counts here, not the scenario's verdict.
  "$trainer" run "$scenario" --seed 1 --events none --report none --out "$training/run" > /dev/null || true
done
if [ -z "$(find "build/$kind" -name '*.gcda' -print -quit)" ]; then
  echo "pgo: the training run left no profile counts" >&2
  exit 1
fi
# Stage 2: optimise with the counts.
configure -DMESHSIM_PGO=use
ninja -C "build/$kind" meshsim
echo "pgo: build/$kind/harness/meshsim"
