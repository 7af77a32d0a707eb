// The operations group's kinds and actions end to end through scenario runs:
// discovery through a registry (a crashed instance leaves by the TTL, callers live
// on their cached lists while the registry is away), and each one under a crash.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim;
using namespace meshsim::harness;

namespace {

struct event_seen {
    sim::time_point at;
    std::string node;
    std::string detail;
};

struct outcome {
    nlohmann::json summary;
    std::vector<event_seen> states;  // state changes and log lines
};

outcome run_text(const std::string& text) {
    diagnostics diags;
    auto s = load_scenario_text(text, "operations.json", diags);
    INFO(diags.format());
    REQUIRE(s);
    outcome out;
    run_options options;
    options.keep_events = false;
    options.on_event = [&out](const sim::trace_event& e, const std::string* node) {
        if (e.kind == sim::event_kind::state || e.kind == sim::event_kind::log ||
            e.kind == sim::event_kind::node_start || e.kind == sim::event_kind::node_crash)
            out.states.push_back({e.at, node ? *node : "", e.detail});
    };
    run_result r = run_scenario(std::move(*s), options);
    REQUIRE(r.setup_errors.empty());
    out.summary = std::move(r.summary);
    return out;
}

// Errors of a workload per bucket (bucket 1s).
std::vector<std::uint64_t> errors_per_second(const outcome& o, const std::string& workload) {
    std::vector<std::uint64_t> errors;
    for (const auto& b : o.summary["workloads"][workload]["series"]) errors.push_back(b["errors"].get<std::uint64_t>());
    return errors;
}

std::uint64_t sum(const std::vector<std::uint64_t>& v, std::size_t from, std::size_t to) {
    std::uint64_t n = 0;
    for (std::size_t i = from; i < to && i < v.size(); ++i) n += v[i];
    return n;
}

// First event at or after `from` whose detail starts with `prefix` (time_never if none).
sim::time_point first(const outcome& o, const std::string& prefix, sim::time_point from = sim::time_zero) {
    for (const auto& e : o.states) {
        if (e.at >= from && e.detail.starts_with(prefix)) return e.at;
    }
    return sim::time_never;
}

// Events whose detail starts with `prefix`, with their nodes.
std::vector<event_seen> all(const outcome& o, const std::string& prefix) {
    std::vector<event_seen> found;
    for (const auto& e : o.states) {
        if (e.detail.starts_with(prefix)) found.push_back(e);
    }
    return found;
}

sim::time_point at(sim::duration d) { return sim::time_zero + d; }
using namespace std::chrono_literals;

std::string discovery_scenario(const std::string& faults) {
    return R"({"name": "discovery", "seed": 3, "duration": "20s",
  "services": [
    {"name": "reg", "kind": "registry", "ttl": "3s", "expiry_check": "250ms"},
    {"name": "front", "concurrency": 16,
     "endpoints": [{"path": "/p", "service_time": "1ms", "calls": [{"service": "backend", "endpoint": "/i"}]}]},
    {"name": "backend", "instances": 3, "concurrency": 8,
     "discovery": {"registry": "reg", "heartbeat": "1s", "cache": "1s"},
     "endpoints": [{"path": "/i", "service_time": "2ms"}]}],
  "edges": [{"from": "front", "to": "backend", "timeout": "50ms"}],
  "workloads": [{"name": "w", "service": "front", "endpoint": "/p", "open": {"arrivals": "constant", "rate_per_s": 100}}],
  "faults": [)" +
           faults +
           R"(],
  "expectations": [{"check": "slo", "workload": "w", "window": "20s", "error_rate_max": 1}]})";
}

}  // namespace

