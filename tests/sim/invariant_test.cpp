// Invariants run in every build: each kernel invariant broken on purpose (a misuse
// no correct caller makes) stops the run with a message that names the invariant,
// the seed and the virtual time, whether it broke in the event loop or in a fiber,
// and even when the code it broke in swallows the exception.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "sim/invariant.hpp"
#include "sim/kernel/simulation.hpp"
#include "sim/sync.hpp"

using namespace meshsim::sim;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using kernel::simulation;

namespace {

// The violation run_until throws, or nothing when it returns.
std::optional<invariant_violation> run_until_broken(simulation& sim, time_point limit) {
    try {
        sim.run_until(limit);
    } catch (const invariant_violation& v) {
        return v;
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("an event scheduled before now stops the run with the seed and the virtual time") {
    simulation sim({.seed = 42});
    sim.at(time_zero + 1500ms, [&] { sim.schedule_event(time_zero + 1s, kernel::event_type::network, 0, 0); });
    const auto broken = run_until_broken(sim, time_zero + 2s);
    REQUIRE(broken);
    CHECK_THAT(broken->what(), StartsWith("invariant broken at virtual time 1.5s (seed 42): an event is never "
                                          "scheduled before now (at >= now_, sim/kernel/simulation.hpp:"));
    CHECK(broken->seed() == 42u);
    CHECK(broken->at() == time_zero + 1500ms);
    CHECK(sim.now() == time_zero + 1500ms);  // the run stopped where it broke
}

TEST_CASE("the event loop never waits: asking it for its fiber breaks an invariant") {
    simulation sim({.seed = 3});
    const node_id n = sim.add_node("n", [](runtime& rt) { rt.sleep_for(1h); });
    sim.start(n);
    sim.at(time_zero + 250ms, [&] { (void)sim.get_node(n).current_fiber(); });
    const auto broken = run_until_broken(sim, time_zero + 1s);
    REQUIRE(broken);
    CHECK_THAT(broken->what(), StartsWith("invariant broken at virtual time 250ms (seed 3): waiting is for fibers; "
                                          "the event loop never blocks (in_fiber(), sim/kernel/simulation.cpp:"));
}

TEST_CASE("a fiber that parks with a stale ref stops the run, even when it swallows the exception") {
    simulation sim({.seed = 7});
    bool swallowed = false;
    bool ran_on = false;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        rt.sleep_for(2s);
        const fiber_ref self = rt.current_fiber();
        rt.park(self, rt.now() + 1ms);
        try {
            rt.park(self, rt.now() + 1ms);  // that wait is over: its ref is stale
        } catch (const std::exception&) {
            swallowed = true;  // as a request handler turning exceptions into a 500 would
        }
        rt.sleep_for(1ms);
        ran_on = true;
    });
    sim.start(n);
    const auto broken = run_until_broken(sim, time_zero + 10s);
    REQUIRE(broken);
    CHECK(swallowed);
    CHECK_FALSE(ran_on);  // stopped at the end of the instant it broke in
    CHECK_THAT(broken->what(), StartsWith("invariant broken at virtual time 2.001s (seed 7): a fiber parks only "
                                          "itself, with the ref of its current wait"));
    CHECK(broken->at() == time_zero + 2001ms);
    // Every later step throws it again: a broken run does not go on.
    CHECK_THROWS_AS(sim.run_until(time_zero + 20s), invariant_violation);
}

TEST_CASE("a fiber waits only through its own node's runtime (a mailbox has one owner)") {
    simulation sim({.seed = 5});
    node_id b = no_node;
    const node_id a = sim.add_node("a", [&](runtime& rt) {
        rt.sleep_for(10ms);
        (void)sim.get_node(b).receive(7, rt.now() + 1s);  // b's mailbox, from a's fiber
    });
    b = sim.add_node("b", [](runtime& rt) {
        rt.bind(7);
        rt.sleep_for(1h);
    });
    sim.start(a);
    sim.start(b);
    const auto broken = run_until_broken(sim, time_zero + 1s);
    REQUIRE(broken);
    CHECK_THAT(broken->what(), StartsWith("invariant broken at virtual time 10ms (seed 5): a fiber waits only "
                                          "through its own node's runtime (sim_.slot(self.slot).owner == id_, "
                                          "sim/kernel/node.cpp:"));
}

TEST_CASE("a message goes only into its destination node's mailbox, and a node that is down sends nothing") {
    simulation sim({.seed = 11});
    const node_id a = sim.add_node("a", [](runtime& rt) {
        rt.bind(7);
        rt.sleep_for(1h);
    });
    const node_id b = sim.add_node("b", [](runtime&) {});
    sim.start(a);
    SECTION("delivered to another node") {
        sim.at(time_zero + 1s, [&] {
            message m;
            m.to = {b, 7};
            (void)sim.get_node(a).deliver(std::move(m));
        });
        const auto broken = run_until_broken(sim, time_zero + 2s);
        REQUIRE(broken);
        CHECK_THAT(broken->what(), StartsWith("invariant broken at virtual time 1s (seed 11): a message goes only "
                                              "into its destination node's mailbox"));
    }
    SECTION("sent by a node that never started") {
        sim.at(time_zero + 3s, [&] {
            message m;
            m.to = {a, 7};
            sim.get_node(b).send(std::move(m));
        });
        const auto broken = run_until_broken(sim, time_zero + 4s);
        REQUIRE(broken);
        CHECK_THAT(broken->what(), StartsWith("invariant broken at virtual time 3s (seed 11): a node that is down "
                                              "sends nothing"));
    }
}

TEST_CASE("a permit released beyond those acquired is reported, ignored, and stops the run") {
    simulation sim({.seed = 13});
    std::size_t available_after = 0;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        semaphore pool(rt, 2);
        REQUIRE(pool.acquire(rt.now()) == acquire_result::granted);
        rt.sleep_for(40ms);
        pool.release();
        pool.release();  // once too often: from a destructor this must not throw
        available_after = pool.available();
        rt.sleep_for(1h);
    });
    sim.start(n);
    const auto broken = run_until_broken(sim, time_zero + 1s);
    REQUIRE(broken);
    CHECK(available_after == 2);  // the extra release did not mint a permit
    CHECK_THAT(broken->what(), StartsWith("invariant broken at virtual time 40ms (seed 13): a permit is released "
                                          "only after it was acquired (available_ < permits_, sim/sync.hpp:"));
}

