#!/usr/bin/env bash
# Fails when a C++ source differs from what clang-format makes of it with the
# repository's .clang-format. Fix with:
#     find sim services harness reports tests -name '*.[ch]pp' | xargs clang-format -i
# Usage: tools/check_format.sh [ROOT]   (exit 0 formatted, 1 not, 2 no clang-format)
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
command -v clang-format > /dev/null || { echo "check_format: clang-format not found (tools/install-deps.sh --tests)" >&2; exit 2; }
files=$(find sim services harness reports tests -type f \( -name '*.cpp' -o -name '*.hpp' \) 2>/dev/null | sort)
status=0
for f in $files; do
  if ! clang-format --style=file "$f" | cmp -s - "$f"; then
    echo "check_format: $f is not clang-formatted"
    status=1
  fi
done
exit $status
