// Chaos properties of the practices, end to end through scenario runs: for any
// seed and any fault schedule rapidcheck draws, a service that syncs before it
// answers loses no acknowledged write, a deduplicating service applies no effect
// twice, and an outbox's replica converges once the partition heals. Each property
// also has its counterpart: without the practice the checker does catch a failure
// for some schedule, so the checkers are not vacuous.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <string>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim::harness;

namespace {

// A failed check's "measured", or "pass".
std::string verdict_of(const std::string& text) {
    diagnostics diags;
    auto s = load_scenario_text(text, "chaos.json", diags);
    if (!s) return "bad scenario: " + diags.format();
    run_options options;
    options.keep_events = false;
    const run_result r = run_scenario(std::move(*s), options);
    if (!r.setup_errors.empty()) return "setup: " + r.setup_errors.front();
    for (const auto& c : r.summary["checks"]) {
        if (!c["passed"].get<bool>()) return c["check"].get<std::string>() + ": " + c["measured"].get<std::string>();
    }
    return "pass";
}

std::string ms(int n) { return std::to_string(n) + "ms"; }

// Writes at 300/s to `instances` instances, which crash at `crash_at` for `down` each.
std::string durable_writes(std::uint64_t seed, const std::string& sync, int instances, int crash_at, int down) {
    return R"({"name": "chaos-durable", "seed": )" + std::to_string(seed) + R"(, "duration": "3s",
  "services": [{"name": "orders", "instances": )" +
           std::to_string(instances) + R"(, "concurrency": 8,
    "endpoints": [{"path": "/o", "method": "POST", "service_time": {"dist": "exponential", "mean": "2ms"},
                   "write": )" +
           sync + R"(}]}],
  "workloads": [{"name": "w", "service": "orders", "endpoint": "/o", "open": {"rate_per_s": 300},
                 "client": {"timeout": "50ms", "retry": {"max_attempts": 3, "backoff_base": "10ms"}}}],
  "faults": [{"kind": "crash", "service": "orders", "at": ")" +
           ms(crash_at) + R"(", "for": ")" + ms(down) + R"("}],
  "expectations": [{"check": "no_lost_writes", "service": "orders"}]})";
}

std::string idempotent_writes(std::uint64_t seed, bool dedupe, int delay_ms, int delay_percent) {
    return R"({"name": "chaos-idempotent", "seed": )" + std::to_string(seed) + R"(, "duration": "3s",
  "services": [{"name": "payments", "concurrency": 16,
    "endpoints": [{"path": "/charge", "method": "POST", "service_time": {"dist": "exponential", "mean": "3ms"},
                   "write": {"dedupe": )" +
           (dedupe ? "true" : "false") + R"(}}]}],
  "workloads": [{"name": "w", "service": "payments", "endpoint": "/charge", "open": {"rate_per_s": 200},
                 "client": {"timeout": "30ms", "deadline": "2s", "retry": {"max_attempts": 4, "backoff_base": "5ms"}}}],
  "faults": [{"kind": "delay", "service": "payments", "delay": ")" +
           ms(delay_ms) + R"(", "probability": )" + std::to_string(delay_percent / 100.0) + R"(, "at": "0s"}],
  "expectations": [{"check": "no_duplicate_effects", "service": "payments"}]})";
}

std::string replicated_writes(std::uint64_t seed, const std::string& publish, int cut_at, int cut_for) {
    return R"({"name": "chaos-outbox", "seed": )" + std::to_string(seed) + R"(, "duration": "6s",
  "services": [
    {"name": "orders", "instances": 2, "concurrency": 8,
     "endpoints": [{"path": "/o", "method": "POST", "service_time": "1ms",
                    "write": {"publish": ")" +
           publish + R"(", "publish_to": [{"service": "search", "endpoint": "/index"}]}}]},
    {"name": "search", "instances": 2, "concurrency": 8,
     "endpoints": [{"path": "/index", "method": "POST", "service_time": "500us", "replica": true}]}],
  "edges": [{"from": "orders", "to": "search", "timeout": "30ms", "retry": {"max_attempts": 2, "backoff_base": "5ms"}}],
  "workloads": [{"name": "w", "service": "orders", "endpoint": "/o", "open": {"rate_per_s": 100}, "stop": "4s"}],
  "faults": [{"kind": "partition", "shape": "one_way", "from": ["orders"], "to": ["search"], "at": ")" +
           ms(cut_at) + R"(", "for": ")" + ms(cut_for) + R"("}],
  "expectations": [{"check": "convergence", "service": "orders", "replicas": ["search"], "within": "1s"}]})";
}

}  // namespace

TEST_CASE("syncing before the answer loses no acknowledged write, whatever the crash", "[harness][chaos]") {
    rc::prop("no_lost_writes holds", [] {
        const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
        const int instances = *rc::gen::inRange(1, 4);
        const int crash_at = *rc::gen::inRange(100, 2500);
        const int down = *rc::gen::inRange(1, 500);
        RC_ASSERT(verdict_of(durable_writes(seed, R"({"sync": "before_ack"})", instances, crash_at, down)) == "pass");
    });
    // Without the practice the same checker fails: acknowledged, not yet synced, crashed.
    const std::string periodic = R"({"sync": "periodic", "sync_interval": "200ms"})";
    CHECK(verdict_of(durable_writes(1, periodic, 1, 1150, 100)).starts_with("no_lost_writes: "));
}

TEST_CASE("deduplicating by idempotency key applies every charge once, whatever the delays", "[harness][chaos]") {
    rc::prop("no_duplicate_effects holds", [] {
        const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
        const int delay = *rc::gen::inRange(1, 200);
        const int percent = *rc::gen::inRange(1, 101);
        RC_ASSERT(verdict_of(idempotent_writes(seed, true, delay, percent)) == "pass");
    });
    CHECK(verdict_of(idempotent_writes(1, false, 60, 20)).starts_with("no_duplicate_effects: "));
}

TEST_CASE("an outbox's replica converges after any partition, a dual write's does not", "[harness][chaos]") {
    rc::prop("convergence holds with an outbox", [] {
        const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
        const int cut_at = *rc::gen::inRange(0, 3000);
        const int cut_for = *rc::gen::inRange(1, 1500);
        RC_ASSERT(verdict_of(replicated_writes(seed, "outbox", cut_at, cut_for)) == "pass");
    });
    CHECK(verdict_of(replicated_writes(1, "dual_write", 1000, 1000)).starts_with("convergence: "));
}
