#!/usr/bin/env bash
# Proves the determinism lint can fail: each forbidden construct planted in a
# scratch tree must be reported, and an exempted or clean line must not be.
set -u
lint="$(cd "$(dirname "$0")" && pwd)/lint_determinism.sh"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/sim" "$scratch/services" "$scratch/harness/bench"
failures=0

expect() {  # expect <0|1> <file> <line of code>
  rm -f "$scratch"/sim/* "$scratch"/services/* "$scratch"/harness/bench/*
  printf '%s\n' "$3" > "$scratch/$2"
  "$lint" "$scratch" > /dev/null
  local rc=$?
  if [ "$rc" -ne "$1" ]; then
    echo "FAIL: expected exit $1, got $rc for $2: $3"
    failures=$((failures + 1))
  fi
}

expect 1 sim/a.cpp 'auto t = std::chrono::steady_clock::now();'
expect 1 services/a.cpp 'auto t = std::chrono::system_clock::now();'
expect 1 sim/a.cpp 'std::random_device rd;'
expect 1 services/a.hpp 'int x = rand();'
expect 1 sim/a.cpp 'std::normal_distribution<double> d(0, 1);'
expect 1 services/a.cpp 'boost::this_fiber::sleep_for(std::chrono::seconds(1));'
expect 1 sim/a.cpp 'std::thread t([]{});'
expect 1 services/a.cpp 'std::unordered_map<int, int> m;'
expect 1 services/a.cpp 'boost::fibers::mutex m;'
expect 0 sim/a.cpp 'auto x = rng.uniform01();'
expect 0 sim/a.cpp 'int operand(); int x = operand();'
expect 0 harness/bench/a.cpp 'auto t = std::chrono::steady_clock::now();'
expect 0 services/a.cpp 'auto t = std::chrono::steady_clock::now();  // determinism: allowed (test)'
expect 0 services/a.cpp '// a comment about std::random_device is fine'

if [ "$failures" -ne 0 ]; then
  echo "lint self-test: $failures failure(s)"
  exit 1
fi
echo "lint self-test: all cases behave"
