// The safety and liveness checkers on hand-made ledgers, so every verdict and every
// number they report is pinned: lost writes, duplicate effects, unauthenticated
// requests, and convergence's on-time / late / in-flight / phantom records.
#include <catch2/catch.hpp>

#include "harness/checkers/checker.hpp"
#include "harness/checkers/windows.hpp"

using namespace meshsim;
using namespace meshsim::harness;

namespace {

sim::time_point at_ms(std::int64_t ms) { return sim::time_zero + sim::milliseconds(ms); }

// Runs the one expectation through the registry, as a scenario run would.
check_result judge(const expectation_config& e, const data_ledger& data,
                   sim::time_point last_fault_end = sim::time_zero) {
    scenario s;
    s.duration = sim::seconds(10);
    s.expectations = {e};
    const observations obs(s.bucket, s.warmup, s.duration);
    const std::vector<check_result> results = run_checkers({s, obs, data, last_fault_end, sim::time_zero + s.duration});
    REQUIRE(results.size() == 1);
    return results.front();
}

// An expectation as a scenario file writes it, read by its checker's own reader.
expectation_config expect(const std::string& json) {
    diagnostics out;
    const auto e = parse_expectation(json, out);
    INFO(out.format());
    REQUIRE(e);
    return *e;
}

expectation_config expect(const std::string& check, const std::string& service) {
    if (service.empty()) return expect(R"({"check": ")" + check + R"("})");
    return expect(R"({"check": ")" + check + R"(", "service": ")" + service + R"("})");
}

}  // namespace

TEST_CASE("no_lost_writes fails on an acknowledged write missing at the end, from when it was acknowledged") {
    data_ledger data({"orders"});
    data.acked(0, "a", at_ms(1000));
    data.acked(0, "b", at_ms(2000));
    data.acked(0, "c", at_ms(1500));
    data.acked(0, "b", at_ms(2500));  // a retry's second answer: still one write
    data.set_stored(0, {"a", "x"});   // x: written, never acknowledged (not a loss)
    const check_result r = judge(expect("no_lost_writes", "orders"), data);
    CHECK_FALSE(r.passed);
    CHECK(r.measured == "3 acknowledged writes, 2 lost (e.g. b, c)");
    CHECK(r.first_failed == at_ms(1500));

    data.set_stored(0, {"a", "b", "c"});
    const check_result ok = judge(expect("no_lost_writes", "orders"), data);
    CHECK(ok.passed);
    CHECK_FALSE(ok.first_failed);
}

TEST_CASE("no_duplicate_effects fails from the first second effect of a key") {
    data_ledger data({"payments"});
    data.effect(0, "a", at_ms(100));
    data.effect(0, "b", at_ms(200));
    CHECK(judge(expect("no_duplicate_effects", "payments"), data).passed);
    data.effect(0, "b", at_ms(300));
    data.effect(0, "b", at_ms(400));
    data.effect(0, "a", at_ms(500));
    const check_result r = judge(expect("no_duplicate_effects", "payments"), data);
    CHECK_FALSE(r.passed);
    CHECK(r.measured == "2 writes applied, 2 more than once (3 extra effects) (e.g. a, b)");
    CHECK(r.first_failed == at_ms(300));
}

TEST_CASE("no_unauthenticated counts requests served without a principal, at one service or all") {
    data_ledger data({"gateway", "accounts"});
    data.served(0, true, at_ms(10));
    data.served(1, true, at_ms(20));
    CHECK(judge(expect("no_unauthenticated", ""), data).passed);
    data.served(1, false, at_ms(700));
    data.served(1, false, at_ms(900));
    const check_result all = judge(expect("no_unauthenticated", ""), data);
    CHECK_FALSE(all.passed);
    CHECK(all.measured == "2 of 4 served unauthenticated (accounts: 2)");
    CHECK(all.first_failed == at_ms(700));
    CHECK(judge(expect("no_unauthenticated", "gateway"), data).passed);
}

