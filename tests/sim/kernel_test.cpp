// The kernel: virtual clock, event order, fiber scheduling order, timers and
// timeouts, the sync primitives, node lifecycle (crash, restart, pause) and the
// trace hash. Every expectation here is exact: the kernel is deterministic.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "sim/kernel/simulation.hpp"
#include "sim/sync.hpp"

using namespace meshsim::sim;
using namespace std::chrono_literals;
using kernel::simulation;

namespace {
constexpr port_id test_port = 7;

message to(node_id node, nlohmann::json body = nullptr) {
    message m;
    m.to = {node, test_port};
    m.body = std::move(body);
    return m;
}
}  // namespace

TEST_CASE("the clock starts at zero and run_until leaves it at the limit") {
    simulation sim({.seed = 1});
    CHECK(sim.now() == time_zero);
    sim.run_until(time_zero + 5s);
    CHECK(sim.now() == time_zero + 5s);
}

TEST_CASE("durations format in their shortest exact unit") {
    CHECK(format_duration(0ns) == "0s");
    CHECK(format_duration(1500ms) == "1500ms");
    CHECK(format_duration(2s) == "2s");
    CHECK(format_duration(20us) == "20us");
    CHECK(format_duration(7ns) == "7ns");
    CHECK(format_duration(3min) == "3min");
}

TEST_CASE("events fire in time order, and in scheduling order at the same time") {
    simulation sim({.seed = 1});
    std::vector<std::string> order;
    sim.at(time_zero + 2ms, [&] { order.push_back("b@2"); });
    sim.at(time_zero + 1ms, [&] { order.push_back("a@1"); });
    sim.at(time_zero + 2ms, [&] { order.push_back("c@2"); });
    sim.at(time_zero + 2ms, [&] { order.push_back("d@2"); });
    sim.run();
    CHECK(order == std::vector<std::string>{"a@1", "b@2", "c@2", "d@2"});
    CHECK(sim.now() == time_zero + 2ms);
}

TEST_CASE("fibers run in the order they were spawned, and again in the order they were woken") {
    simulation sim({.seed = 1});
    std::vector<int> order;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        for (int i = 0; i < 5; ++i) {
            rt.spawn("f" + std::to_string(i), [&order, &rt, i] {
                order.push_back(i);
                // Sleep in reverse order of spawning: wake order follows the deadlines.
                rt.sleep_for(milliseconds(10 - i));
                order.push_back(10 + i);
            });
        }
    });
    sim.start(n);
    sim.run();
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 14, 13, 12, 11, 10});
}

TEST_CASE("sleep wakes at exactly the virtual deadline") {
    simulation sim({.seed = 1});
    std::vector<time_point> woke;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        rt.sleep_for(250ms);
        woke.push_back(rt.now());
        rt.sleep_until(time_zero + 1s);
        woke.push_back(rt.now());
        rt.sleep_until(time_zero);  // in the past: returns at once
        woke.push_back(rt.now());
    });
    sim.start(n);
    sim.run();
    CHECK(woke == std::vector<time_point>{time_zero + 250ms, time_zero + 1s, time_zero + 1s});
}

