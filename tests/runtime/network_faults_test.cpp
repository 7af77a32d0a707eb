// Network faults in real mode (runtime/link_shaper.cpp, harness/serve.cpp): link
// faults (latency, loss, duplication, reordering) and partitions (drop and hold)
// applied to real frames before their sockets, at the scheduled real times. Host
// tests count frames; serve tests run a small scenario for real and in simulation
// and compare what the summaries show. Real time on a loaded 2-core machine: every
// bound is a lower bound the fault guarantees (a frame is never sent early) or a
// wide statistical one, and each run takes at most 3 seconds.
#include <algorithm>
#include <cmath>
#include <set>

#include <catch2/catch.hpp>

#include "harness/cli_testing.hpp"
#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"
#include "harness/serve.hpp"
#include "runtime/host.hpp"

namespace {

using namespace meshsim;
using namespace std::chrono_literals;
using testing::scratch_dir;

harness::scenario load_text(const std::string& text) {
    harness::diagnostics diags;
    std::optional<harness::scenario> s = harness::load_scenario_text(text, "test.json", diags);
    INFO(diags.format());
    REQUIRE(s);
    return *s;
}

// front calls back (GET: retried on timeouts); 50 requests/s for `duration`.
harness::scenario two_services(const std::string& duration, const std::string& faults) {
    return load_text(R"({
  "name": "net", "duration": ")" +
                     duration + R"(", "bucket": "500ms",
  "services": [
    {"name": "front", "concurrency": 64, "endpoints": [{"path": "/hello", "service_time": "2ms", "calls": [{"service": "back", "endpoint": "/work"}]}]},
    {"name": "back", "concurrency": 64, "endpoints": [{"path": "/work", "service_time": "2ms"}]}
  ],
  "edges": [{"from": "front", "to": "back", "timeout": "80ms", "deadline": "400ms",
             "retry": {"max_attempts": 3, "backoff_base": "5ms", "backoff_max": "10ms"}}],
  "workloads": [{"name": "users", "service": "front", "endpoint": "/hello", "open": {"rate_per_s": 50}}],
  "faults": [)" + faults +
                     R"(],
  "expectations": [{"check": "goodput", "workload": "users", "min_ratio": 0.1}]
})");
}

struct both_runs {
    nlohmann::json sim;
    nlohmann::json real;
    std::vector<std::string> not_applied;
};

both_runs run_both(const harness::scenario& s) {
    const harness::run_result simulated = harness::run_scenario(s, {});
    REQUIRE(simulated.setup_errors.empty());
    const scratch_dir dir;
    harness::serve_options o;
    o.data_dir = (dir / "data").string();
    o.http = false;
    o.handle_signals = false;
    const harness::serve_result real = harness::serve_scenario(s, o);
    REQUIRE(real.setup_errors.empty());
    CHECK(real.summary["real_time"]["fiber_errors"] == 0);
    return {simulated.summary, real.summary, real.not_applied};
}

const nlohmann::json& edge(const nlohmann::json& summary, const std::string& from, const std::string& to) {
    for (const auto& e : summary["edges"]) {
        if (e["from"] == from && e["to"] == to) return e;
    }
    FAIL("no edge " << from << " -> " << to);
    return summary;
}

// Goodput and errors of the flow's buckets that start in [from, to).
std::pair<std::uint64_t, std::uint64_t> ended_between(const nlohmann::json& flow, sim::duration from,
                                                      sim::duration to) {
    std::uint64_t ok = 0;
    std::uint64_t errors = 0;
    for (const auto& b : flow["series"]) {
        const auto t = sim::duration(b["t_ns"].get<std::int64_t>());
        if (t < from || t >= to) continue;
        ok += b["goodput"].get<std::uint64_t>();
        errors += b["errors"].get<std::uint64_t>();
    }
    return {ok, errors};
}

// Two nodes on a host: "sender" sends numbered messages to "receiver", which keeps
// the numbers in arrival order: three batches of `batch`, back to back, at 0 ms, 150
// ms and 400 ms (the faults come and go between them, so a loaded machine that
// stretches the sender's pace cannot move a message from one side of a change to
// the other).
struct pair_run {
    std::vector<int> received;
    real::network_counts counts;
};