TEST_CASE("convergence: on time, late, in flight at the end, and phantom records") {
    data_ledger data({"orders", "search"});
    // The last fault ends at 3s; within 1s. Records committed before it are due at 4s.
    data.committed(0, "a", at_ms(1000));
    data.committed(0, "b", at_ms(2000));
    data.committed(0, "c", at_ms(9500));            // due at 10.5s: after the end, in flight
    data.committed(0, "d", at_ms(5000));            // due at 6s
    data.set_stored(0, {"a", "b", "c", "d", "u"});  // u: never committed, not yet the truth
    data.applied(1, 0, "a", at_ms(3200));
    data.applied(1, 0, "b", at_ms(3700));
    data.applied(1, 0, "d", at_ms(5050));
    data.set_replicated(1, 0, {"a", "b", "d"});
    const expectation_config e =
        expect(R"({"check": "convergence", "service": "orders", "replicas": ["search"], "within": "1s"})");

    const check_result ok = judge(e, data, at_ms(3000));
    CHECK(ok.passed);
    CHECK(ok.measured ==
          "caught up 700ms after the last fault ended; max lag 700ms; 0 missing or late, 0 phantom, "
          "1 in flight at the end");

    data.applied(1, 0, "z", at_ms(4000));        // a record orders does not have
    data.set_replicated(1, 0, {"a", "b", "z"});  // and d lost at the replica
    const check_result bad = judge(e, data, at_ms(3000));
    CHECK_FALSE(bad.passed);
    CHECK(bad.measured ==
          "not caught up; max lag 700ms; 1 missing or late, 1 phantom, 1 in flight at the end (e.g. search:d)");
    CHECK(bad.first_failed == at_ms(4000));  // the phantom's arrival, before d fell due at 6s

    // A late record fails from when it fell due.
    data_ledger late({"orders", "search"});
    late.committed(0, "a", at_ms(1000));
    late.set_stored(0, {"a"});
    late.applied(1, 0, "a", at_ms(4500));
    late.set_replicated(1, 0, {"a"});
    const check_result l = judge(e, late, at_ms(3000));
    CHECK_FALSE(l.passed);
    CHECK(l.first_failed == at_ms(4000));
    INFO(l.measured);
    CHECK(l.measured.starts_with("caught up 1.5s after the last fault ended"));
}

TEST_CASE("convergence: nothing due before the end is no samples, not a pass") {
    // A fault that lasts (almost) to the end: every record is still in flight, and
    // a replica that never received one must not pass by default.
    data_ledger data({"orders", "search"});
    data.committed(0, "a", at_ms(1000));
    data.committed(0, "b", at_ms(2000));
    data.set_stored(0, {"a", "b"});
    const expectation_config e =
        expect(R"({"check": "convergence", "service": "orders", "replicas": ["search"], "within": "1s"})");
    const check_result r = judge(e, data, at_ms(9500));  // due at 10.5s, after the 10s end
    CHECK_FALSE(r.passed);
    CHECK(r.measured ==
          "no samples: no record of orders was due at a replica before the run ended (2 in flight; due 1s after the "
          "later of its commit and the last fault's end, 9.500s)");
    // One record that did arrive is something judged: then in-flight records are not failures.
    data.applied(1, 0, "a", at_ms(9600));
    data.set_replicated(1, 0, {"a"});
    CHECK(judge(e, data, at_ms(9500)).passed);
    const expectation_config allowed = expect(
        R"({"check": "convergence", "service": "orders", "replicas": ["search"], "within": "1s", "allow_empty": true})");
    data_ledger none({"orders", "search"});
    none.committed(0, "a", at_ms(1000));
    none.set_stored(0, {"a"});
    CHECK(judge(allowed, none, at_ms(9500)).passed);
}

TEST_CASE("measured latencies read in ms below a second and in seconds above, never with an exponent") {
    using detail::format_latency;
    CHECK(format_latency(sim::microseconds(32'700)) == "32.7ms");
    CHECK(format_latency(sim::microseconds(999'400)) == "999ms");
    CHECK(format_latency(sim::milliseconds(1500)) == "1.5s");
    CHECK(format_latency(sim::milliseconds(12'345)) == "12.3s");
    CHECK(format_latency(sim::duration{0}) == "0ms");
}