TEST_CASE("a parked fiber's slot locates the frames of its wait on its own stack (what waking prefetches)") {
    simulation sim({.seed = 1, .fiber_stack_bytes = 64 * 1024});
    std::uint32_t slot = simulation::no_slot;
    std::uintptr_t marker_at = 0;
    std::vector<std::uint16_t> depths;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        volatile int marker = 0;  // in the frame the wait returns to
        marker_at = reinterpret_cast<std::uintptr_t>(&marker);
        slot = rt.current_fiber().slot;
        rt.sleep_for(1ms);
        rt.sleep_for(1ms);
        marker = 1;
    });
    sim.at(time_zero + 500us, [&] {
        const simulation::fiber_slot& f = sim.slot(slot);
        REQUIRE(f.parked);
        depths.push_back(f.park_depth);
        const auto top = reinterpret_cast<std::uintptr_t>(f.ctx);
        const std::uintptr_t frame = top - std::uintptr_t{f.park_depth} * 16;
        CHECK(f.park_depth > 0);
        CHECK(frame > top - 64 * 1024);   // on the fiber's own stack, below its context
        CHECK(frame < marker_at);         // below the waiting frame, a few frames from it
        CHECK(marker_at - frame < 4096);  // (a sanitizer's frames are larger)
        // The context's field that waking also prefetches holds where the switch saved
        // the fiber's registers: just below park_current's frame.
        std::uintptr_t saved_at = 0;
        std::memcpy(&saved_at, reinterpret_cast<const char*>(f.ctx) + simulation::context_resume_offset,
                    sizeof saved_at);
        CHECK(saved_at < frame);
        CHECK(frame - saved_at < 4096);
    });
    sim.at(time_zero + 1500us, [&] { depths.push_back(sim.slot(slot).park_depth); });
    sim.start(n);
    sim.run();
    REQUIRE(depths.size() == 2);
    CHECK(depths[0] == depths[1]);  // the same wait, the same depth
}

TEST_CASE("receive times out at its deadline when nothing arrives") {
    simulation sim({.seed = 1});
    bool got = true;
    time_point when{};
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        rt.bind(test_port);
        got = rt.receive(test_port, rt.now() + 30ms).has_value();
        when = rt.now();
    });
    sim.start(n);
    sim.run();
    CHECK_FALSE(got);
    CHECK(when == time_zero + 30ms);
}

TEST_CASE("a message that arrives before the deadline wins, and the stale timer wakes nothing later") {
    simulation sim({.seed = 1});
    sim.net().set_default_link({.latency = duration_distribution::constant(5ms)});
    std::vector<std::string> log;
    const node_id rx = sim.add_node("rx", [&](runtime& rt) {
        rt.bind(test_port);
        auto m = rt.receive(test_port, rt.now() + 50ms);
        log.push_back(m ? "got " + m->body.get<std::string>() : "timeout");
        log.push_back("at " + format_time(rt.now()));
        // A second, longer wait must not be cut short by the first wait's timer (at 50ms).
        m = rt.receive(test_port, rt.now() + 100ms);
        log.push_back(m ? "got2" : "timeout2 at " + format_time(rt.now()));
    });
    const node_id tx = sim.add_node("tx", [&](runtime& rt) { rt.send(to(rx, "hello")); });
    sim.start(rx);
    sim.start(tx);
    sim.run();
    CHECK(log == std::vector<std::string>{"got hello", "at 5ms", "timeout2 at 105ms"});
}

TEST_CASE("messages to an unbound port or a down node are dropped and recorded") {
    simulation sim({.seed = 1});
    const node_id down = sim.add_node("down", [](runtime&) {});
    const node_id up = sim.add_node("up", [](runtime& rt) { rt.sleep_for(1s); });
    const node_id tx = sim.add_node("tx", [&](runtime& rt) {
        rt.send(to(down));
        rt.send(to(up));  // port 7 is not bound on "up"
    });
    sim.start(up);
    sim.start(tx);
    sim.run();
    CHECK(sim.net().messages_dropped() == 2);
    CHECK(sim.net().messages_delivered() == 0);
}

