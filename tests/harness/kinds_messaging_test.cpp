// The messaging service kinds (broker, consumer, job_queue, worker) from scenario
// text: their behaviour under a crash of one of their nodes, judged on the
// checkers' verdicts and on the events the kinds log (redeliveries, deduplicated
// events, dead letters), and their bad input.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim;
using namespace meshsim::harness;

namespace {

struct outcome {
    std::map<std::string, std::string> checks;       // check label -> "pass" or what it measured
    std::map<std::string, std::uint64_t> logs;       // log event name -> count
    std::map<std::string, std::uint64_t> log_after;  // ... at or after `after`
    std::uint64_t workload_ok = 0;
};

outcome run_text(const std::string& text, sim::time_point after = sim::time_point{}) {
    diagnostics diags;
    auto s = load_scenario_text(text, "messaging.json", diags);
    INFO(diags.format());
    REQUIRE(s);
    run_options options;
    const run_result r = run_scenario(std::move(*s), options);
    REQUIRE(r.setup_errors.empty());
    outcome o;
    for (const auto& c : r.summary["checks"]) {
        o.checks[c["check"].get<std::string>()] = c["passed"].get<bool>() ? "pass" : c["measured"].get<std::string>();
    }
    for (const sim::trace_event& e : r.sim->trace().events()) {
        if (e.kind != sim::event_kind::log) continue;
        const std::string name = e.detail.substr(0, e.detail.find(' '));
        ++o.logs[name];
        if (e.at >= after) ++o.log_after[name];
    }
    return o;
}

sim::time_point at_ms(int ms) { return sim::time_point{} + sim::milliseconds(ms); }

// Orders publish to topic "orders" of a broker; an indexer consumes it. `faults` is a JSON array.
std::string stream(bool dedupe, const std::string& faults, int broker_instances = 1) {
    return R"({"name": "stream", "duration": "4s",
  "services": [
    {"name": "orders", "concurrency": 16,
     "endpoints": [{"path": "/o", "method": "POST", "service_time": "1ms",
                    "write": {"publish_to": [{"service": "bus", "endpoint": "/broker/publish", "topic": "orders"}]}}]},
    {"name": "bus", "kind": "broker", "instances": )" +
           std::to_string(broker_instances) + R"(, "ack_timeout": "300ms"},
    {"name": "indexer", "kind": "consumer", "broker": "bus", "topic": "orders", "service_time": "9ms",
     "poll_interval": "10ms", "dedupe": )" +
           (dedupe ? "true" : "false") + R"(}],
  "edges": [{"from": "orders", "to": "bus", "timeout": "50ms"}],
  "workloads": [{"name": "w", "service": "orders", "endpoint": "/o", "open": {"rate_per_s": 100},
                 "client": {"timeout": "500ms"}}],
  "faults": )" +
           faults + R"(,
  "expectations": [
    {"check": "no_duplicate_effects", "service": "indexer"},
    {"check": "convergence", "service": "orders", "replicas": ["indexer"], "within": "1s"},
    {"check": "no_lost_writes", "service": "orders"}]})";
}

// A consumer crash at 1.5s that hits a batch between its effects and its ack.
const std::string consumer_crash = R"([{"kind": "crash", "service": "indexer", "at": "1503ms", "for": "200ms"}])";

}  // namespace

TEST_CASE("a consumer crashed mid-batch gets the unacked events again, dedupe applies each once",
          "[harness][kinds][messaging]") {
    outcome with = run_text(stream(true, consumer_crash), at_ms(1503));
    CHECK(with.checks["no_duplicate_effects"] == "pass");
    CHECK(with.checks["convergence"] == "pass");
    CHECK(with.checks["no_lost_writes"] == "pass");
    // Not vacuous: the broker handed the unacked batch out again after the lease ran out,
    // and the restarted consumer recognised events it had applied before the crash.
    CHECK(with.log_after["broker_redeliver"] >= 1);
    CHECK(with.log_after["consume_deduplicated"] >= 1);
    CHECK(with.logs["consumed"] > 300);

    outcome without = run_text(stream(false, consumer_crash));
    CHECK(without.checks["no_duplicate_effects"].find(" 0 more than once") == std::string::npos);
    CHECK(without.checks["no_duplicate_effects"] != "pass");
    CHECK(without.checks["convergence"] == "pass");  // at least once: nothing is missing, only repeated
}

