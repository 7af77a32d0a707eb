// Hedging with a delay taken from the edge's own latency percentile (Finagle's
// backup requests): a fixed delay until enough answers were seen, then the
// percentile. Links have a constant 1 ms latency, so every time is exact.
#include <catch2/catch.hpp>

#include <vector>

#include "service_testing.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace meshsim::svc::testing;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
// Six sequential calls to a server whose answers take 10 ms, except the first
// attempt of the sixth call, which takes 500 ms; returns the sixth call's outcome.
call_outcome sixth_call(std::uint64_t min_samples, std::vector<sim::duration>& delays) {
    simulation sim({.seed = 1, .fiber_stack_bytes = 256 * 1024});
    int served = 0;
    const auto server = add_service(sim, "server", {}, [&served](service& svc) {
        svc.add_endpoint({.path = "/x"}, [&served](const request&, endpoint_context& ctx) {
            ctx.rt.sleep_for(++served == 6 ? 500ms : 10ms);
            return reply(200);
        });
    });
    call_outcome out;
    const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
        edge_policy policy = bare_policy();
        policy.hedging = {.max_attempts = 2,
                          .hedging_delay = 100ms,
                          .hedging_delay_percentile = 95,
                          .hedging_delay_min_samples = min_samples};
        call_edge edge(c, "client->server", {{server, service_port}}, policy);
        request req;
        req.path = "/x";
        for (int i = 0; i < 6; ++i) {
            delays.push_back(edge.hedging_delay());
            out = edge.call(req);
        }
        rt.sleep_for(1s);  // the edge outlives the losing attempt still in flight
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + 60s);
    return out;
}
}  // namespace

TEST_CASE("hedging uses the fixed delay until enough samples, then the edge's latency percentile") {
    std::vector<sim::duration> delays;
    const call_outcome out = sixth_call(5, delays);
    // Five 12 ms answers (10 ms work + 2 ms round trip): p95 = 12 ms from then on.
    CHECK(delays == std::vector<sim::duration>{100ms, 100ms, 100ms, 100ms, 100ms, 12ms});
    CHECK(out.result == outcome::success(200));
    CHECK(out.attempts_sent == 2);
    // The backup went out 12 ms in and answered 12 ms later.
    CHECK(out.elapsed == 24ms);
}

TEST_CASE("hedging keeps the fixed delay while the edge has fewer samples than required") {
    std::vector<sim::duration> delays;
    const call_outcome out = sixth_call(10, delays);
    CHECK(delays.back() == 100ms);
    CHECK(out.attempts_sent == 2);
    CHECK(out.elapsed == 112ms);
}

TEST_CASE("a hedging percentile outside [0, 100] is a named config error") {
    edge_policy policy = bare_policy();
    policy.hedging.hedging_delay_percentile = 101;
    const config_errors errors = policy.validate();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].rfind("hedging.hedging_delay_percentile must be in [0, 100]", 0) == 0);
}
