// summary.json schema 2 (docs/outputs.md): numbers beside every time label, series
// per bucket by outcome kind with p50/p90, edges' attempts and each caller's breaker
// per bucket, per-instance rows with down intervals, faults as scenario entries that
// paste back into a scenario and give the same fault schedule, and checks' numbers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim;
using namespace meshsim::harness;

namespace {

struct run_out {
    nlohmann::json summary;
    std::vector<sim::trace_event> fault_events;  // fault_start / fault_end, in order
};

run_out run_text(const std::string& text, std::uint64_t seed = 1) {
    diagnostics diags;
    auto s = load_scenario_text(text, "series.json", diags);
    INFO(diags.format());
    REQUIRE(s);
    run_out out;
    run_options options;
    options.seed = seed;
    options.keep_events = false;
    options.on_event = [&out](const sim::trace_event& e, const std::string*) {
        if (e.kind == sim::event_kind::fault_start || e.kind == sim::event_kind::fault_end)
            out.fault_events.push_back(e);
    };
    run_result r = run_scenario(std::move(*s), options);
    REQUIRE(r.setup_errors.empty());
    out.summary = std::move(r.summary);
    return out;
}

std::uint64_t u(const nlohmann::json& j) { return j.get<std::uint64_t>(); }

std::uint64_t sum_of(const nlohmann::json& counts) {
    std::uint64_t n = 0;
    for (const auto& [kind, v] : counts.items()) n += u(v);
    return n;
}

// Two callers with breakers in front of a back end that aborts everything for a
// while; instance 2 of back crashes; every fault kind once.
const std::string faulty = R"({
  "name": "series", "duration": "6s", "bucket": "500ms",
  "services": [
    {"name": "front", "instances": 2, "concurrency": 32,
     "endpoints": [{"path": "/x", "service_time": "100us", "calls": [{"service": "back", "endpoint": "/y"}]}]},
    {"name": "back", "instances": 3, "concurrency": 32,
     "endpoints": [{"path": "/y", "service_time": "1ms"}]}
  ],
  "edges": [{"from": "front", "to": "back", "timeout": "50ms",
             "retry": {"max_attempts": 3, "backoff_base": "5ms", "backoff_max": "20ms"},
             "breaker": {"failure_rate_threshold_percent": 50, "window_size_calls": 20, "minimum_calls": 10,
                         "wait_in_open": "300ms", "half_open_calls": 5}}],
  "workloads": [{"name": "w", "service": "front", "endpoint": "/x", "open": {"rate_per_s": 300}}],
  "faults": [
    {"kind": "abort", "service": "back", "at": "1s", "for": "1s", "status": 500},
    {"kind": "crash", "service": "back", "instance": 2, "at": "3s", "for": "1s"},
    {"kind": "pause", "service": "back", "at": "4500ms", "for": "200ms", "repeat_every": "500ms", "repeat_until": "5s"},
    {"kind": "slow", "service": "back", "instance": 1, "at": "200ms", "for": "100ms", "factor": 3},
    {"kind": "clock", "service": "front", "instance": 1, "at": "100ms", "offset": "-2s", "drift_ppm": 50},
    {"kind": "link", "service": "front", "to": "back", "at": "300ms", "for": "100ms", "loss": 0.25,
     "latency": {"dist": "uniform", "min": "1ms", "max": "3ms"}},
    {"kind": "partition", "shape": "one_way", "from": ["front"], "to": ["back"], "mode": "hold", "at": "5500ms",
     "for": "100ms"},
    {"kind": "partition", "shape": "isolate", "service": "back", "instance": 3, "at": "5700ms", "for": "100ms"},
    {"kind": "delay", "service": "back", "endpoint": "/y", "probability": 0.5, "delay": "7ms", "at": "2500ms",
     "for": "200ms"}
  ],
  "expectations": [{"check": "slo", "workload": "w", "window": "500ms", "error_rate_max": 0.01}]
})";

}  // namespace