TEST_CASE("a broker crash loses no acknowledged event: consumers catch up after its restart",
          "[harness][kinds][messaging]") {
    outcome o =
        run_text(stream(true, R"([{"kind": "crash", "service": "bus", "at": "1500ms", "for": "500ms"}])"), at_ms(2000));
    CHECK(o.checks["convergence"] == "pass");
    CHECK(o.checks["no_duplicate_effects"] == "pass");
    // The log survived: events appended before the crash and after the restart all reached the indexer.
    CHECK(o.logs["broker_append"] >= o.logs["consumed"]);
    CHECK(o.log_after["consumed"] > 100);
}

TEST_CASE("a broker of two partitions keeps serving while one is down", "[harness][kinds][messaging]") {
    const std::string faults = R"([{"kind": "crash", "service": "bus", "instance": 2, "at": "1s", "for": "1s"}])";
    std::string text = stream(true, faults, 2);
    // Producers retry a refused publish on the other partition.
    const std::string edge = R"("timeout": "50ms"})";
    text.replace(text.find(edge), edge.size(), R"("timeout": "50ms", "retry": {"max_attempts": 3}})");
    outcome o = run_text(text, at_ms(1000));
    CHECK(o.checks["convergence"] == "pass");
    CHECK(o.checks["no_lost_writes"] == "pass");
    CHECK(o.checks["no_duplicate_effects"] == "pass");
    CHECK(o.logs["consumed"] > 300);
}

namespace {

std::string jobs(bool dedupe, double poison, const std::string& faults, const std::string& visibility = "500ms") {
    return R"({"name": "jobs", "duration": "5s",
  "services": [
    {"name": "q", "kind": "job_queue", "max_attempts": 3, "in_flight": 8, "backoff_base": "20ms",
     "backoff_max": "100ms", "visibility_timeout": ")" +
           visibility + R"("},
    {"name": "w", "kind": "worker", "instances": 2, "queue": "q", "concurrency": 2, "service_time": "30ms",
     "poll_interval": "10ms", "poison_rate": )" +
           std::to_string(poison) + R"(, "dedupe": )" + (dedupe ? "true" : "false") + R"(}],
  "workloads": [{"name": "c", "service": "q", "endpoint": "/jobs", "open": {"rate_per_s": 50, "arrivals": "constant"},
                 "stop": "3s", "client": {"timeout": "200ms", "retry": {"max_attempts": 3, "backoff_base": "50ms"}}}],
  "faults": )" +
           faults + R"(,
  "expectations": [
    {"check": "no_lost_writes", "service": "q"},
    {"check": "no_duplicate_effects", "service": "w", "allow_empty": true}]})";
}

}  // namespace

TEST_CASE("a job queue crash loses no accepted job: the interrupted ones run after the restart",
          "[harness][kinds][messaging]") {
    outcome o =
        run_text(jobs(true, 0, R"([{"kind": "crash", "service": "q", "at": "1s", "for": "300ms"}])"), at_ms(1300));
    CHECK(o.checks["no_lost_writes"] == "pass");
    CHECK(o.checks["no_duplicate_effects"] == "pass");
    CHECK(o.logs["job_enqueued"] > 100);
    // Every accepted job ran to completion, some of them after the restart.
    CHECK(o.logs["job_done"] == o.logs["job_enqueued"]);
    CHECK(o.log_after["job_done"] > 0);
    CHECK(o.logs["job_dead_lettered"] == 0);
}