TEST_CASE("every refused message bounces back once, with its own headers and the reason") {
    // Many refusals at one instant: each bounce is sent while the network frees the
    // refused message's slot, so the bounces reuse and grow the in-flight slots.
    simulation sim({.seed = 1});
    const node_id down = sim.add_node("down", [](runtime&) {});
    const node_id up = sim.add_node("up", [](runtime& rt) { rt.sleep_for(1s); });  // port 7 not bound
    constexpr int per_target = 40;
    std::vector<std::string> got;
    const node_id tx = sim.add_node("tx", [&](runtime& rt) {
        rt.bind(test_port);
        for (int i = 0; i < 2 * per_target; ++i) {
            message m = to(i % 2 == 0 ? down : up, std::string(100, 'x'));
            m.from.port = test_port;
            m.bounce_if_refused = true;
            m.head.set("n", std::to_string(i));
            rt.send(std::move(m));
        }
        while (auto m = rt.receive(test_port, rt.now() + 1s)) {
            got.push_back(m->head.get("n") + ":" + m->head.get(bounce_header));
        }
    });
    sim.start(up);
    sim.start(tx);
    sim.run();
    std::vector<std::string> want;
    for (int i = 0; i < 2 * per_target; ++i) {
        want.push_back(std::to_string(i) + ":" + (i % 2 == 0 ? "node_down" : "port_unbound"));
    }
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    CHECK(got == want);
    CHECK(sim.net().messages_dropped() == 2 * per_target);
    CHECK(sim.net().messages_delivered() == 2 * per_target);  // the bounces
}

TEST_CASE("unbinding a port wakes its receiver empty-handed, ports rebind, a crash loses queued messages") {
    simulation sim({.seed = 1});
    std::vector<std::string> seen;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        rt.bind(1);
        rt.bind(2);
        rt.bind(3);
        rt.spawn("waiter", [&] {
            auto m = rt.receive(2, time_never);
            seen.push_back(m ? "got a message" : "port 2 gone at " + format_time(rt.now()));
        });
        rt.sleep_for(10ms);
        rt.unbind(2);
        rt.unbind(1);
        rt.bind(4);  // reuses a freed mailbox; port 2 stays unbound
        rt.sleep_for(10ms);
        auto m4 = rt.receive(4, rt.now());
        auto m3 = rt.receive(3, rt.now());
        seen.push_back(std::string("port 4: ") + (m4 ? m4->body.get<std::string>() : "nothing") +
                       ", port 3: " + (m3 ? m3->body.get<std::string>() : "nothing"));
        rt.sleep_for(1h);  // "late" queues on port 3 until the restart loses it
    });
    const node_id tx = sim.add_node("tx", [&](runtime& rt) {
        rt.sleep_for(15ms);
        for (const port_id p : {2u, 3u, 4u}) {
            message m;
            m.to = {n, p};
            m.body = "to " + std::to_string(p);
            rt.send(std::move(m));
        }
        rt.sleep_for(20ms);
        message late;
        late.to = {n, 3};
        late.body = "late";
        rt.send(std::move(late));
    });
    sim.start(n);
    sim.start(tx);
    sim.at(time_zero + 100ms, [&] { sim.restart(n); });
    sim.run_until(time_zero + 120ms);
    CHECK(seen == std::vector<std::string>{"port 2 gone at 10ms", "port 4: to 4, port 3: to 3", "port 2 gone at 110ms",
                                           "port 4: nothing, port 3: nothing"});
    CHECK(sim.net().messages_dropped() == 1);  // the message to port 2
}

