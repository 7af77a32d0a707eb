// The trace hash covers what servers answered, and summary.json counts retries
// where the clients decided them: end to end through scenario runs.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim;
using namespace meshsim::harness;

namespace {

run_result run_text(const std::string& text, bool keep_events = true) {
    diagnostics diags;
    auto s = load_scenario_text(text, "test.json", diags);
    INFO(diags.format());
    REQUIRE(s);
    run_options options;
    options.keep_events = keep_events;
    run_result r = run_scenario(std::move(*s), options);
    REQUIRE(r.setup_errors.empty());
    return r;
}

// One client calling GET /x every 20 ms for 1 s; /x answers 502 on `error_rate` of requests.
std::string one_endpoint(const std::string& error_rate) {
    return R"({"name": "statuses", "duration": "1s",
  "services": [{"name": "api", "endpoints": [{"path": "/x", "service_time": "1ms", "error_rate": )" +
           error_rate + R"(, "error_status": 502}]}],
  "workloads": [{"name": "w", "service": "api", "endpoint": "/x", "open": {"rate_per_s": 50, "arrivals": "constant"}}]})";
}

std::uint64_t count_of(const nlohmann::json& by_status, const char* status) {
    return by_status.contains(status) ? by_status[status].get<std::uint64_t>() : 0;
}

}  // namespace

TEST_CASE("changing only a response status changes the trace hash and the events") {
    std::set<std::string> hashes;
    std::set<std::uint64_t> event_counts;
    for (const char* rate : {"0", "1", "0.5"}) {
        CAPTURE(rate);
        const run_result r = run_text(one_endpoint(rate));
        const nlohmann::json& by_status = r.summary["workloads"]["w"]["outcomes"]["by_status"];
        const auto requests = r.summary["workloads"]["w"]["arrivals"].get<std::uint64_t>();
        CHECK(requests >= 45);
        // Not vacuous: the runs differ in statuses and in nothing else that is traced.
        CHECK(count_of(by_status, "200") + count_of(by_status, "502") == requests);
        if (std::string(rate) == "0") CHECK(count_of(by_status, "502") == 0);
        if (std::string(rate) == "1") CHECK(count_of(by_status, "200") == 0);
        if (std::string(rate) == "0.5") {
            CHECK(count_of(by_status, "200") > 0);
            CHECK(count_of(by_status, "502") > 0);
        }
        hashes.insert(r.summary["trace_hash"].get<std::string>());
        event_counts.insert(r.summary["events"].get<std::uint64_t>());
        // Each attempt is one rpc_attempt event, with the status the client saw.
        std::uint64_t attempts = 0, answered_502 = 0;
        for (const sim::trace_event& e : r.sim->trace().events()) {
            if (e.kind != sim::event_kind::rpc_attempt) continue;
            ++attempts;
            CHECK(e.b == 1);  // the first attempt (the workload client does not retry)
            if (e.a == 502) {
                ++answered_502;
                CHECK(e.detail.rfind("http_error ", 0) == 0);
            } else {
                CHECK(e.a == 200);
                CHECK(e.detail.rfind("ok ", 0) == 0);
            }
            CHECK(e.detail.size() > 7);
            CHECK(e.detail.substr(e.detail.size() - 7) == " GET /x");
        }
        CHECK(attempts == requests);
        CHECK(answered_502 == count_of(by_status, "502"));
    }
    CHECK(hashes.size() == 3);
    CHECK(event_counts.size() == 1);  // the same number of events: only their content differs

    // The same scenario twice, with and without keeping events: the same hash.
    CHECK(run_text(one_endpoint("0.5")).summary["trace_hash"] ==
          run_text(one_endpoint("0.5"), false).summary["trace_hash"]);
}

TEST_CASE("summary retries count the retries a breaker rejected, not attempts minus calls") {
    // front -> back, back always 502; the edge retries up to 3 attempts behind a breaker
    // that opens once 4 attempts failed.
    const run_result r = run_text(R"({"name": "breaker-retries", "duration": "1s",
  "services": [
    {"name": "front", "endpoints": [{"path": "/a", "calls": [{"service": "back", "endpoint": "/b"}]}]},
    {"name": "back", "endpoints": [{"path": "/b", "error_rate": 1, "error_status": 502}]}],
  "edges": [{"from": "front", "to": "back", "timeout": "100ms",
             "retry": {"max_attempts": 3, "backoff_base": "1ms", "jitter": "none"},
             "breaker": {"failure_rate_threshold_percent": 50, "window_size_calls": 4, "minimum_calls": 4,
                         "wait_in_open": "60s"}}],
  "workloads": [{"name": "w", "service": "front", "endpoint": "/a", "open": {"rate_per_s": 10, "arrivals": "constant"}}]})",
                                  false);
    REQUIRE(r.summary["edges"].size() == 1);
    const nlohmann::json& edge = r.summary["edges"][0];
    // Call 1: 3 attempts (2 retries); call 2: its first attempt opens the breaker, its
    // retry is rejected unsent; calls 3..9: rejected outright (0 attempts, no retry).
    CHECK(edge["arrivals"] == 9);  // every 100 ms from 100 ms
    CHECK(edge["attempts"] == 4);
    CHECK(edge["retries"] == 3);  // attempts - calls would say 0
    CHECK(edge["hedges"] == 0);
    CHECK(r.summary["workloads"]["w"]["retries"] == 0);
}

TEST_CASE("deadline_propagation is per_try unless an edge or client asks for whole_call") {
    diagnostics diags;
    const auto s = load_scenario_text(R"({"name": "p", "duration": "1s",
  "services": [{"name": "api", "endpoints": [{"path": "/a", "calls": [{"service": "db", "endpoint": "/q"}]}]},
               {"name": "db", "endpoints": [{"path": "/q"}]}, {"name": "cache", "endpoints": [{"path": "/c"}]}],
  "edges": [{"from": "api", "to": "db", "deadline_propagation": "whole_call"}],
  "workloads": [{"name": "w", "service": "api", "endpoint": "/a", "open": {"rate_per_s": 1},
                 "client": {"deadline_propagation": "whole_call"}}]})",
                                      "p.json", diags);
    INFO(diags.format());
    REQUIRE(s);
    CHECK(s->policy_for("api", "db").deadline_propagation == svc::deadline_propagation_mode::whole_call);
    CHECK(s->policy_for("api", "cache").deadline_propagation == svc::deadline_propagation_mode::per_try);
    CHECK(s->default_edge.deadline_propagation == svc::deadline_propagation_mode::per_try);
    CHECK(s->workloads[0].client.deadline_propagation == svc::deadline_propagation_mode::whole_call);
}
