// Node faults through the fault injector: pause beyond a caller's timeout, clock
// offset and drift moving a node's timers, crash and restart with only synced
// data surviving, slowness, and storage's unsynced-write survival knob.
#include <catch2/catch.hpp>

#include "sim/kernel/faults.hpp"
#include "tests/sim/network_testing.hpp"

using namespace meshsim::sim;
using namespace meshsim::sim::kernel;

namespace {
constexpr port_id req_port = 5;
constexpr port_id reply_port = 6;

time_point ms(std::int64_t n) { return time_zero + milliseconds(n); }
}  // namespace

TEST_CASE("a pause longer than a caller's timeout: the call times out, the paused node answers late, at resume") {
    simulation world({.seed = 41});
    std::optional<bool> answered_in_time;
    time_point late_reply_at = time_never;
    world.add_node("server", [](runtime& rt) {
        rt.bind(req_port);
        while (auto m = rt.receive(req_port, time_never)) {
            message reply;
            reply.to = {m->from.node, reply_port};
            rt.send(std::move(reply));
        }
    });
    world.add_node("client", [&](runtime& rt) {
        rt.bind(reply_port);
        rt.sleep_for(milliseconds(100));
        message req;
        req.to = {0, req_port};
        req.from.port = reply_port;
        rt.send(std::move(req));
        answered_in_time = rt.receive(reply_port, rt.now() + milliseconds(200)).has_value();  // the timeout
        if (rt.receive(reply_port, time_never)) late_reply_at = rt.now();
    });
    world.start(0);
    world.start(1);
    fault_injector faults(world);
    fault_spec pause{.at = ms(50), .length = milliseconds(450), .what = pause_fault{"server"}};
    REQUIRE(faults.schedule(pause).empty());
    world.run();
    REQUIRE(answered_in_time.has_value());
    CHECK_FALSE(*answered_in_time);
    CHECK(late_reply_at == ms(501));  // resumed at 500ms, 1ms back over the default link
}

TEST_CASE("a paused node's timers fire late, at resume") {
    simulation world({.seed = 42});
    time_point woke = time_never;
    world.add_node("sleeper", [&](runtime& rt) {
        rt.sleep_for(milliseconds(100));
        woke = rt.now();
    });
    world.start(0);
    fault_injector faults(world);
    REQUIRE(
        faults.schedule(fault_spec{.at = ms(10), .length = milliseconds(290), .what = pause_fault{"sleeper"}}).empty());
    world.run();
    CHECK(woke == ms(300));
}