TEST_CASE("a mailbox keeps arrival order through a backlog, and a crash or an unbind drops the backlog") {
    // A mailbox holds its oldest message inline and the others behind it: the order
    // must hold across that seam, as the backlog grows, drains and grows again.
    simulation sim({.seed = 1});
    std::vector<int> got;
    std::vector<std::string> log;
    const node_id rx = sim.add_node("rx", [&](runtime& rt) {
        rt.bind(test_port);
        rt.sleep_for(10ms);  // 0..49 wait in the box
        for (int i = 0; i < 20; ++i) got.push_back(rt.receive(test_port, time_never)->body.get<int>());
        rt.sleep_for(10ms);  // 50..99 join the 30 left
        while (auto m = rt.receive(test_port, rt.now())) got.push_back(m->body.get<int>());
        log.push_back("drained " + std::to_string(got.size()) + " at " + format_time(rt.now()));
        rt.sleep_for(10ms);  // 100..109 wait, then the port goes away with them
        rt.unbind(test_port);
        rt.bind(test_port);
        log.push_back(rt.receive(test_port, rt.now()) ? "kept across an unbind" : "unbind dropped the backlog");
        rt.sleep_for(1h);  // 110..119 wait until the crash
    });
    const node_id tx = sim.add_node("tx", [&](runtime& rt) {
        rt.sleep_for(1ms);
        for (int i = 0; i < 50; ++i) rt.send(to(rx, i));
        rt.sleep_for(10ms);
        for (int i = 50; i < 100; ++i) rt.send(to(rx, i));
        rt.sleep_for(10ms);
        for (int i = 100; i < 110; ++i) rt.send(to(rx, i));
        rt.sleep_for(10ms);
        for (int i = 110; i < 120; ++i) rt.send(to(rx, i));
    });
    sim.net().set_default_link({.latency = duration_distribution::constant(1ms)});
    sim.start(rx);
    sim.start(tx);
    sim.at(time_zero + 40ms, [&] { sim.restart(rx); });
    sim.run_until(time_zero + 50ms);
    std::vector<int> want(100);
    for (int i = 0; i < 100; ++i) want[static_cast<std::size_t>(i)] = i;
    CHECK(got == want);
    CHECK(log == std::vector<std::string>{"drained 100 at 20ms", "unbind dropped the backlog"});
    CHECK(sim.net().messages_delivered() == 120);  // the last 10 delivered, then lost in the crash
}

TEST_CASE("channel, completion and semaphore wait with virtual deadlines") {
    simulation sim({.seed = 1});
    std::vector<std::string> log;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        channel<int> ch(rt);
        completion<std::string> done(rt);
        semaphore pool(rt, 1);
        rt.spawn("producer", [&] {
            rt.sleep_for(10ms);
            ch.push(1);
            rt.sleep_for(10ms);
            done.set("finished");
        });
        auto v = ch.pop(rt.now() + 5ms);
        log.push_back(v ? "early" : "pop timed out at " + format_time(rt.now()));
        v = ch.pop(rt.now() + 50ms);
        log.push_back("popped " + std::to_string(v.value_or(-1)) + " at " + format_time(rt.now()));
        const std::string finished = done.wait(rt.now() + 50ms).value_or("none");
        log.push_back(finished + " at " + format_time(rt.now()));

        REQUIRE(pool.acquire(rt.now()) == acquire_result::granted);
        log.push_back(pool.acquire(rt.now()) == acquire_result::granted ? "second permit" : "fail fast");
        rt.spawn("holder-release", [&] {
            rt.sleep_for(7ms);
            pool.release();
        });
        const bool handed_off = pool.acquire(rt.now() + 20ms) == acquire_result::granted;
        log.push_back(handed_off ? "handed off at " + format_time(rt.now()) : "timed out");
    });
    sim.start(n);
    sim.run();
    CHECK(log == std::vector<std::string>{"pop timed out at 5ms", "popped 1 at 10ms", "finished at 20ms", "fail fast",
                                          "handed off at 27ms"});
}

TEST_CASE("a semaphore hands permits to waiters in arrival order") {
    simulation sim({.seed = 1});
    std::vector<int> order;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        semaphore pool(rt, 4);
        for (int i = 0; i < 4; ++i) REQUIRE(pool.acquire(rt.now()) == acquire_result::granted);
        for (int i = 0; i < 4; ++i) {
            rt.spawn("w", [&, i] {
                if (pool.acquire(rt.now() + 1s) == acquire_result::granted) order.push_back(i);
            });
        }
        rt.sleep_for(1ms);
        for (int i = 0; i < 4; ++i) pool.release();
        rt.sleep_for(1ms);
    });
    sim.start(n);
    sim.run();
    CHECK(order == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("a crash stops every fiber of the node at once and runs none of its code again") {
    simulation sim({.seed = 1});
    int ticks = 0;
    int after_crash = 0;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        for (int i = 0; i < 3; ++i) {
            rt.spawn("ticker", [&] {
                while (true) {
                    rt.sleep_for(10ms);
                    ++ticks;
                }
            });
        }
        rt.sleep_for(1h);
        ++after_crash;
    });
    sim.start(n);
    sim.at(time_zero + 55ms, [&] { sim.crash(n); });
    sim.run_until(time_zero + 1s);
    CHECK(ticks == 15);  // 3 fibers x 5 ticks before 55ms
    CHECK(after_crash == 0);
    CHECK(sim.get_node(n).live_fibers() == 0);
    CHECK(sim.get_node(n).state() == kernel::node_state::down);
}