TEST_CASE("a crashed instance leaves the registry at its TTL and the callers' lists at their next refresh",
          "[harness][kinds][operations][registry]") {
    const outcome o = run_text(discovery_scenario(R"({"kind": "crash", "service": "backend", "instance": 3,
                                                     "at": "5s", "restart": false})"));
    // Every instance registered, and the front followed the registry's list of three.
    CHECK(first(o, "registry_register {\"instance\":\"backend-3\"") < at(100ms));
    const sim::time_point expired = first(o, "registry_expired {\"instance\":\"backend-3\"");
    // Its last heartbeat was at 5s at the latest (beats every second since ~0s): expired
    // 3s later, found by a sweep every 250ms.
    CHECK(expired >= at(7s));
    CHECK(expired <= at(8250ms));
    // Lookups skip an expired instance even before the sweep logs it: the front's next
    // refresh (every second) after the TTL ran out drops it.
    const sim::time_point left = first(o, "endpoints front->backend=2", at(5s));
    CHECK(left >= at(7s));
    CHECK(left <= expired + 1s + 10ms);
    const auto errors = errors_per_second(o, "w");
    CHECK(sum(errors, 0, 5) == 0);
    CHECK(sum(errors, 5, 9) > 50);  // a third of ~100/s, for about 3s
    CHECK(sum(errors, 10, 20) == 0);
}

TEST_CASE("with the registry crashed, callers live on their cached lists", "[harness][kinds][operations][registry]") {
    const outcome o =
        run_text(discovery_scenario(R"({"kind": "crash", "service": "reg", "at": "5s", "restart": false})"));
    // The front's lookups fail from 5s on: its cache is stale, and still lists three instances.
    const sim::time_point stale = first(o, "discovery/backend=stale");
    CHECK(stale >= at(5s));
    CHECK(stale <= at(6100ms));
    CHECK(first(o, "endpoints front->backend=", at(5s)) == sim::time_never);  // the list never changed
    const auto& w = o.summary["workloads"]["w"];
    CHECK(w["outcomes"]["failed"] == 0);
    CHECK(w["outcomes"]["ok"].get<std::uint64_t>() > 1900);
}

TEST_CASE("a restarted registry relearns every instance from its heartbeats",
          "[harness][kinds][operations][registry]") {
    const outcome o = run_text(
        discovery_scenario(R"({"kind": "crash", "service": "reg", "at": "5s", "for": "2s", "restart": true})"));
    // Back at 7s with an empty table: each heartbeat gets 404 and the instance registers again.
    for (const char* instance : {"backend-1", "backend-2", "backend-3"}) {
        INFO(instance);
        const sim::time_point again =
            first(o, std::string("registry_register {\"instance\":\"") + instance + "\"", at(7s));
        CHECK(again <= at(8100ms));
    }
    // The front's first lookup after the restart (7.008s) finds the table empty: its
    // cache keeps the three instances (stale) until they registered again.
    CHECK(first(o, "endpoints front->backend=", at(5s)) == sim::time_never);
    CHECK(first(o, "discovery/backend=fresh", at(7s)) <= at(8100ms));
    CHECK(o.summary["workloads"]["w"]["outcomes"]["failed"] == 0);
}

namespace {

std::string deploy_scenario(const std::string& actions, const std::string& faults) {
    return R"({"name": "deploy", "seed": 4, "duration": "20s",
  "services": [
    {"name": "web", "concurrency": 64,
     "endpoints": [{"path": "/p", "service_time": "1ms", "calls": [{"service": "catalog", "endpoint": "/i"}]}]},
    {"name": "catalog", "instances": 4, "concurrency": 16,
     "endpoints": [{"path": "/i", "service_time": {"dist": "exponential", "mean": "50ms"}}]}],
  "default_edge": {"timeout": "1s"},
  "workloads": [{"name": "w", "service": "web", "endpoint": "/p", "open": {"arrivals": "constant", "rate_per_s": 200},
                 "client": {"timeout": "3s"}}],
  "actions": [)" +
           actions + R"(], "faults": [)" + faults + R"(],
  "expectations": [{"check": "slo", "workload": "w", "window": "20s", "error_rate_max": 1}]})";
}

std::uint64_t failed(const outcome& o) {
    return o.summary["workloads"]["w"]["outcomes"]["failed"].get<std::uint64_t>();
}

}  // namespace