TEST_CASE("clock skew moves a node's timers: an offset shifts absolute deadlines, drift scales intervals") {
    simulation world({.seed = 43});
    time_point offset_node_woke = time_never;
    time_point offset_node_read = time_never;
    time_point drift_node_woke = time_never;
    world.add_node("ahead", [&](runtime& rt) {
        rt.sleep_for(milliseconds(10));  // the fault starts at 5ms: now its clock reads +500ms
        offset_node_read = rt.now();
        rt.sleep_until(time_zero + seconds(1));  // local 1s = true 500ms
        offset_node_woke = world.now();
    });
    world.add_node("fast", [&](runtime& rt) {
        rt.sleep_for(milliseconds(10));
        rt.sleep_for(seconds(1));  // local 1s at +100,000 ppm: true 1s / 1.1
        drift_node_woke = world.now();
    });
    world.start(0);
    world.start(1);
    fault_injector faults(world);
    REQUIRE(faults
                .schedule({fault_spec{.at = ms(5), .what = clock_fault{"ahead", milliseconds(500), 0}},
                           fault_spec{.at = ms(5), .what = clock_fault{"fast", duration{0}, 100'000}}})
                .empty());
    world.run();
    CHECK(offset_node_read == ms(510));
    CHECK(offset_node_woke == ms(500));
    // Armed at true 10ms (local 10.5ms): wakes when local reads 1010.5ms, true 10ms + 1s / 1.1.
    const double woke_ms = static_cast<double>(drift_node_woke.time_since_epoch().count()) * 1e-6;
    CHECK(woke_ms == Approx(10 + 1000 / 1.1).margin(1e-3));
}

TEST_CASE("the end of a clock fault restores the clock the node would have read") {
    simulation world({.seed = 44});
    world.add_node("n", [](runtime&) {});
    world.start(0);
    node& n = world.get_node(0);
    fault_injector faults(world);
    REQUIRE(faults.schedule(fault_spec{.at = ms(100), .length = seconds(1), .what = clock_fault{"n", seconds(-3), 500}})
                .empty());
    world.run_until(ms(600));
    CHECK(n.now() == ms(600) - seconds(3) + microseconds(250));  // 500ppm over 500ms
    world.run_until(ms(2000));
    CHECK(n.now() == ms(2000));
}

TEST_CASE("crash loses volatile state and unsynced writes, restart boots a fresh process over synced data") {
    simulation world({.seed = 45});
    int boots = 0;
    std::optional<nlohmann::json> synced_after;
    std::optional<nlohmann::json> unsynced_after;
    world.add_node("db", [&](runtime& rt) {
        ++boots;
        store& disk = rt.durable_store();
        if (boots == 1) {
            disk.put("synced", 1);
            disk.sync();
            disk.put("unsynced", 2);
            rt.sleep_for(seconds(10));  // killed before it wakes
            disk.sync();
        } else {
            synced_after = disk.get("synced");
            unsynced_after = disk.get("unsynced");
        }
    });
    world.start(0);
    fault_injector faults(world);
    REQUIRE(faults.schedule(fault_spec{.at = ms(100), .length = milliseconds(100), .what = crash_fault{"db", true}})
                .empty());
    world.run();
    CHECK(boots == 2);
    CHECK(world.get_node(0).incarnation() == 2);
    REQUIRE(synced_after.has_value());
    CHECK(*synced_after == 1);
    CHECK_FALSE(unsynced_after.has_value());
}

TEST_CASE("unsynced-write survival: 30% +- 4.5% of 1,000 unsynced writes survive a crash") {
    memory_store disk;
    disk.set_unsynced_survival(0.3, random_stream(46, "disk"));
    for (int i = 0; i < 1000; ++i) disk.put("k" + std::to_string(i), i);
    disk.lose_unsynced();
    CHECK(static_cast<double>(disk.keys().size()) == Approx(300).margin(45));  // sd 14.5
    CHECK(disk.unsynced_writes() == 0);
}

TEST_CASE("slowness multiplies compute time while the fault lasts") {
    simulation world({.seed = 47});
    std::vector<duration> took;
    world.add_node("cpu", [&](runtime& rt) {
        for (int i = 0; i < 3; ++i) {
            const time_point t0 = rt.now();
            rt.compute(milliseconds(10));
            took.push_back(rt.now() - t0);
            rt.sleep_for(milliseconds(100));
        }
    });
    world.start(0);
    fault_injector faults(world);
    REQUIRE(
        faults.schedule(fault_spec{.at = ms(50), .length = milliseconds(100), .what = slow_fault{"cpu", 3}}).empty());
    world.run();
    REQUIRE(took.size() == 3);
    CHECK(took[0] == milliseconds(10));
    CHECK(took[1] == milliseconds(30));
    CHECK(took[2] == milliseconds(10));
}

TEST_CASE("service fault rules abort 30% +- 1.5% and delay 50% +- 1.5% of 20,000 matching requests") {
    simulation world({.seed = 48});
    world.add_node("svc", [](runtime&) {});
    service_fault_rule rule;
    rule.port = 80;
    rule.path = "/orders/*";
    rule.abort_probability = 0.3;
    rule.abort_status = 503;
    rule.delay_probability = 0.5;
    rule.delay = milliseconds(100);
    world.get_node(0).service_faults().add(rule);
    runtime& rt = world.get_node(0);
    int aborted = 0;
    int delayed = 0;
    for (int i = 0; i < 20'000; ++i) {
        const request_fault f = rt.fault_for_request(80, "/orders/42");
        if (f.abort_status == 503) ++aborted;
        if (f.delay == milliseconds(100)) ++delayed;
    }
    CHECK(aborted / 20'000.0 == Approx(0.3).margin(0.015));
    CHECK(delayed / 20'000.0 == Approx(0.5).margin(0.015));
    CHECK(rt.fault_for_request(81, "/orders/42").abort_status == 0);
    CHECK(rt.fault_for_request(80, "/users").delay == duration{0});
}