TEST_CASE("a semaphore hands a permit to the newest waiter under lifo and evicts the lowest rank") {
    simulation sim({.seed = 1});
    std::vector<std::string> log;
    const node_id n = sim.add_node("n", [&](runtime& rt) {
        semaphore pool(rt, 1, queue_discipline::lifo);
        REQUIRE(pool.acquire(rt.now()) == acquire_result::granted);
        for (int i = 0; i < 3; ++i) {
            rt.spawn("w", [&, i] {
                const acquire_result r = pool.acquire(rt.now() + 1s, /*rank=*/i == 1 ? 0 : 2);
                log.push_back(std::to_string(i) + (r == acquire_result::granted   ? " granted"
                                                   : r == acquire_result::evicted ? " evicted"
                                                                                  : " timed out"));
                if (r == acquire_result::granted) pool.release();
            });
        }
        rt.sleep_for(1ms);
        CHECK(pool.waiting() == 3);
        CHECK_FALSE(pool.evict_below(0));  // nobody ranks below 0
        CHECK(pool.evict_below(1));        // waiter 1, rank 0
        rt.sleep_for(1ms);
        pool.release();
        rt.sleep_for(1ms);
    });
    sim.start(n);
    sim.run();
    CHECK(log == std::vector<std::string>{"1 evicted", "2 granted", "0 granted"});
}

TEST_CASE("outside a simulation a broken invariant says so, with no seed and no time") {
    random_stream r(1, "x");
    try {
        (void)r.below(0);
        FAIL("below(0) returned");
    } catch (const invariant_violation& v) {
        CHECK_THAT(v.what(), StartsWith("invariant broken outside a simulation: a draw below a bound has a bound "
                                        "above 0 (bound > 0, sim/random.cpp:"));
        CHECK_FALSE(v.seed());
        CHECK_FALSE(v.at());
    }
    {
        // While a simulation exists its scope names its seed, and afterwards no longer.
        simulation sim({.seed = 99});
        CHECK_THROWS_WITH(r.uniform_int(2, 1), StartsWith("invariant broken at virtual time 0s (seed 99): a draw in "
                                                          "[lo, hi] has lo <= hi"));
    }
    CHECK_THROWS_WITH(r.uniform_int(2, 1), StartsWith("invariant broken outside a simulation"));
}

TEST_CASE("a note goes after the message, the seed and the time are kept") {
    const invariant_violation v("invariant broken at virtual time 1s (seed 4): x", 4, time_zero + 1s);
    const invariant_violation noted = v.with_note("; reproduce: meshsim run f.json --seed 4");
    CHECK(std::string(noted.what()) ==
          "invariant broken at virtual time 1s (seed 4): x; reproduce: meshsim run f.json --seed 4");
    CHECK(noted.seed() == 4u);
    CHECK(noted.at() == time_zero + 1s);
}