TEST_CASE("restart boots a fresh process: volatile state gone, synced data survives") {
    simulation sim({.seed = 1});
    std::vector<std::string> seen;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        store& disk = rt.durable_store();
        seen.push_back("boot: synced=" + disk.get("synced").value_or("none").get<std::string>() +
                       " unsynced=" + disk.get("unsynced").value_or("none").get<std::string>());
        disk.put("synced", "yes");
        disk.sync();
        disk.put("unsynced", "yes");
        rt.sleep_for(1h);
    });
    sim.start(n);
    sim.at(time_zero + 10ms, [&] { sim.restart(n); });
    sim.run_until(time_zero + 20ms);
    CHECK(seen == std::vector<std::string>{"boot: synced=none unsynced=none", "boot: synced=yes unsynced=none"});
    CHECK(sim.get_node(n).incarnation() == 2);
}

TEST_CASE("a caller waiting on a crashed node gets a timeout, never a hang") {
    simulation sim({.seed = 1});
    std::string result = "pending";
    const node_id server = sim.add_node("server", [](runtime& rt) {
        rt.bind(test_port);
        while (auto m = rt.receive(test_port, time_never)) {
            rt.sleep_for(100ms);  // the reply would come after the crash
            message reply;
            reply.to = m->from;
            rt.send(std::move(reply));
        }
    });
    const node_id client = sim.add_node("client", [&](runtime& rt) {
        rt.bind(1);
        message m = to(server);
        m.from.port = 1;
        rt.send(std::move(m));
        result = rt.receive(1, rt.now() + 500ms) ? "reply" : "timeout at " + format_time(rt.now());
    });
    sim.start(server);
    sim.start(client);
    sim.at(time_zero + 50ms, [&] { sim.crash(server); });
    sim.run();
    CHECK(result == "timeout at 500ms");
}

TEST_CASE("pause stops the world: timers fire late and messages wait until resume") {
    simulation sim({.seed = 1});
    sim.net().set_default_link({.latency = duration_distribution::constant(1ms)});
    std::vector<std::string> log;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        rt.bind(test_port);
        rt.sleep_for(10ms);  // due during the pause
        log.push_back("timer at " + format_time(rt.now()));
        auto m = rt.receive(test_port, time_never);
        log.push_back("message at " + format_time(rt.now()));
    });
    const node_id tx = sim.add_node("tx", [&](runtime& rt) {
        rt.sleep_for(20ms);
        rt.send(to(n));
    });
    sim.start(n);
    sim.start(tx);
    sim.at(time_zero + 5ms, [&] { sim.pause(n); });
    sim.at(time_zero + 100ms, [&] { sim.resume(n); });
    sim.run();
    CHECK(log == std::vector<std::string>{"timer at 100ms", "message at 100ms"});
}

// State a fiber's frame owns, and a guard a child fiber holds on it (as a request
// handler runs inside its server loop's routes): the log says whether the child
// unwound while the owner's state was still alive.
namespace {
struct owned_state {
    std::vector<std::string>& log;
    bool alive = true;
    ~owned_state() {
        alive = false;
        log.push_back("owner unwound");
    }
};
struct uses_owner {
    owned_state& state;
    ~uses_owner() { state.log.push_back(state.alive ? "child unwound" : "child unwound after owner"); }
};
}  // namespace