TEST_CASE("summary/2: every time has its number and every series entry its bucket start") {
    const run_out r = run_text(faulty);
    const nlohmann::json& s = r.summary;
    CHECK(s["schema"] == "meshsim.summary/2");
    CHECK(u(s["virtual_time_ns"]) == 6'000'000'000);
    CHECK(u(s["bucket_ns"]) == 500'000'000);
    CHECK(u(s["warmup_ns"]) == 0);
    const auto check_series = [&](const nlohmann::json& series) {
        REQUIRE(series.size() == 12);
        for (std::size_t i = 0; i < series.size(); ++i) {
            const auto& b = series[i];
            CHECK(u(b["t_ns"]) == i * 500'000'000);
            // by_outcome splits exactly what ended in the bucket, and only non-zero kinds.
            CHECK(sum_of(b["by_outcome"]) == u(b["goodput"]) + u(b["errors"]));
            for (const auto& [kind, n] : b["by_outcome"].items()) CHECK(u(n) > 0);
            CHECK(b["p50_ms"].get<double>() <= b["p90_ms"].get<double>());
            CHECK(b["p90_ms"].get<double>() <= b["p99_ms"].get<double>());
        }
    };
    check_series(s["workloads"]["w"]["series"]);
    for (const auto& e : s["services"]["back"]["endpoints"]) check_series(e["series"]);
    const auto& edge = s["edges"][0];
    check_series(edge["series"]);
    // The abort made errors, by kind: http_error at the edge in the abort's buckets.
    CHECK(edge["series"][2]["by_outcome"].contains("http_error"));
    CHECK_FALSE(edge["series"][0]["by_outcome"].contains("http_error"));
    // Checks: a number beside the label (the SLO fails in the abort).
    const auto& check = s["checks"][0];
    REQUIRE_FALSE(check["passed"].get<bool>());
    REQUIRE(check["first_failed_ns"].is_number_integer());
    CHECK_FALSE(check.contains("lag_series"));  // measures no lag
}

TEST_CASE("summary/2: an edge's attempts, retries and breakers per bucket add up to its totals") {
    const run_out r = run_text(faulty);
    const auto& edge = r.summary["edges"][0];
    std::uint64_t attempts = 0, retries = 0, hedges = 0, calls = 0;
    bool saw_open = false;
    for (const auto& b : edge["series"]) {
        attempts += u(b["attempts"]);
        retries += u(b["retries"]);
        hedges += u(b["hedges"]);
        calls += u(b["goodput"]) + u(b["errors"]);
        // Each caller instance's state; the bucket's worst is the old "breaker".
        std::string worst = "none";
        for (const auto& [caller, state] : b["breakers"].items()) {
            CHECK((caller == "front-1" || caller == "front-2"));
            const auto rank = [](const std::string& st) {
                return st == "open" ? 3 : st == "half_open" ? 2 : st == "closed" ? 1 : 0;
            };
            if (rank(state.get<std::string>()) > rank(worst)) worst = state.get<std::string>();
            saw_open = saw_open || state == "open";
        }
        if (b.contains("breaker")) CHECK(b["breaker"] == worst);
    }
    CHECK(attempts == u(edge["attempts"]));
    CHECK(retries == u(edge["retries"]));
    CHECK(hedges == u(edge["hedges"]));
    CHECK(calls == u(edge["outcomes"]["total"]));
    CHECK(retries > 0);  // the abort made the callers retry: amplification shows over time
    CHECK(saw_open);
    // Transitions per caller instance, in time order, each a change of that caller's state.
    const auto& transitions = edge["breaker_transitions"];
    REQUIRE(!transitions.empty());
    std::map<std::string, std::string> last;
    std::uint64_t t = 0;
    for (const auto& x : transitions) {
        CHECK(u(x["t_ns"]) >= t);
        t = u(x["t_ns"]);
        const std::string caller = x["instance"];
        CHECK((caller == "front-1" || caller == "front-2"));
        CHECK(x["to"] != (last.contains(caller) ? last[caller] : "closed"));
        last[caller] = x["to"];
    }
}

TEST_CASE("summary/2: an edge with a circuit breaker carries its settings, one without none") {
    const run_out r = run_text(faulty);
    const auto& b = r.summary["edges"][0]["breaker"];
    CHECK(b["failure_rate_threshold_percent"] == 50.0);
    CHECK(b["window"] == "20 calls");
    CHECK(u(b["minimum_calls"]) == 10);
    CHECK(u(b["wait_in_open_ns"]) == 300'000'000);
    CHECK(u(b["permitted_calls_in_half_open"]) == 5);
    CHECK(b.contains("slow_call_duration_threshold_ns"));
    // The same architecture without "breaker" in its edge: no settings to show.
    std::string plain = faulty;
    const std::size_t at = plain.find(",\n             \"breaker\"");
    REQUIRE(at != std::string::npos);
    plain.erase(at, plain.find("}}]", at) + 1 - at);
    const run_out p = run_text(plain);
    REQUIRE(p.summary["edges"].size() == 1);
    CHECK_FALSE(p.summary["edges"][0].contains("breaker"));
}

TEST_CASE("summary/2: calls by why their retry loop stopped, refused retries per bucket add up") {
    diagnostics diags;
    auto s = load_scenario_file(std::string(MESHSIM_SOURCE_DIR) + "/scenarios/retry_budget.json", diags);
    INFO(diags.format());
    REQUIRE(s);
    run_options options;
    options.keep_events = false;
    const run_result r = run_scenario(std::move(*s), options);
    bool budget_refused = false;
    for (const auto& edge : r.summary["edges"]) {
        std::uint64_t ended = 0, refused = 0;
        for (const auto& [why, n] : edge["call_ends"].items()) {
            CHECK(u(n) > 0);  // non-zero only
            ended += u(n);
        }
        for (const auto& b : edge["series"]) refused += u(b["retries_refused"]);
        CHECK(ended == u(edge["outcomes"]["total"]));
        const auto count = [&](const char* why) { return edge["call_ends"].value(why, std::uint64_t{0}); };
        CHECK(refused == count("budget_exhausted") + count("retry_throttled"));
        budget_refused = budget_refused || count("budget_exhausted") > 0;
    }
    CHECK(budget_refused);  // the scenario's budget does refuse retries: the check is not vacuous
}

TEST_CASE("summary/2: instance rows add up to their service and say when each instance was down") {
    const run_out r = run_text(faulty);
    const auto& back = r.summary["services"]["back"];
    const auto& instances = back["instances"];
    REQUIRE(instances.size() == 3);
    const auto& endpoint = back["endpoints"][0]["series"];
    for (std::size_t b = 0; b < endpoint.size(); ++b) {
        std::uint64_t arrivals = 0, goodput = 0, errors = 0, queue = 0;
        for (const auto& [name, row] : instances.items()) {
            const auto& x = row["series"][b];
            CHECK(u(x["t_ns"]) == u(endpoint[b]["t_ns"]));
            CHECK(sum_of(x["by_outcome"]) == u(x["goodput"]) + u(x["errors"]));
            arrivals += u(x["arrivals"]);
            goodput += u(x["goodput"]);
            errors += u(x["errors"]);
            queue = std::max(queue, u(x["queue_depth_max"]));
        }
        CHECK(arrivals == u(endpoint[b]["arrivals"]));
        CHECK(goodput == u(endpoint[b]["goodput"]));
        CHECK(errors == u(endpoint[b]["errors"]));
        CHECK(queue <= u(endpoint[b]["queue_depth_max"]));  // the service's: all instances at once
    }
    // back-2 crashed 3s..4s and, with the others, paused 4.5s..4.7s and 5s..5.2s.
    const nlohmann::json crashed = {
        {3'000'000'000, 4'000'000'000}, {4'500'000'000, 4'700'000'000}, {5'000'000'000, 5'200'000'000}};
    CHECK(instances["back-2"]["down"] == crashed);
    const nlohmann::json paused = {{4'500'000'000, 4'700'000'000}, {5'000'000'000, 5'200'000'000}};
    CHECK(instances["back-1"]["down"] == paused);
    CHECK(instances["back-3"]["down"] == paused);
    CHECK(r.summary["services"]["front"]["instances"]["front-1"]["down"].empty());
    // While down, back-2 served nothing.
    CHECK(u(instances["back-2"]["series"][7]["arrivals"]) == 0);
    CHECK(u(instances["back-1"]["series"][7]["arrivals"]) > 0);
}

TEST_CASE("summary/2: faults are scenario entries with the kernel's ids and times") {
    const run_out r = run_text(faulty);
    const auto& faults = r.summary["faults"];
    // One entry per occurrence and target: abort x3 instances, crash, pause x3 x2, slow,
    // clock, link, 2 partitions, delay x3.
    REQUIRE(faults.size() == 3 + 1 + 6 + 1 + 1 + 1 + 2 + 3);
    // The ids and times are those of the fault events.
    std::map<std::uint64_t, std::pair<std::int64_t, std::int64_t>> events;  // id -> start, end
    for (const auto& e : r.fault_events) {
        auto& slot = events[e.a];
        (e.kind == sim::event_kind::fault_start ? slot.first : slot.second) = (e.at - sim::time_zero).count();
    }
    REQUIRE(events.size() == faults.size());
    std::uint64_t previous = 0;
    for (const auto& f : faults) {
        INFO(f.dump());
        CHECK(f["kind"].is_string());
        CHECK_FALSE(f.contains("placeable"));
        CHECK_FALSE(f.contains("node"));
        const std::uint64_t id = u(f["id"]);
        CHECK(id > previous);  // start order
        previous = id;
        REQUIRE(events.contains(id));
        CHECK(f["start_ns"].get<std::int64_t>() == events[id].first);
        if (f["end_ns"].is_null()) {
            CHECK(events[id].second == 0);
            CHECK_FALSE(f.contains("for"));
        } else {
            CHECK(f["end_ns"].get<std::int64_t>() == events[id].second);
        }
    }
    const auto find = [&](const std::string& kind) {
        for (const auto& f : faults) {
            if (f["kind"] == kind) return f;
        }
        FAIL("no " << kind);
        return nlohmann::json();
    };
    auto crash = find("crash");
    crash.erase("id");
    CHECK(crash == nlohmann::json{{"kind", "crash"},
                                  {"at", "3s"},
                                  {"for", "1s"},
                                  {"service", "back"},
                                  {"instance", 2},
                                  {"start_ns", 3'000'000'000},
                                  {"end_ns", 4'000'000'000}});
    auto clock = find("clock");
    CHECK(clock["offset"] == "-2s");
    CHECK(clock["end_ns"].is_null());
    auto link = find("link");
    CHECK(link["to"] == "back");
    CHECK_FALSE(link.contains("instance"));  // every instance of front
    CHECK(link["latency"] == nlohmann::json{{"dist", "uniform"}, {"min", "1ms"}, {"max", "3ms"}});
    CHECK(find("abort")["status"] == 500);
}

namespace {

// The scenario with its nemesis removed and its faults replaced by a run's faults.
std::string frozen(const std::string& text, const nlohmann::json& faults) {
    nlohmann::json s = nlohmann::json::parse(text);
    s.erase("nemesis");
    s["faults"] = faults;
    return s.dump();
}

// A run's faults without the ids (same schedule, ids may come in another order at one instant).
nlohmann::json schedule_of(nlohmann::json faults) {
    for (auto& f : faults) f.erase("id");
    std::sort(faults.begin(), faults.end(), [](const auto& a, const auto& b) { return a.dump() < b.dump(); });
    return faults;
}

}  // namespace

TEST_CASE("summary/2: a run's faults, nemesis included, paste into a scenario and give the same schedule") {
    const std::string text = R"({
  "name": "frozen", "duration": "12s",
  "services": [
    {"name": "api", "instances": 2, "concurrency": 64,
     "endpoints": [{"path": "/x", "service_time": "100us", "calls": [{"service": "store", "endpoint": "/x"}]}]},
    {"name": "store", "instances": 3, "concurrency": 16,
     "endpoints": [{"path": "/x", "service_time": {"dist": "exponential", "mean": "1ms"}}]}
  ],
  "edges": [{"from": "api", "to": "store", "timeout": "50ms", "retry": {"max_attempts": 2}}],
  "workloads": [{"name": "w", "service": "api", "endpoint": "/x", "open": {"rate_per_s": 100}}],
  "faults": [{"kind": "crash", "service": "api", "instance": 2, "at": "1s", "for": "500ms", "restart": false},
             {"kind": "partition", "shape": "groups", "groups": [["api"], ["store"]], "at": "1500ms", "for": "1s"}],
  "nemesis": {"mode": "swarm", "start": "2s", "stop": "11s", "fault_length": "700ms", "interval": "1s",
              "kinds": ["crash", "pause", "slow", "clock", "link", "partition", "abort", "delay"]},
  "expectations": [{"check": "goodput", "workload": "w", "min_ratio": 0.0}]
})";
    std::set<std::string> kinds;
    for (const std::uint64_t seed : {1, 2, 3, 4, 5, 6}) {
        INFO("seed " << seed);
        const run_out first = run_text(text, seed);
        const nlohmann::json& faults = first.summary["faults"];
        REQUIRE(faults.size() > 2);
        for (const auto& f : faults) {
            CHECK_FALSE(f.contains("placeable"));
            kinds.insert(f["kind"].get<std::string>());
        }
        // Pasted as they are (ids and times included): it loads and runs the same faults.
        const run_out again = run_text(frozen(text, faults), seed);
        CHECK(schedule_of(again.summary["faults"]) == schedule_of(faults));
    }
    CHECK(kinds.size() >= 6);  // the swarm drew most kinds over the seeds
}

TEST_CASE("summary/2: fault entries pasted back are read like any fault: bad ones are located errors") {
    const auto load = [](const std::string& fault) {
        const std::string text = R"({"name": "x", "duration": "2s",
          "services": [{"name": "a", "instances": 2, "endpoints": [{"path": "/x", "service_time": "1ms"}]}],
          "workloads": [{"name": "w", "service": "a", "endpoint": "/x", "open": {"rate_per_s": 10}}],
          "faults": [)" + fault + "]}";
        diagnostics diags;
        const auto s = load_scenario_text(text, "x.json", diags);
        return std::make_pair(s.has_value(), diags.format());
    };
    // What summary.json adds is ignored when read.
    CHECK(load(R"({"kind": "pause", "service": "a", "at": "1s", "id": 7, "start_ns": 1, "end_ns": null})").first);
    CHECK(load(R"({"kind": "clock", "service": "a", "at": "1s", "offset": "-1500ms"})").first);
    struct bad_case {
        std::string fault;
        std::string says;
    };
    const std::vector<bad_case> table = {
        // An occurrence no entry could place does not load: it says so, not silently.
        {R"({"kind": "pause", "service": "a", "at": "1s", "placeable": false})", "placeable"},
        {R"({"kind": "pause", "node": "a-1", "at": "1s"})", "node"},
        {R"({"kind": "pause", "service": "a-1", "at": "1s"})", "a-1"},
        {R"({"kind": "pause", "service": "a", "instance": 3, "at": "1s"})", "instance"},
        {R"({"kind": "slowness", "service": "a", "at": "1s", "factor": 2})", "slow"},
        {R"({"kind": "crash", "service": "a", "at": "1s", "restart_at_end": false})", "restart_at_end"},
        {R"({"kind": "clock", "service": "a", "at": "1s", "offset": 5})", "unit"},
        // A negative clock offset is read (a nemesis draws them); a malformed one is an error.
        {R"({"kind": "clock", "service": "a", "at": "1s", "offset": "--2s"})", "offset"},
        {R"({"kind": "clock", "service": "a", "at": "1s", "offset": "-"})", "offset"},
        {R"({"kind": "clock", "service": "a", "at": "1s", "offset": "-5"})", "unit"},
        {R"({"kind": "clock", "service": "a", "at": "1s", "offset": "-876001h"})", "offset"},
    };
    for (const bad_case& c : table) {
        INFO(c.fault);
        const auto [loaded, says] = load(c.fault);
        INFO(says);
        CHECK_FALSE(loaded);
        CHECK(says.find(c.says) != std::string::npos);
    }
}

TEST_CASE("summary/2: a convergence check's lag_series follows the replication lag per bucket") {
    const run_out r = run_text(R"({
  "name": "lag", "duration": "8s", "bucket": "1s",
  "services": [
    {"name": "orders", "endpoints": [{"path": "/o", "method": "POST", "service_time": "1ms",
      "write": {"publish": "outbox", "publish_to": [{"service": "search", "endpoint": "/index"}]}}]},
    {"name": "search", "endpoints": [{"path": "/index", "method": "POST", "service_time": "500us", "replica": true}]}
  ],
  "edges": [{"from": "orders", "to": "search", "timeout": "50ms"}],
  "workloads": [{"name": "w", "service": "orders", "endpoint": "/o", "stop": "6s", "open": {"rate_per_s": 20}}],
  "faults": [{"kind": "partition", "shape": "one_way", "from": ["orders"], "to": ["search"], "at": "2s", "for": "2s"}],
  "expectations": [{"check": "convergence", "service": "orders", "replicas": ["search"], "within": "3s"}]
})");
    const auto& check = r.summary["checks"][0];
    INFO(check.dump());
    REQUIRE(check.contains("lag_series"));
    const auto& lag = check["lag_series"];
    REQUIRE(lag.size() == 8);
    for (std::size_t i = 0; i < lag.size(); ++i) CHECK(u(lag[i]["t_ns"]) == i * 1'000'000'000);
    // Before the partition records arrive within a bucket; during it they pile up and
    // the oldest one's lag grows; after it heals the replica catches up.
    CHECK(lag[0]["max_lag_ms"].get<double>() < 100);
    CHECK(u(lag[2]["pending"]) > 10);
    CHECK(u(lag[3]["pending"]) > u(lag[2]["pending"]));
    CHECK(lag[3]["max_lag_ms"].get<double>() > 1500);
    CHECK(u(lag[7]["pending"]) == 0);
    CHECK(check["passed"].get<bool>());
    CHECK(check["first_failed_ns"].is_null());
}
