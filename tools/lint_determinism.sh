#!/usr/bin/env bash
# Determinism lint: fails when simulated code (sim/, services/, harness/) uses a
# source of nondeterminism. Benchmarks (harness/bench/) measure the host and are
# exempt; any other line can be exempted with a trailing comment that says why:
#     ... // determinism: allowed (progress line on a terminal, not part of the run)
# Usage: tools/lint_determinism.sh [ROOT]   (exit 0 clean, 1 findings)
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

patterns=(
  '(system_clock|steady_clock|high_resolution_clock)::now|\bclock_gettime\b|\bgettimeofday\b|\btime\(nullptr\)|\btime\(NULL\)|\btime\(0\)'
  'std::random_device'
  '(^|[^_[:alnum:]:.>])s?rand\('
  'std::(uniform_int|uniform_real|normal|exponential|lognormal|bernoulli|poisson|geometric|binomial|discrete|gamma|weibull|cauchy|chi_squared|student_t|fisher_f|extreme_value|piecewise_constant|piecewise_linear|negative_binomial)_distribution'
  'this_fiber::sleep_(for|until)'
  'std::(thread|jthread|async)\b|pthread_create'
  'std::unordered_(map|set|multimap|multiset)'
  'boost::fibers::(mutex|timed_mutex|recursive_mutex|condition_variable|condition_variable_any|barrier)\b'
)
names=(
  "real clock"
  "std::random_device"
  "rand()/srand()"
  "std::*_distribution (output differs between standard libraries)"
  "this_fiber::sleep_* (reads the real steady clock)"
  "thread created inside a simulation"
  "unordered container (iteration order may change between runs or builds)"
  "Boost.Fiber blocking primitive (waits outside the kernel, timed ones read the real clock)"
)

status=0
files=$(find sim services harness -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) \
          -not -path 'harness/bench/*' 2>/dev/null | sort)
for i in "${!patterns[@]}"; do
  [ -z "$files" ] && break
  # shellcheck disable=SC2086
  hits=$(grep -nHE "${patterns[$i]}" $files | grep -v 'determinism: allowed' | grep -vE '^[^:]+:[0-9]+:\s*//')
  if [ -n "$hits" ]; then
    echo "determinism lint: ${names[$i]}:"
    echo "$hits" | sed 's/^/    /'
    status=1
  fi
done
if [ $status -eq 0 ]; then
  echo "determinism lint: clean ($(echo "$files" | grep -c .) files)"
fi
exit $status