TEST_CASE("a crash during a pause unwinds fibers woken in the pause newest first, then restart boots cleanly") {
    // The child runs inside state its owner's frame holds (as a request handler runs
    // inside its server loop's routes). Its timer fires during the pause, so it is
    // woken but not yet scheduled when the crash comes: it must still unwind before
    // its owner, whether the owner sleeps on (parked) or was woken in the pause too.
    for (const auto owner_sleep : {duration(1h), duration(8ms)}) {
        CAPTURE(format_duration(owner_sleep));
        simulation sim({.seed = 1});
        std::vector<std::string> log;
        int boots = 0;
        const node_id n = sim.add_node("n", [&](runtime& rt) {
            if (++boots > 1) {
                log.push_back("boot " + std::to_string(boots) + " at " + format_time(rt.now()));
                rt.sleep_for(1h);
                return;
            }
            owned_state state{log};
            rt.spawn("child", [&rt, &state] {
                uses_owner guard{state};
                rt.sleep_for(10ms);  // due during the pause
                state.log.push_back("child ran");
            });
            rt.sleep_for(owner_sleep);
            log.push_back("owner ran");
        });
        sim.start(n);
        sim.at(time_zero + 5ms, [&] { sim.pause(n); });
        sim.at(time_zero + 20ms, [&] { sim.crash(n); });
        sim.at(time_zero + 30ms, [&] { sim.resume(n); });  // the pause's end: the node is down, nothing runs
        sim.at(time_zero + 50ms, [&] { sim.restart(n); });
        sim.run_until(time_zero + 1s);
        CHECK(log == std::vector<std::string>{"child unwound", "owner unwound", "boot 2 at 50ms"});
        CHECK(sim.get_node(n).incarnation() == 2);
        CHECK(sim.get_node(n).state() == kernel::node_state::up);
        CHECK(sim.get_node(n).live_fibers() == 1);
    }
}

TEST_CASE("a crash unwinds a fiber woken in the same instant after the fibers it owns") {
    // The owner's timer fires at 20ms, just before the crash of that instant: the owner
    // is already queued to run while its child still sleeps. The child must unwind first.
    simulation sim({.seed = 1});
    std::vector<std::string> log;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        owned_state state{log};
        rt.spawn("child", [&rt, &state] {
            uses_owner guard{state};
            rt.sleep_for(1h);
        });
        rt.sleep_for(20ms);
        log.push_back("owner ran");
    });
    sim.start(n);
    // Scheduled at 10ms, so it comes after the owner's timer (set at 0) among the events of 20ms.
    sim.at(time_zero + 10ms, [&] { sim.at(time_zero + 20ms, [&] { sim.crash(n); }); });
    sim.run_until(time_zero + 1s);
    CHECK(log == std::vector<std::string>{"child unwound", "owner unwound"});
    CHECK(sim.get_node(n).live_fibers() == 0);
}

TEST_CASE("an uncaught exception in a fiber crashes its node") {
    simulation sim({.seed = 1});
    const node_id n = sim.add_node("n", [](runtime& rt) {
        rt.spawn("bad", [] { throw std::runtime_error("boom"); });
        rt.sleep_for(1h);
    });
    sim.start(n);
    sim.run_until(time_zero + 1s);
    CHECK(sim.get_node(n).state() == kernel::node_state::down);
    bool recorded = false;
    for (const auto& e : sim.trace().events()) recorded |= e.kind == event_kind::fiber_exception && e.detail == "boom";
    CHECK(recorded);
}

TEST_CASE("clock offset and drift move a node's now() and its timers follow its own clock") {
    simulation sim({.seed = 1});
    std::vector<time_point> local, real;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        rt.sleep_for(100ms);  // on the node's clock
        local.push_back(rt.now());
    });
    sim.get_node(n).set_clock_offset(1s);
    sim.get_node(n).set_clock_drift_ppm(100'000);  // 10 % fast
    sim.start(n);
    sim.run();
    REQUIRE(local.size() == 1);
    CHECK(local[0] == time_zero + 1s + 100ms);
    // 100ms on a clock running 10 % fast is about 90.9ms of true time.
    CHECK(sim.now() == time_zero + duration{90'909'091});
}

