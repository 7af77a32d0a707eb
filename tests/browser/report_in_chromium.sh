#!/usr/bin/env bash
# report.html in a real browser: runs a known scenario (scenarios/circuit_breaker.json,
# seed 1) with `meshsim run --out`, opens the page from disk in headless Chromium and
# checks that it renders without a console or script error, with the sections and
# counts that scenario must give, and that its screenshot is not blank.
# Usage: report_in_chromium.sh MESHSIM SOURCE_DIR WORK_DIR [largest]
# ("largest": instead, the size and drawing time of the largest example's page)
# Exit 0 pass, 1 fail, 77 (ctest: skipped) when chromium is not installed
# (tools/install-deps.sh --tests installs it; `meshsim run` never needs it).
set -uo pipefail
meshsim=$1 source_dir=$2 work=$3
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "SKIP: chromium is not installed (tools/install-deps.sh --tests installs it)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work/out" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A loaded machine makes Chromium slow: generous timeouts, and a virtual-time budget so
# the page's script has finished when the DOM is dumped.
browse() {  # browse OUTPUT_FILE ARGS...: one headless Chromium run with its own profile
  local output=$1
  shift
  timeout 300 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
    --user-data-dir="$work/profile" --virtual-time-budget=30000 --enable-logging=stderr --v=0 "$@" \
    > "$output" 2>> "$work/chromium.log"
}

if [ "${4:-}" = "largest" ]; then
  # The largest example (mesh_100: 100 services, over 6 M events): the page stays under
  # 10 MB and its script draws it in well under the 2 s budget (5 s allowed on a loaded
  # machine); the events file is removed afterwards, it is large.
  "$meshsim" run "$source_dir/scenarios/mesh_100.json" --seed 1 --out "$work/out" > "$work/run.txt" 2>&1 ||
    { fail "meshsim run mesh_100 exited $?: $(tail -3 "$work/run.txt")"; exit 1; }
  rm -f "$work/out/events.jsonl"
  page=$work/out/report.html
  size=$(stat -c %s "$page" 2> /dev/null || echo 0)
  started=$(date +%s%N)
  browse "$work/dom.html" --dump-dom "file://$page" || fail "chromium --dump-dom failed"
  wall_ms=$((($(date +%s%N) - started) / 1000000))
  render_ms=$(grep -o 'data-render-ms="[0-9]*"' "$work/dom.html" | sed 's/[^0-9]//g')
  [ "$size" -gt 0 ] && [ "$size" -lt 10000000 ] || fail "report.html of mesh_100 is $size bytes (limit 10 MB)"
  grep -q 'data-render="ok"' "$work/dom.html" || fail "the page did not finish drawing"
  grep -q 'data-errors="0"' "$work/dom.html" || fail "script errors: $(grep -o '<ul id="js-errors">.\{0,400\}' "$work/dom.html")"
  [ -n "$render_ms" ] && [ "$render_ms" -lt 5000 ] || fail "drawing took ${render_ms:-?} ms"
  echo "mesh_100: report.html $size bytes, drawn in ${render_ms:-?} ms (Chromium start to DOM: $wall_ms ms)"
  [ "$failures" -eq 0 ] || exit 1
  exit 0
fi

"$meshsim" run "$source_dir/scenarios/circuit_breaker.json" --seed 1 --out "$work/out" > "$work/run.txt" 2>&1
status=$?
[ "$status" -eq 0 ] || fail "meshsim run exited $status: $(cat "$work/run.txt")"
page=$work/out/report.html
[ -s "$page" ] || { fail "no report.html in $work/out"; exit 1; }

# Self-contained: nothing is fetched (no src/href to another file or the network).
if grep -Eq "(src|href)=[\"']?[a-z]*:?//" "$page"; then fail "report.html references something outside itself"; fi

browse "$work/dom.html" --dump-dom "file://$page" || fail "chromium --dump-dom failed (exit $?)"
dom=$work/dom.html
count() { grep -o -- "$1" "$dom" | wc -l; }
expect() {  # expect WHAT ACTUAL OP EXPECTED
  [ "$2" "$3" "$4" ] || fail "$1: $2, expected $3 $4"
}
expect "page rendered (data-render=\"ok\")" "$(count 'data-render="ok"')" -eq 1
expect "script errors caught by the page's hook (data-errors=\"0\")" "$(count 'data-errors="0"')" -eq 1
expect "verdict in the header" "$(count '<header id="run" data-verdict="pass"')" -eq 1
expect "service lanes (front, back)" "$(count '<details class="lane" data-service=')" -eq 2
# One band per fault the run scheduled (the abort on each of back's two instances): as
# many as the distinct fault ids of events.jsonl's fault_start events.
fault_ids=$(grep '"kind":"fault_start"' "$work/out/events.jsonl" | grep -o 'id\\*":[0-9]*' | sort -u | wc -l)
expect "fault ids in events.jsonl" "$fault_ids" -ge 1
expect "fault bands" "$(count 'class="fault" data-fault-id=')" -eq "$fault_ids"
expect "checker rows (four expectations)" "$(count '<tr class="check ')" -eq 4
expect "breaker transitions to open (the breaker opens)" "$(count 'class="breaker-transition" data-to="open"')" -ge 1
expect "breaker state strips" "$(count 'class="breaker-state" data-state="open"')" -ge 1
# The strip follows the transitions exactly: one segment per change plus the first
# (closed) one, half-open trials included; each breaker's settings are listed.
transitions=$(count 'class="breaker-transition"')
expect "breaker strip segments (transitions + 1)" "$(count 'class="breaker-state"')" -eq $((transitions + 1))
expect "half-open segments in the strip" "$(count 'class="breaker-state" data-state="half_open"')" -ge 1
expect "breaker settings" "$(count '<ul class="breaker-settings"><li>')" -eq 1
expect "failure marks in the lanes (the aborts at back)" "$(count 'class="failure-mark"')" -ge 1
expect "latency and throughput charts" "$(count 'data-chart="latency"\|data-chart="throughput"')" -eq 2
# Per-bucket attempts and the breakers' windows come with summary.json schema 2 and the
# named event fields; with the older formats the page says what it lacks instead.
if grep -Eq '"schema": *"meshsim.summary/2"' "$work/out/summary.json"; then
  expect "retry amplification chart" "$(count 'data-chart="retries"')" -eq 1