pair_run send_numbers(int batch, const std::function<void(real::host&, sim::node_id, sim::node_id)>& faults,
                      sim::duration length) {
    const scratch_dir dir;
    real::host h({.seed = 7, .data_dir = dir.path().string()});
    pair_run out;
    const sim::node_id receiver = h.add_node(
        "receiver",
        [&](sim::runtime& rt) {
            rt.bind(80);
            while (auto m = rt.receive(80, sim::time_never)) out.received.push_back(m->body.get<int>());
        },
        0);
    const sim::node_id sender = h.add_node(
        "sender",
        [&, receiver, batch](sim::runtime& rt) {
            int next = 0;
            for (const sim::time_point at : {sim::time_zero, sim::time_zero + 150ms, sim::time_zero + 400ms}) {
                rt.sleep_until(at);
                for (int i = 0; i < batch; ++i) {
                    sim::message m;
                    m.to = {receiver, 80};
                    m.body = next++;
                    rt.send(std::move(m));
                }
            }
        },
        0);
    h.start_at_begin(receiver);
    h.start_at_begin(sender);
    faults(h, sender, receiver);
    h.open();
    real::run_on_own_thread([&] { h.run(length); });
    CHECK(h.fiber_errors() == 0);
    out.counts = h.network();
    return out;
}

}  // namespace

TEST_CASE("host: a link fault loses, duplicates and reorders real frames, and only while it lasts", "[runtime][net]") {
    std::uint64_t fault_id = 0;
    const pair_run r = send_numbers(
        100,
        [&](real::host& h, sim::node_id from, sim::node_id to) {
            sim::kernel::link_config l;
            l.latency = sim::duration_distribution::constant(sim::milliseconds(20));
            l.loss = 0.2;
            l.duplicate = 0.2;
            l.reorder = 0.2;
            fault_id = h.add_link_fault({from}, {to}, l);
            // Messages 0..199 go under the fault; from 300 ms on the link is plain again.
            h.at(sim::time_zero + 300ms, [&h, &fault_id] { h.remove_link_fault(fault_id); });
        },
        sim::duration(700ms));
    INFO("received " << r.received.size() << ", lost " << r.counts.lost << ", duplicated " << r.counts.duplicated
                     << ", reordered " << r.counts.reordered);
    // 200 frames under the fault, 20% each way: each count about 40, far from 0.
    CHECK(r.counts.lost >= 10);
    CHECK(r.counts.duplicated >= 10);
    CHECK(r.counts.reordered >= 10);
    CHECK(r.counts.delayed >= 100);
    CHECK(r.received.size() == 300 - r.counts.lost + r.counts.duplicated);
    const std::multiset<int> seen(r.received.begin(), r.received.end());
    int duplicates = 0;
    int missing = 0;
    bool out_of_order = false;
    for (int i = 0; i < 300; ++i) {
        const auto n = seen.count(i);
        duplicates += n > 1 ? static_cast<int>(n - 1) : 0;
        missing += n == 0 ? 1 : 0;
    }
    for (std::size_t i = 1; i < r.received.size(); ++i)
        out_of_order = out_of_order || r.received[i] < r.received[i - 1];
    CHECK(duplicates == static_cast<int>(r.counts.duplicated));
    CHECK(missing == static_cast<int>(r.counts.lost));
    CHECK(out_of_order);
    // After the fault: the last batch arrived whole, once, in order.
    std::vector<int> tail;
    for (const int v : r.received) {
        if (v >= 200) tail.push_back(v);
    }
    std::vector<int> expected(100);
    for (int i = 0; i < 100; ++i) expected[static_cast<std::size_t>(i)] = 200 + i;
    CHECK(tail == expected);
}