TEST_CASE("the monotonic clock ignores clock faults unless the node times with its wall clock") {
    simulation sim({.seed = 3});
    std::vector<time_point> wall, mono;
    const auto body = [&](runtime& rt) {
        wall.push_back(rt.now());
        mono.push_back(rt.monotonic_now());
        rt.sleep_until_monotonic(rt.monotonic_now() + 100ms);  // 100ms of elapsed time, whatever the clock says
        wall.push_back(rt.now());
        mono.push_back(rt.monotonic_now());
    };
    const node_id a = sim.add_node("a", body);
    const node_id b = sim.add_node("b", body);
    for (const node_id n : {a, b}) {
        sim.get_node(n).set_clock_offset(-3s);         // a step back
        sim.get_node(n).set_clock_drift_ppm(100'000);  // and 10 % fast
    }
    sim.get_node(b).set_wall_clock_timers(true);
    sim.start(a);
    sim.run();
    REQUIRE(mono.size() == 2);
    // Node a: elapsed true time, from time_zero, while its wall clock reads 3s behind.
    CHECK(mono[0] == time_zero);
    CHECK(mono[1] == time_zero + 100ms);
    CHECK(sim.now() == time_zero + 100ms);
    CHECK(wall[0] == time_zero - 3s);
    CHECK(wall[1] == time_zero - 3s + 110ms);  // 100ms of true time on a clock 10 % fast
    wall.clear();
    mono.clear();
    sim.start(b);
    sim.run();
    REQUIRE(mono.size() == 2);
    // Node b's "monotonic" readings are its wall clock's, and its sleep ends by that clock.
    CHECK(mono[0] == wall[0]);
    CHECK(mono[1] == wall[1]);
    CHECK(mono[1] - mono[0] >= 100ms);
    CHECK(sim.now() - (time_zero + 100ms) < 100ms);  // about 90.9ms of true time
}

TEST_CASE("many crash and restart cycles leave no fiber behind") {
    simulation sim({.seed = 3});
    const node_id n = sim.add_node("n", [](runtime& rt) {
        rt.bind(test_port);
        for (int i = 0; i < 10; ++i) {
            rt.spawn("worker", [&rt] {
                std::vector<int> state(100, 1);  // heap state to leak if unwinding were skipped
                rt.receive(test_port, time_never);
            });
        }
        rt.sleep_for(1h);
    });
    sim.start(n);
    for (int i = 1; i <= 200; ++i) sim.at(time_zero + milliseconds(i), [&] { sim.restart(n); });
    sim.run_until(time_zero + 1s);
    CHECK(sim.get_node(n).incarnation() == 201);
    CHECK(sim.get_node(n).live_fibers() == 11);
}

namespace {
std::uint64_t run_chatter(std::uint64_t seed) {
    simulation sim({.seed = seed});
    sim.net().set_default_link({.latency = duration_distribution::exponential(2ms)});
    std::vector<node_id> ids;
    for (int i = 0; i < 5; ++i) {
        ids.push_back(sim.add_node("n" + std::to_string(i), [&ids](runtime& rt) {
            rt.bind(test_port);
            random_stream& rng = rt.random("peers");
            for (int k = 0; k < 20; ++k) {
                rt.send(to(ids[rng.below(ids.size())], k));
                rt.receive(test_port, rt.now() + 5ms);
            }
        }));
    }
    for (const node_id id : ids) sim.start(id);
    sim.at(time_zero + 20ms, [&] { sim.crash(ids[2]); });
    sim.at(time_zero + 40ms, [&] { sim.restart(ids[2]); });
    sim.run();
    return sim.trace().hash();
}
}  // namespace

TEST_CASE("the same seed gives the same trace hash, another seed another hash") {
    const std::uint64_t a = run_chatter(7);
    CHECK(run_chatter(7) == a);
    CHECK(run_chatter(8) != a);
    CHECK(format_hash(a).size() == 16);
}
