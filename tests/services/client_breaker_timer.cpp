// A call edge moves its breaker OPEN -> HALF_OPEN by a timer when the breaker's
// automatic transition is on, so the state change happens (and is traced) at the
// end of the wait even when no call comes. Links: constant 1 ms latency.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "service_testing.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace meshsim::svc::testing;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
// Breaker states of the edge with their times.
std::vector<std::pair<sim::duration, std::string>> breaker_states(bool automatic) {
    simulation sim({.seed = 1, .fiber_stack_bytes = 256 * 1024});
    const auto server = add_service(sim, "server", {}, [](service& svc) {
        svc.add_endpoint({.path = "/x"}, [](const request&, endpoint_context&) { return reply(500); });
    });
    const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
        edge_policy policy = bare_policy();
        policy.circuit_breaker = circuit_breaker_config{.sliding_window_size_calls = 2,
                                                        .minimum_number_of_calls = 2,
                                                        .wait_duration_in_open_state = 1s,
                                                        .automatic_transition_from_open_to_half_open = automatic};
        call_edge edge(c, "client->server", {{server, service_port}}, policy);
        request req;
        req.path = "/x";
        for (int i = 0; i < 2; ++i) edge.call(req);
        rt.sleep_for(5s);  // no calls: only a timer can move the breaker
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    std::vector<std::pair<sim::duration, std::string>> out;
    for (const auto& e : sim.trace().events()) {
        if (e.kind == sim::event_kind::state) out.emplace_back(e.at - sim::time_zero, e.detail);
    }
    return out;
}
}  // namespace

TEST_CASE("with automatic transition the edge's breaker goes half-open at the end of the wait without a call") {
    using states = std::vector<std::pair<sim::duration, std::string>>;
    // Two 2 ms failures open it at 4 ms; the 1 s wait ends at 1004 ms.
    // Each transition carries the window of the state it left (none from OPEN).
    const std::string opened =
        "breaker client->server=OPEN from=CLOSED failure_rate=100 slow_rate=0 calls=2 failed=2 slow=0";
    CHECK(breaker_states(true) ==
          states{{4ms, opened},
                 {1004ms,
                  "breaker client->server=HALF_OPEN from=OPEN failure_rate=0 slow_rate=0 calls=0 failed=0 slow=0"}});
    CHECK(breaker_states(false) == states{{4ms, opened}});
}
