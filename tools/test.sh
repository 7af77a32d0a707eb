#!/usr/bin/env bash
# Every test on a fresh Debian 12 machine: install what is missing, build a
# Release and a sanitizer (ASan + UBSan) build, check that both give the same
# trace hash, then run the whole suite (ctest) in both.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --tests
jobs=$(nproc)
echo "== build: release"
tools/build.sh release | tail -n 1
echo "== build: asan"
tools/build.sh asan | tail -n 1

echo "== determinism across builds and processes"
hash_of() { "$1" run --quiet --seed "$2" --out "$(mktemp -d)" | sed -n 's/^trace_hash=//p'; }
release_hash=$(hash_of build/release/harness/meshsim 7)
again_hash=$(hash_of build/release/harness/meshsim 7)
asan_hash=$(hash_of build/asan/harness/meshsim 7)
other_hash=$(hash_of build/release/harness/meshsim 8)
echo "seed 7: release=$release_hash again=$again_hash asan=$asan_hash; seed 8: $other_hash"
if [ -z "$release_hash" ] || [ "$release_hash" != "$again_hash" ] || [ "$release_hash" != "$asan_hash" ]; then
  echo "FAIL: the same seed gave different trace hashes" >&2
  exit 1
fi
if [ "$release_hash" = "$other_hash" ]; then
  echo "FAIL: different seeds gave the same trace hash" >&2
  exit 1
fi

echo "== tests: asan"
(cd build/asan && ctest -j "$jobs" --output-on-failure)
echo "== tests: release"
(cd build/release && ctest -j "$jobs" --output-on-failure)
