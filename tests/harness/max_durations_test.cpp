// The runtime fed durations of duration::max() directly (the loader refuses them in
// files; a scenario built in code can still carry them): every run ends with a
// verdict and what "for ever" means, never a wrapped time. tests/services/
// saturating_time.cpp checks each platform site with exact times; this is the whole
// world, edges, faults and summary together.
#include <catch2/catch.hpp>

#include <string>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim;
using namespace meshsim::harness;

namespace {
constexpr sim::duration forever = sim::duration::max();

scenario load(const std::string& text) {
    diagnostics diags;
    auto s = load_scenario_text(text, "max.json", diags);
    INFO(diags.format());
    REQUIRE(s);
    return std::move(*s);
}

const char* front_back = R"({"name": "max", "duration": "2s",
  "services": [
    {"name": "front", "endpoints": [{"path": "/a", "service_time": "1ms", "calls": [{"service": "back", "endpoint": "/b"}]}]},
    {"name": "back", "endpoints": [{"path": "/b", "service_time": "1ms"}]}],
  "edges": [{"from": "front", "to": "back", "retry": {"max_attempts": 3}, "hedging": {"max_attempts": 1}}],
  "workloads": [{"name": "w", "service": "front", "endpoint": "/a", "open": {"rate_per_s": 10, "arrivals": "constant"}}],
  "faults": [{"kind": "pause", "service": "back", "at": "1s", "for": "100ms"}]})";
}  // namespace

TEST_CASE("a world whose edge timeouts, deadline and backoff are duration::max() runs to a verdict") {
    scenario s = load(front_back);
    REQUIRE(s.edges.size() == 1);
    s.edges[0].policy.timeout_per_try = forever;
    s.edges[0].policy.deadline = forever;
    s.edges[0].policy.retry.backoff.base_delay = forever;
    s.edges[0].policy.retry.backoff.max_delay = forever;
    s.workloads[0].client.timeout_per_try = forever;
    s.workloads[0].client.deadline = forever;
    s.faults[0].length = forever;  // back pauses at 1 s and never resumes
    run_options options;
    options.keep_events = false;
    const run_result r = run_scenario(std::move(s), options);
    REQUIRE(r.setup_errors.empty());
    const nlohmann::json& w = r.summary["workloads"]["w"];
    // Requests at 100..900 ms are answered (a wrapped timeout failed them with 0 attempts);
    // those from 1 s on wait for ever on the paused back (a wrapped pause ended at once).
    CHECK(w["arrivals"] == 19);
    CHECK(w["outcomes"]["ok"] == 9);
    CHECK(w["outcomes"]["total"] == 9);
    // front serves one request at a time: the one of 1 s holds it for ever, the rest queue.
    CHECK(r.summary["edges"][0]["arrivals"] == 10);
    CHECK(r.summary["edges"][0]["attempts"] == 9);  // counted when a call ends
    CHECK(r.summary["edges"][0]["retries"] == 0);
}
