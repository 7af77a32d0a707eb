#!/usr/bin/env bash
# tools/check_test_discovery.sh BUILD_DIR: every Catch2 test case of every test binary
# is exactly one ctest test, named "<layer>:<test case>", and nothing else is.
# CMake splits a discovered name at ';' and stops splitting at an unbalanced '[', so
# such a name would become ctest tests whose filter matches no test case: they ran
# nothing and passed (19 test cases were never run by ctest that way, until
# 2026-11-29). The test binaries also run with `-w NoTests`, so a filter that matches
# nothing fails; this check names the test cases concerned.
set -euo pipefail
build=${1:?usage: tools/check_test_discovery.sh BUILD_DIR}
registered=$(ctest --test-dir "$build" -N | sed -n 's/^ *Test *#[0-9]*: //p')
status=0
checked=0
for layer in sim services harness reports runtime; do
  bin="$build/tests/test_$layer"
  [ -x "$bin" ] || continue
  # (Catch2 v2 exits with the number of test cases it listed.)
  expected=$({ "$bin" --list-test-names-only || true; } | sed '/^$/d' | sed "s/^/$layer:/" | LC_ALL=C sort)
  actual=$(printf '%s\n' "$registered" | grep "^$layer:" | LC_ALL=C sort || true)
  count=$(printf '%s\n' "$expected" | grep -c . || true)
  if [ "$count" -eq 0 ]; then
    echo "test_$layer lists no test cases" >&2
    status=1
  elif [ "$expected" != "$actual" ]; then
    echo "test_$layer: its test cases and its ctest tests differ (< test case missing from ctest, > ctest test that is no test case):" >&2
    diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") >&2 || true
    status=1
  fi
  checked=$((checked + count))
done
if [ "$checked" -eq 0 ]; then
  echo "no test binary found under $build/tests" >&2
  exit 1
fi
[ "$status" -eq 0 ] && echo "$checked test cases, each one ctest test"
exit "$status"
