#!/usr/bin/env bash
# tools/check_build_options.sh SOURCE_DIR: a build option or kind that does not
# exist stops the build at once, naming itself, rather than building something else.
set -uo pipefail
src=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0

expect_refusal() {  # DESCRIPTION EXPECTED_TEXT COMMAND...
  local what=$1 text=$2
  shift 2
  if "$@" > "$scratch/out" 2>&1; then
    echo "FAIL: $what: accepted"
    failed=1
  elif ! grep -qF -- "$text" "$scratch/out"; then
    echo "FAIL: $what: refused without saying '$text':"
    cat "$scratch/out"
    failed=1
  else
    echo "ok: $what"
  fi
}

for bad in bogus USE "use generate" " "; do
  expect_refusal "MESHSIM_PGO='$bad'" "MESHSIM_PGO is generate, use or empty" \
    cmake -S "$src" -B "$scratch/build" -G Ninja -DMESHSIM_TESTS=OFF "-DMESHSIM_PGO=$bad"
  rm -rf "$scratch/build"
done
expect_refusal "tools/build.sh with an unknown kind" "usage: tools/build.sh release|asan|pgo" "$src/tools/build.sh" debug
exit $failed