TEST_CASE("a drained rolling restart loses no request, without a drain each restart fails calls",
          "[harness][kinds][operations][deploys]") {
    const outcome drained = run_text(deploy_scenario(
        R"({"kind": "rolling_restart", "service": "catalog", "at": "5s", "drain": "500ms", "startup": "1s"})", ""));
    // One instance at a time, 1.5s each: drained at 5s, 6.5s, 8s, 9.5s; each back 1.5s later.
    const auto draining = all(drained, "deploy catalog=draining");
    REQUIRE(draining.size() == 4);
    CHECK(draining[0].at == at(5s));
    CHECK(draining[0].node == "catalog-1");
    CHECK(draining[3].at == at(9500ms));
    CHECK(draining[3].node == "catalog-4");
    const auto ready = all(drained, "deploy catalog=ready");
    REQUIRE(ready.size() == 4);
    CHECK(ready[3].at == at(11s));
    CHECK(failed(drained) == 0);
    CHECK(drained.summary["workloads"]["w"]["outcomes"]["ok"].get<std::uint64_t>() > 3900);

    const outcome abrupt = run_text(deploy_scenario(
        R"({"kind": "rolling_restart", "service": "catalog", "at": "5s", "drain": "0s", "startup": "1s"})", ""));
    CHECK(all(abrupt, "deploy catalog=draining").empty());
    // About a quarter of 200/s for 1s per instance, and the requests in hand.
    CHECK(failed(abrupt) > 150);
}

TEST_CASE("a rolling restart brings back an instance that crashed before its turn",
          "[harness][kinds][operations][deploys]") {
    const outcome o = run_text(deploy_scenario(
        R"({"kind": "rolling_restart", "service": "catalog", "at": "5s", "drain": "500ms", "startup": "1s"})",
        R"({"kind": "crash", "service": "catalog", "instance": 3, "at": "2s", "restart": false})"));
    // catalog-3 is down from 2s; its turn (drain at 8s, start at 9.5s) starts it again.
    CHECK(first(o, "deploy catalog=ready", at(9s)) == at(9500ms));
    const auto ready = all(o, "deploy catalog=ready");
    REQUIRE(ready.size() == 4);
    CHECK(ready[2].node == "catalog-3");
    // Calls to catalog-3 failed from 2s until the deploy took it out of the pool at 8s,
    // and none after it came back.
    const auto errors = errors_per_second(o, "w");
    CHECK(sum(errors, 0, 2) == 0);
    CHECK(sum(errors, 3, 8) > 100);
    CHECK(sum(errors, 10, 20) == 0);
}

TEST_CASE("a blue/green switch moves every call to green at once, blue stops after its drain",
          "[harness][kinds][operations][deploys]") {
    const outcome o = run_text(
        deploy_scenario(R"({"kind": "blue_green", "service": "catalog", "at": "8s", "drain": "1s"})",
                        R"({"kind": "crash", "service": "catalog", "instance": 4, "at": "12s", "for": "1s"})"));
    const auto live = all(o, "deploy catalog=live (green)");
    REQUIRE(live.size() == 2);
    CHECK(live[0].node == "catalog-3");
    CHECK(live[0].at == at(8s));
    const auto stopped = all(o, "deploy catalog=stopped (blue)");
    REQUIRE(stopped.size() == 2);
    CHECK(stopped[0].at == at(9s));
    // No call failed across the switch; the crash of a green instance fails calls (no retries).
    const auto errors = errors_per_second(o, "w");
    CHECK(sum(errors, 0, 12) == 0);
    CHECK(sum(errors, 12, 14) > 20);
    CHECK(sum(errors, 15, 20) == 0);
}