else
  expect "retry amplification section" "$(count '<section id="retries"')" -eq 1
fi
# Lanes open to their instances (report.html#open opens them all): front has one,
# back two, when summary.json has per-instance series.
if grep -q '"instances"' "$work/out/summary.json"; then
  browse "$work/dom-open.html" --dump-dom "file://$page#open" || fail "chromium --dump-dom #open failed"
  expect "instance rows in the opened lanes" "$(grep -o 'class="lane-instance" data-instance=' "$work/dom-open.html" | wc -l)" -eq 3
fi
if grep '"kind":"state"' "$work/out/events.jsonl" | grep -q '"failure_rate"'; then
  expect "breaker windows (failure rate column filled)" "$(grep -o 'data-to="open"><td><a[^%]*%' "$dom" | wc -l)" -ge 1
fi
messages=$(grep -o 'id="sequence-diagram" data-messages="[0-9]*"' "$dom" | sed 's/.*="\([0-9]*\)"$/\1/')
# A request and its response at least, once the events carry the callee (to, from).
least=1
if grep -q '"kind":"rpc_serve"' "$work/out/events.jsonl"; then least=2; fi
expect "messages in the sequence diagram" "${messages:-0}" -ge "$least"
# Console errors Chromium logged (the page's own hook above catches script errors too).
if grep -E "CONSOLE|Uncaught" "$work/chromium.log" | grep -Eiq "error|uncaught"; then
  fail "console errors: $(grep -E 'CONSOLE|Uncaught' "$work/chromium.log" | head -5)"
fi

# Not blank: the report's screenshot compresses far worse than an empty page's.
printf '<!DOCTYPE html><html><body></body></html>' > "$work/blank.html"
browse /dev/null --window-size=1280,1600 --screenshot="$work/blank.png" "file://$work/blank.html"
browse /dev/null --window-size=1280,1600 --screenshot="$work/report.png" "file://$page"
blank_size=$(stat -c %s "$work/blank.png" 2> /dev/null || echo 0)
report_size=$(stat -c %s "$work/report.png" 2> /dev/null || echo 0)
[ "$(head -c 8 "$work/report.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "no PNG screenshot"
expect "screenshot bytes vs a blank page's ($blank_size)" "$report_size" -gt $((blank_size * 5 + 20000))

# Hostile input (tests/browser/hostile: markup in every name, wrong types, absurd
# numbers) through `meshsim report`: the page still draws, without a script error, and
# no markup from the input becomes an element.
mkdir -p "$work/hostile" && cp "$source_dir"/tests/browser/hostile/*.json* "$work/hostile/" || exit 1
"$meshsim" report "$work/hostile" > "$work/hostile.txt" 2>&1 || fail "meshsim report of the hostile run exited $?: $(cat "$work/hostile.txt")"
browse "$work/dom-hostile.html" --dump-dom "file://$work/hostile/report.html" || fail "chromium --dump-dom (hostile) failed"
hostile=$work/dom-hostile.html
expect "hostile page rendered" "$(grep -o 'data-render="ok"' "$hostile" | wc -l)" -eq 1
expect "hostile page: no script error" "$(grep -o 'data-errors="0"' "$hostile" | wc -l)" -eq 1
expect "hostile page: no injected element" "$(grep -Eo '<img|<u>|<b>bold|<[a-z]+( [a-z:-]+="[^"]*")* on(error|load)=' "$hostile" | wc -l)" -eq 0
expect "hostile page: the 64-bit seed in full" "$(grep -o '<b id="seed">18446744073709551615</b>' "$hostile" | wc -l)" -eq 1
expect "hostile page: no NaN drawn" "$(grep -o 'NaN' "$hostile" | wc -l)" -eq 0

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed; page, DOM and chromium.log are in $work"
  exit 1
fi
echo "report.html renders in Chromium: $(stat -c %s "$page") bytes, screenshot $report_size bytes"
