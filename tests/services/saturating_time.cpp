// Virtual time at the top of its range: a duration of duration::max()
// (9223372036854775807 ns) means "never" everywhere the platform adds it to a time
// or scales it, instead of wrapping to a time in the past (signed overflow: UBSan
// reports it; in Release a call failed with 0 attempts, a delay or pause applied no
// delay, a 1000x slowdown answered at once and all hedges fired together).
// Links have a constant 1 ms latency, so every time is exact.
#include <catch2/catch.hpp>

#include <optional>

#include "service_testing.hpp"
#include "sim/kernel/faults.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace meshsim::svc::testing;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
constexpr sim::duration forever = sim::duration::max();

request get_x() {
    request req;
    req.path = "/x";
    return req;
}

// A server answering 200 on GET /x after `service_time` of work.
sim::node_id add_server(simulation& sim, sim::duration service_time, service** out = nullptr) {
    return add_service(
        sim, "server", {},
        [service_time](service& svc) {
            svc.add_endpoint({.path = "/x", .service_time = sim::duration_distribution::constant(service_time)},
                             [](const request&, endpoint_context&) { return reply(200); });
        },
        out);
}

// One call over `policy` from a client node, the simulation run to `until`.
call_outcome one_call(simulation& sim, sim::node_id server, const edge_policy& policy, sim::duration until = 60s) {
    call_outcome out;
    const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
        call_edge edge(c, "client->server", {{server, service_port}}, policy);
        out = edge.call(get_x());
        rt.sleep_until(sim::time_never);  // the edge outlives hedges still in flight
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + until);
    return out;
}
}  // namespace

TEST_CASE("an edge whose timeout and deadline are duration::max() waits for the answer") {
    simulation sim({.seed = 1});
    const auto server = add_server(sim, 10ms);
    edge_policy policy = bare_policy();
    policy.timeout_per_try = forever;
    policy.deadline = forever;
    policy.retry.max_attempts = 3;
    const call_outcome out = one_call(sim, server, policy);
    CHECK(out.result == outcome::success(200));
    CHECK(out.attempts_sent == 1);
    CHECK(out.elapsed == 12ms);
}

TEST_CASE("a propagated deadline of duration::max() is never reached, in either propagation mode") {
    for (const auto mode : {deadline_propagation_mode::per_try, deadline_propagation_mode::whole_call}) {
        simulation sim({.seed = 1});
        service* svc_ptr = nullptr;
        service_config config;
        config.honour_deadlines = true;
        const auto server = add_service(
            sim, "server", config,
            [](service& svc) {
                svc.add_endpoint({.path = "/x"}, [](const request& req, endpoint_context& ctx) {
                    CHECK(req.head.get(header::deadline_ns) == std::to_string(forever.count() - 1'000'000));
                    CHECK(ctx.scope.deadline == sim::time_never);
                    return reply(200);
                });
            },
            &svc_ptr);
        edge_policy policy = bare_policy();
        policy.timeout_per_try = forever;
        policy.deadline = forever;
        policy.deadline_propagation = mode;
        const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
            rt.sleep_for(1ms);  // sent at 1 ms: max - 1 ms remain
            call_edge edge(c, "client->server", {{server, service_port}}, policy);
            CHECK(edge.call(get_x()).result == outcome::success(200));
        });
        sim.start(server);
        sim.start(client);
        sim.run_until(sim::time_zero + 10s);
        CHECK(svc_ptr->stats().handled == 1);
        CHECK(svc_ptr->stats().dropped_expired == 0);
    }
}

TEST_CASE("a 1000x slowdown of a long service time is a very long time, not zero") {
    simulation sim({.seed = 1});
    // About 3 years of work, 1000x slower: past the end of virtual time, so never done
    // (llround of the product used to overflow: the request was answered at once).
    const auto server = add_server(sim, forever / 100);
    sim.get_node(server).set_slowness(1000);
    edge_policy policy = bare_policy();
    policy.timeout_per_try = 1s;
    const call_outcome out = one_call(sim, server, policy);
    CHECK(out.result.kind == outcome_kind::timeout);
    CHECK(out.elapsed == 1s);

    // A slowdown that still fits takes exactly its time: 2 ms of work x 1000 = 2 s.
    simulation sim2({.seed = 1});
    const auto server2 = add_server(sim2, 2ms);
    sim2.get_node(server2).set_slowness(1000);
    edge_policy patient = bare_policy();
    patient.timeout_per_try = 10s;
    patient.deadline = 10s;
    const call_outcome out2 = one_call(sim2, server2, patient);
    CHECK(out2.result == outcome::success(200));
    CHECK(out2.elapsed == 2002ms);
}

TEST_CASE("hedges with a hedging delay of duration::max() do not all fire at once") {
    simulation sim({.seed = 1});
    const auto server = add_server(sim, 50ms);
    edge_policy policy = bare_policy();
    policy.hedging.max_attempts = 3;
    policy.hedging.hedging_delay = forever;
    const call_outcome out = one_call(sim, server, policy);
    CHECK(out.result == outcome::success(200));
    CHECK(out.attempts_sent == 1);
    CHECK(out.hedges == 0);
    CHECK(out.elapsed == 52ms);
}

TEST_CASE("a backoff of duration::max() ends the call at its deadline check, not with an instant retry") {
    simulation sim({.seed = 1});
    const auto server = add_service(sim, "server", {}, [](service& svc) {
        svc.add_endpoint({.path = "/x"}, [](const request&, endpoint_context&) { return reply(503); });
    });
    edge_policy policy = bare_policy();
    policy.retry.max_attempts = 5;
    policy.retry.backoff = {forever, forever, 1.0, jitter_mode::none};
    const call_outcome out = one_call(sim, server, policy);
    CHECK(out.end == call_end::deadline);
    CHECK(out.attempts_sent == 1);
    CHECK(out.retries == 0);
    CHECK(out.elapsed == 2ms);
}

TEST_CASE("a delay fault or a pause of duration::max() delays for ever, not for nothing") {
    using namespace sim::kernel;
    SECTION("delay") {
        simulation sim({.seed = 1});
        const auto server = add_server(sim, 0ms);
        fault_injector faults(sim);
        const delay_fault forever_delay{.node = "server", .probability = 1, .delay = forever};
        REQUIRE(faults.schedule({fault_spec{.at = sim::time_zero, .what = forever_delay}}).empty());
        edge_policy policy = bare_policy();
        policy.timeout_per_try = 1s;
        const call_outcome out = one_call(sim, server, policy);
        CHECK(out.result.kind == outcome_kind::timeout);
        CHECK(out.elapsed == 1s);
    }
    SECTION("pause") {
        simulation sim({.seed = 1});
        const auto server = add_server(sim, 0ms);
        fault_injector faults(sim);
        REQUIRE(faults.schedule({fault_spec{.at = sim::time_zero, .length = forever, .what = pause_fault{"server"}}})
                    .empty());
        edge_policy policy = bare_policy();
        policy.timeout_per_try = 1s;
        policy.deadline = 10s;
        policy.retry.max_attempts = 3;
        const call_outcome out = one_call(sim, server, policy, 100s);
        CHECK(out.result.kind == outcome_kind::timeout);
        CHECK(out.attempts_sent == 3);
        CHECK(faults.active() == 1);  // still paused at the end of the run
    }
}