TEST_CASE("a worker crash with jobs in hand: they time out and run again, deduplicated",
          "[harness][kinds][messaging]") {
    // The 30ms jobs outlive a 5ms visibility timeout: every job runs more than once.
    outcome slow = run_text(jobs(true, 0, "[]", "5ms"));
    CHECK(slow.checks["no_duplicate_effects"] == "pass");
    CHECK(slow.logs["job_deduplicated"] > 0);
    outcome slow_without = run_text(jobs(false, 0, "[]", "5ms"));
    CHECK(slow_without.checks["no_duplicate_effects"] != "pass");

    outcome crash = run_text(
        jobs(true, 0, R"([{"kind": "crash", "service": "w", "instance": 1, "at": "1005ms", "for": "500ms"}])"));
    CHECK(crash.checks["no_duplicate_effects"] == "pass");
    CHECK(crash.checks["no_lost_writes"] == "pass");
    CHECK(crash.logs["job_failed"] > 0);  // the attempts in hand at the crash
    CHECK(crash.logs["job_done"] == crash.logs["job_enqueued"]);
}

TEST_CASE("a poison job ends in the dead-letter queue after max_attempts", "[harness][kinds][messaging]") {
    outcome all = run_text(jobs(true, 1.0, "[]"));
    CHECK(all.logs["job_enqueued"] > 100);
    CHECK(all.logs["job_dead_lettered"] == all.logs["job_enqueued"]);
    CHECK(all.logs["job_failed"] == 3 * all.logs["job_enqueued"]);  // max_attempts 3 each
    CHECK(all.logs["job_done"] == 0);
    CHECK(all.logs["job_effect"] == 0);
    outcome some = run_text(jobs(true, 0.1, "[]"));
    CHECK(some.logs["job_dead_lettered"] > 0);
    CHECK(some.logs["job_dead_lettered"] < some.logs["job_enqueued"] / 4);
    CHECK(some.logs["job_done"] + some.logs["job_dead_lettered"] == some.logs["job_enqueued"]);
}

namespace {

std::string hooks(int max_attempts, const std::string& faults) {
    return R"({"name": "hooks", "duration": "6s",
  "services": [
    {"name": "orders", "concurrency": 16,
     "endpoints": [{"path": "/o", "method": "POST", "service_time": "1ms",
                    "write": {"publish_to": [{"service": "hooks", "endpoint": "/webhooks/publish"}]}}]},
    {"name": "hooks", "kind": "webhook", "subscribers": [{"service": "partner", "endpoint": "/cb"}],
     "max_attempts": )" +
           std::to_string(max_attempts) + R"(, "in_flight": 8, "backoff_base": "50ms", "backoff_max": "500ms",
     "delivery_timeout": "100ms"},
    {"name": "partner", "endpoints": [{"path": "/cb", "method": "POST", "replica": true}]}],
  "edges": [{"from": "orders", "to": "hooks", "timeout": "50ms", "retry": {"max_attempts": 3}}],
  "workloads": [{"name": "w", "service": "orders", "endpoint": "/o", "open": {"rate_per_s": 50}, "stop": "4s"}],
  "faults": )" +
           faults + R"(,
  "expectations": [{"check": "convergence", "service": "orders", "replicas": ["partner"], "within": "2s"},
                   {"check": "no_lost_writes", "service": "orders"}]})";
}

}  // namespace

TEST_CASE("webhook deliveries to a crashed subscriber are retried until it accepts them",
          "[harness][kinds][messaging]") {
    const std::string down = R"([{"kind": "crash", "service": "partner", "at": "1s", "for": "1500ms"}])";
    outcome patient = run_text(hooks(20, down), at_ms(2500));
    CHECK(patient.checks["convergence"] == "pass");
    CHECK(patient.logs["job_failed"] > 0);  // not vacuous: deliveries did fail while it was down
    CHECK(patient.logs["job_dead_lettered"] == 0);
    CHECK(patient.logs["job_done"] == patient.logs["webhook_queued"]);
    CHECK(patient.log_after["job_done"] > 0);
    // Giving up after 2 attempts dead-letters what fell due during the outage.
    outcome impatient = run_text(hooks(2, down));
    CHECK(impatient.checks["convergence"] != "pass");
    CHECK(impatient.logs["job_dead_lettered"] > 10);
}