TEST_CASE("host: a hold partition delivers what it held at the heal, a drop partition loses it", "[runtime][net]") {
    for (const auto mode : {sim::kernel::cut_mode::hold, sim::kernel::cut_mode::drop}) {
        const bool hold = mode == sim::kernel::cut_mode::hold;
        DYNAMIC_SECTION((hold ? "hold" : "drop")) {
            std::uint64_t cut_id = 0;
            const pair_run r = send_numbers(
                50,
                [&](real::host& h, sim::node_id from, sim::node_id to) {
                    // 2 nodes, groups {sender} | {receiver}: from 100 ms to 300 ms (the
                    // second batch, at 150 ms, meets it).
                    h.at(sim::time_zero + 100ms, [&h, &cut_id, from, to, mode] {
                        cut_id = h.add_cut(sim::kernel::cut_matrix::groups(2, {{from}, {to}}), mode);
                    });
                    h.at(sim::time_zero + 300ms, [&h, &cut_id] { h.heal(cut_id); });
                },
                sim::duration(700ms));
            INFO("received " << r.received.size() << ", cut " << r.counts.cut_dropped << ", held " << r.counts.held
                             << ", released " << r.counts.released);
            if (hold) {
                CHECK(r.counts.held == 50);
                CHECK(r.counts.released == r.counts.held);
                CHECK(r.counts.cut_dropped == 0);
                CHECK(r.received.size() == 150);
                CHECK(std::is_sorted(r.received.begin(), r.received.end()));
            } else {
                CHECK(r.counts.cut_dropped == 50);
                CHECK(r.counts.held == 0);
                std::vector<int> expected;
                for (int i = 0; i < 150; ++i) {
                    if (i < 50 || i >= 100) expected.push_back(i);
                }
                CHECK(r.received == expected);  // the heal let the last batch through
            }
        }
    }
}

TEST_CASE("serve: a latency fault on one link shows in the real run's latency quantiles as in simulation",
          "[runtime][serve][net]") {
    // 40 ms more on front -> back (requests only: the replies come back plain).
    const both_runs r = run_both(two_services("2s", R"({"kind": "link", "service": "front", "to": "back",
                                                        "latency": "40ms", "at": "0s"})"));
    CHECK(r.not_applied.empty());
    const auto& sim_lat = r.sim["workloads"]["users"]["latency"];
    const auto& real_lat = r.real["workloads"]["users"]["latency"];
    const double p50_sim = sim_lat["p50_ms"].get<double>();
    const double p50_real = real_lat["p50_ms"].get<double>();
    const double p90_sim = sim_lat["p90_ms"].get<double>();
    const double p90_real = real_lat["p90_ms"].get<double>();
    INFO("p50 sim " << p50_sim << " real " << p50_real << "; p90 sim " << p90_sim << " real " << p90_real);
    CHECK(p50_sim > 40.0);
    // A delayed frame never leaves early: every real request took 40 ms - 0.5 ms (the
    // default latency the loopback stands for) + two service times at least.
    CHECK(real_lat["count"].get<std::uint64_t>() > 50);
    CHECK(p50_real >= 43.0);
    // Scheduling delay on a loaded machine only adds: wide upper bounds.
    CHECK(p50_real <= 2.0 * p50_sim + 20.0);
    CHECK(p90_real <= 2.5 * p90_sim + 40.0);
    CHECK(r.real["real_time"]["network"]["delayed"].get<std::uint64_t>() > 50);
    CHECK(r.real["real_time"]["network"]["lost"] == 0);
    REQUIRE(r.real["faults"].size() == 1);
    CHECK(r.real["faults"][0]["kind"] == "link");
}

