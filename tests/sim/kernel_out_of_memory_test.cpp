// Running out of memory is the simulator failing, not the simulated node: the run
// stops with std::bad_alloc in the event loop's caller (the CLI makes it exit 3),
// instead of crashing the node and carrying on with a result nobody can trust.
#include <catch2/catch.hpp>

#include <new>
#include <stdexcept>

#include "sim/kernel/simulation.hpp"

using namespace meshsim::sim;
using namespace std::chrono_literals;
using kernel::simulation;

TEST_CASE("std::bad_alloc in a fiber ends the run instead of crashing the node", "[kernel][memory]") {
    simulation sim({.seed = 1});
    const node_id n = sim.add_node("n", [](runtime& rt) {
        rt.spawn("hungry", [] { throw std::bad_alloc(); });
        rt.sleep_for(1h);
    });
    sim.start(n);
    CHECK_THROWS_AS(sim.run_until(time_zero + 1s), std::bad_alloc);
    CHECK(sim.get_node(n).state() != kernel::node_state::down);
    for (const auto& e : sim.trace().events()) CHECK(e.kind != event_kind::fiber_exception);
    sim.shutdown();  // the fibers still unwind cleanly
}

TEST_CASE("another exception in a fiber still crashes only its node", "[kernel][memory]") {
    // The counterpart: without it the test above could pass by stopping on anything.
    simulation sim({.seed = 1});
    const node_id n = sim.add_node("n", [](runtime& rt) {
        rt.spawn("bad", [] { throw std::length_error("too long"); });
        rt.sleep_for(1h);
    });
    sim.start(n);
    CHECK_NOTHROW(sim.run_until(time_zero + 1s));
    CHECK(sim.get_node(n).state() == kernel::node_state::down);
}