TEST_CASE("a webhook service crash keeps its queued deliveries", "[harness][kinds][messaging]") {
    // The subscriber is down first, so deliveries are queued when the webhook service crashes.
    outcome o = run_text(hooks(20, R"([{"kind": "crash", "service": "partner", "at": "1s", "for": "1s"},
                                       {"kind": "crash", "service": "hooks", "at": "1500ms", "for": "300ms"}])"),
                         at_ms(1800));
    CHECK(o.checks["convergence"] == "pass");
    CHECK(o.checks["no_lost_writes"] == "pass");
    CHECK(o.log_after["job_done"] > 20);  // queued before the crash, delivered after the restart
    CHECK(o.logs["job_dead_lettered"] == 0);
}

namespace {

// orders dual-write to search; a partition loses the events published during it.
std::string reconciled(bool with_reconciler, const std::string& extra_faults) {
    return std::string(R"({"name": "reconcile", "duration": "6s",
  "services": [
    {"name": "orders", "concurrency": 16,
     "endpoints": [{"path": "/o", "method": "POST", "service_time": "1ms",
                    "write": {"publish": "dual_write", "publish_to": [{"service": "search", "endpoint": "/index"}]}}]},
    {"name": "search", "instances": 2, "endpoints": [{"path": "/index", "method": "POST", "replica": true}]})") +
           (with_reconciler ? R"(,
    {"name": "repair", "kind": "reconciler", "source": "orders", "replica": "search", "endpoint": "/index",
     "interval": "300ms", "page_size": 7})"
                            : "") +
           R"(],
  "edges": [{"from": "orders", "to": "search", "timeout": "50ms"}],
  "workloads": [{"name": "w", "service": "orders", "endpoint": "/o", "open": {"rate_per_s": 50}}],
  "faults": [{"kind": "partition", "shape": "one_way", "from": ["orders"], "to": ["search"], "at": "1s", "for": "1s"})" +
           extra_faults + R"(],
  "expectations": [{"check": "convergence", "service": "orders", "replicas": ["search"], "within": "1s"}]})";
}

std::uint64_t repairs(const std::string& text) {
    diagnostics diags;
    auto s = load_scenario_text(text, "reconcile.json", diags);
    REQUIRE(s);
    const run_result r = run_scenario(std::move(*s), run_options{});
    std::uint64_t n = 0;
    for (const sim::trace_event& e : r.sim->trace().events()) {
        if (e.kind != sim::event_kind::log || !e.detail.starts_with("reconciled ")) continue;
        n += nlohmann::json::parse(e.detail.substr(11)).value("repaired", std::uint64_t{0});
    }
    return n;
}

}  // namespace

TEST_CASE("a reconciler repairs what a dual write lost, also after its own crash", "[harness][kinds][messaging]") {
    outcome without = run_text(reconciled(false, ""));
    CHECK(without.checks["convergence"] != "pass");  // the lost events stay lost
    outcome with = run_text(reconciled(true, ""));
    CHECK(with.checks["convergence"] == "pass");
    CHECK(repairs(reconciled(true, "")) > 30);  // about the partition's 50 events, over pages of 7
    // Crashed for most of the partition, it repairs after its restart.
    const std::string crash = R"(, {"kind": "crash", "service": "repair", "at": "1100ms", "for": "1500ms"})";
    outcome crashed = run_text(reconciled(true, crash), at_ms(2600));
    CHECK(crashed.checks["convergence"] == "pass");
    CHECK(crashed.log_after["reconciled"] > 0);
    CHECK(crashed.logs["reconciled"] > crashed.log_after["reconciled"]);  // it ran before the crash too
}