TEST_CASE("a flag's rollout percentage changes an endpoint's behaviour per request, crash or not",
          "[harness][kinds][operations][flags]") {
    const std::string text = R"({"name": "flag", "seed": 8, "duration": "30s",
  "services": [{"name": "api", "instances": 2, "concurrency": 32,
    "endpoints": [{"path": "/x", "service_time": "1ms", "flag": {"name": "f", "error_rate": 1, "error_status": 503}}]}],
  "workloads": [{"name": "w", "service": "api", "endpoint": "/x", "open": {"arrivals": "constant", "rate_per_s": 1000}}],
  "actions": [{"kind": "flag", "name": "f", "rollout": [{"at": "10s", "percent": 10}, {"at": "20s", "percent": 50}]}],
  "faults": [{"kind": "crash", "service": "api", "instance": 1, "at": "25s", "for": "1s"}],
  "expectations": [{"check": "slo", "workload": "w", "window": "30s", "error_rate_max": 1}]})";
    const outcome o = run_text(text);
    CHECK(first(o, "flag f=10%") == at(10s));
    CHECK(first(o, "flag f=50%") == at(20s));
    const auto errors = errors_per_second(o, "w");
    CHECK(sum(errors, 0, 10) == 0);
    const auto ten = sum(errors, 10, 20);  // 10% of 10,000
    CHECK(ten > 850);
    CHECK(ten < 1150);
    const auto fifty = sum(errors, 20, 25);  // 50% of 5,000
    CHECK(fifty > 2300);
    CHECK(fifty < 2700);
    const auto& by_status = o.summary["services"]["api"]["endpoints"][0]["outcomes"]["by_status"];
    CHECK(by_status["503"].get<std::uint64_t>() >= ten + fifty);
}

namespace {
std::string autoscaler_scenario(const std::string& faults) {
    return R"({"name": "scale", "seed": 2, "duration": "40s",
  "services": [
    {"name": "front", "concurrency": 256,
     "endpoints": [{"path": "/a", "service_time": "1ms", "calls": [{"service": "backend", "endpoint": "/w"}]}]},
    {"name": "backend", "instances": 6, "concurrency": 4,
     "endpoints": [{"path": "/w", "service_time": {"dist": "exponential", "mean": "10ms"}}]},
    {"name": "scaler", "kind": "autoscaler", "service": "backend", "min": 2, "cooldown": "2s"}],
  "edges": [{"from": "front", "to": "backend", "timeout": "500ms"}],
  "workloads": [{"name": "w", "service": "front", "endpoint": "/a",
                 "open": {"arrivals": "poisson", "rate_per_s": 300,
                          "schedule": [{"kind": "spike", "at": "10s", "for": "10s", "rate_per_s": 1500}]}}],
  "faults": [)" +
           faults + R"(],
  "expectations": [{"check": "slo", "workload": "w", "window": "40s", "error_rate_max": 1}]})";
}
}  // namespace

TEST_CASE("an autoscaler starts held-back instances under a spike and stops them after it",
          "[harness][kinds][operations][autoscaler]") {
    const outcome o = run_text(autoscaler_scenario(""));
    // backend-3.. are held back: only two run until the spike.
    CHECK(first(o, "autoscaler backend=starting") > at(10s));
    const auto starting = all(o, "autoscaler backend=starting");
    CHECK(starting.size() >= 2);
    CHECK(first(o, "autoscaler backend=ready") == first(o, "autoscaler backend=starting") + 1s);
    // After the spike it scales back down to min (2), one at a time.
    const auto stopped = all(o, "autoscaler backend=stopped");
    CHECK(stopped.size() == starting.size());
    CHECK(first(o, "autoscaler backend=draining") > at(20s));
    CHECK(o.summary["workloads"]["w"]["outcomes"]["failed"].get<std::uint64_t>() < 500);
}

TEST_CASE("a crashed autoscaler freezes the fleet, restarted, it carries on from the pool",
          "[harness][kinds][operations][autoscaler]") {
    const outcome frozen =
        run_text(autoscaler_scenario(R"({"kind": "crash", "service": "scaler", "at": "5s", "restart": false})"));
    CHECK(all(frozen, "autoscaler backend=").empty());  // two instances through the spike
    const auto frozen_failed = frozen.summary["workloads"]["w"]["outcomes"]["failed"].get<std::uint64_t>();
    CHECK(frozen_failed > 2000);

    const outcome back =
        run_text(autoscaler_scenario(R"({"kind": "crash", "service": "scaler", "at": "5s", "for": "7s"})"));
    // Down until 12s: the spike (from 10s) is met late, but met.
    CHECK(first(back, "autoscaler backend=starting") > at(12s));
    CHECK(all(back, "autoscaler backend=starting").size() >= 2);
    const auto back_failed = back.summary["workloads"]["w"]["outcomes"]["failed"].get<std::uint64_t>();
    CHECK(back_failed < frozen_failed);
}