TEST_CASE("serve: a loss fault makes retries and timeouts appear, as in simulation", "[runtime][serve][net]") {
    const both_runs r = run_both(two_services("2s", R"({"kind": "link", "service": "front", "to": "back",
                                                        "loss": 0.6, "at": "0s"})"));
    CHECK(r.not_applied.empty());
    const nlohmann::json& e_sim = edge(r.sim, "front", "back");
    const nlohmann::json& e_real = edge(r.real, "front", "back");
    const auto retries_sim = e_sim["retries"].get<double>();
    const auto retries_real = e_real["retries"].get<double>();
    const auto failed_sim = e_sim["outcomes"]["failed"].get<double>();
    const auto failed_real = e_real["outcomes"]["failed"].get<double>();
    INFO("retries sim " << retries_sim << " real " << retries_real << "; failed calls sim " << failed_sim << " real "
                        << failed_real);
    // About 100 calls, 60% of the requests lost: about 0.96 retries a call, and the
    // 0.6^3 = 22% whose three attempts are all lost fail (timeouts).
    CHECK(retries_sim >= 40);
    CHECK(retries_real >= 40);
    CHECK(std::abs(retries_real - retries_sim) <= std::max(20.0, 0.5 * retries_sim));
    CHECK(failed_sim >= 5);
    CHECK(failed_real >= 5);
    CHECK(r.real["real_time"]["network"]["lost"].get<std::uint64_t>() >= 40);
    // Three attempts: most calls still succeed (1 - 0.6^3 = 78% of them).
    CHECK(e_real["outcomes"]["ok"].get<double>() >= 0.6 * e_real["outcomes"]["total"].get<double>());
}

TEST_CASE("serve: a partition fails the calls across it, and they recover once it heals", "[runtime][serve][net]") {
    // back's only instance cut off from every other node from 1s to 2s (drop: callers time out).
    const both_runs r = run_both(two_services("3s", R"({"kind": "partition", "shape": "isolate", "service": "back",
                                                        "at": "1s", "for": "1s"})"));
    CHECK(r.not_applied.empty());
    for (const nlohmann::json* summary : {&r.sim, &r.real}) {
        const bool real = summary == &r.real;
        const nlohmann::json& calls = edge(*summary, "front", "back");
        const auto [ok_before, errors_before] = ended_between(calls, 0s, 1s);
        const auto [ok_during, errors_during] = ended_between(calls, 1500ms, 2s);  // a call can take 400 ms
        const auto [ok_after, errors_after] = ended_between(calls, 2500ms, 3s);
        INFO((real ? "real" : "sim") << ": before " << ok_before << "/" << errors_before << ", during " << ok_during
                                     << "/" << errors_during << ", after " << ok_after << "/" << errors_after);
        CHECK(ok_before >= 20);
        CHECK(errors_before <= ok_before / 10);
        CHECK(errors_during >= 10);
        CHECK(ok_during == 0);
        CHECK(ok_after >= 10);
        CHECK(errors_after <= ok_after / 5);
    }
    CHECK(r.real["real_time"]["network"]["cut_dropped"].get<std::uint64_t>() >= 20);
    REQUIRE(r.real["faults"].size() == 1);
    CHECK(r.real["faults"][0]["kind"] == "partition");
    CHECK(r.real["faults"][0]["end_ns"].get<double>() >= 2e9);
}

TEST_CASE("serve: a link fault's bandwidth is named as not applied, its other parameters are",
          "[runtime][serve][net]") {
    const scratch_dir dir;
    harness::serve_options o;
    o.data_dir = (dir / "data").string();
    o.http = false;
    o.workloads = false;
    o.handle_signals = false;
    o.until = sim::duration(200ms);
    const harness::serve_result r =
        harness::serve_scenario(two_services("1s", R"({"kind": "link", "service": "front", "loss": 0.1,
                                                       "bandwidth_bytes_per_s": 100000, "at": "0s"},
                                                      {"kind": "clock", "service": "back", "offset": "1s", "at": "0s"})"),
                                o);
    REQUIRE(r.setup_errors.empty());
    REQUIRE(r.not_applied.size() == 2);
    CHECK_THAT(r.not_applied[0], Catch::Contains("faults[0]") && Catch::Contains("bandwidth"));
    CHECK_THAT(r.not_applied[1], Catch::Contains("faults[1]") && Catch::Contains("clock"));
    // The link fault itself was applied (and the clock fault was not).
    REQUIRE(r.summary["faults"].size() == 1);
    CHECK(r.summary["faults"][0]["kind"] == "link");
}