namespace {

// Tickets v1 (events without added fields) and, if `v2`, v2 (events that add
// "priority" and "channel"), published through a dual write (each event sent once, so every
// refusal is one event) to a replica endpoint reading with `reader`.
std::string versioned(const std::string& reader, bool v2) {
    return R"({"name": "versions", "duration": "2s",
  "services": [
    {"name": "tickets", "concurrency": 8, "endpoints": [
      {"path": "/t", "method": "POST", "write": {"publish": "dual_write",
        "publish_to": [{"service": "reports", "endpoint": "/events"}]}},
      {"path": "/t", "version": 2, "method": "POST", "write": {"publish": "dual_write",
        "publish_to": [{"service": "reports", "endpoint": "/events"}], "event_fields": ["priority", "channel"]}}]},
    {"name": "reports", "concurrency": 8,
     "endpoints": [{"path": "/events", "method": "POST", "replica": true, "reader": ")" +
           reader + R"("}]}],
  "workloads": [
    {"name": "old", "service": "tickets", "endpoint": "/t", "open": {"arrivals": "constant", "rate_per_s": 20}, "stop": "1s"})" +
           (v2 ? R"(,
    {"name": "new", "service": "tickets", "endpoint": "/t", "version": 2, "open": {"arrivals": "constant", "rate_per_s": 10}, "stop": "1s"})"
               : "") +
           R"(],
  "expectations": [{"check": "convergence", "service": "tickets", "replicas": ["reports"], "within": "500ms"}]})";
}

}  // namespace

TEST_CASE("a strict event reader refuses an event with an added field, a tolerant one stores it",
          "[harness][kinds][messaging]") {
    // Constant arrivals until 1s, the first after one interval: 19 v1 requests (20/s)
    // and 9 v2 requests (10/s).
    // v1 events only: the strict reader knows every field, so it refuses nothing.
    outcome strict_v1 = run_text(versioned("strict", false));
    CHECK(strict_v1.checks["convergence"] == "pass");
    CHECK(strict_v1.logs["event_rejected"] == 0);
    CHECK(strict_v1.logs["replica_applied"] == 19);
    // v2 events add fields: the strict reader refuses each of them (the dual write loses them).
    outcome strict = run_text(versioned("strict", true));
    CHECK(strict.checks["convergence"] != "pass");
    CHECK(strict.logs["event_rejected"] == 9);
    CHECK(strict.logs["replica_applied"] == 19);
    // The tolerant reader ignores the added fields and stores all 28.
    outcome tolerant = run_text(versioned("tolerant", true));
    CHECK(tolerant.checks["convergence"] == "pass");
    CHECK(tolerant.logs["event_rejected"] == 0);
    CHECK(tolerant.logs["replica_applied"] == 28);
}

TEST_CASE("event_fields is a bounded list of added names", "[harness][kinds][messaging][bad]") {
    const auto with_fields = [](std::size_t n) {
        std::string list;
        for (std::size_t i = 0; i < n; ++i) list += (i == 0 ? "\"f" : ", \"f") + std::to_string(i) + "\"";
        return R"({"name": "fields", "duration": "1s", "services": [
  {"name": "a", "endpoints": [{"path": "/w", "method": "POST", "write": {
    "publish_to": [{"service": "b", "endpoint": "/e"}], "event_fields": [)" +
               list + R"(]}}]},
  {"name": "b", "endpoints": [{"path": "/e", "method": "POST", "replica": true, "reader": "strict"}]}],
  "workloads": [{"name": "w", "service": "a", "endpoint": "/w", "open": {"rate_per_s": 1}}]})";
    };
    diagnostics at_limit;
    const auto s = load_scenario_text(with_fields(100), "fields.json", at_limit);
    INFO(at_limit.format());
    REQUIRE(s);
    CHECK(s->services[0].endpoints[0].write->event_fields.size() == 100);
    CHECK(s->services[1].endpoints[0].reader == event_reader::strict);
    diagnostics over;
    CHECK_FALSE(load_scenario_text(with_fields(101), "fields.json", over));
    CHECK(over.count() == 1);
    CHECK(over.format().find("/services/0/endpoints/0/write/event_fields") != std::string::npos);
}
