// Per-try deadline propagation (x-deadline-ns carries what the attempt may still
// take, Envoy's x-envoy-expected-rq-timeout-ms), its whole-call alternative, and
// retries counted where the retry loop decides them, even when a breaker then
// rejects the attempt. Links have a constant 1 ms latency, so every time is exact.
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
std::string ns_text(sim::duration d) { return std::to_string(d.count()); }

request get(std::string path) {
    request req;
    req.path = std::move(path);
    return req;
}

// A server answering 503 on GET /x at once, keeping each request's x-deadline-ns.
struct failing_server {
    std::vector<std::string> deadlines{};

    sim::node_id add(simulation& sim) {
        return add_service(sim, "server", {}, [this](service& svc) {
            svc.add_endpoint({.path = "/x"}, [this](const request& req, endpoint_context&) {
                deadlines.push_back(req.head.get(header::deadline_ns));
                return reply(503);
            });
        });
    }
};

std::vector<std::string> deadlines_seen(deadline_propagation_mode mode) {
    simulation sim({.seed = 1});
    failing_server server;
    const auto node = server.add(sim);
    edge_policy policy = bare_policy();
    policy.timeout_per_try = 100ms;
    policy.deadline = 120ms;
    policy.retry.max_attempts = 3;
    policy.deadline_propagation = mode;
    const auto client = add_client(sim, "client", [&](sim::runtime&, rpc_client& c) {
        call_edge edge(c, "client->server", {{node, service_port}}, policy);
        (void)edge.call(get("/x"));
    });
    sim.start(node);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    return server.deadlines;
}
}  // namespace

TEST_CASE("x-deadline-ns carries min(per-try timeout, remaining deadline) by default, the whole call's on request") {
    // Attempts at 0, 12 ms (2 ms round trip + 10 ms backoff) and 34 ms (+ 20 ms) against
    // a deadline at 120 ms: 120, 108 and 86 ms remain; the per-try timeout is 100 ms.
    CHECK(deadlines_seen(deadline_propagation_mode::per_try) ==
          std::vector<std::string>{ns_text(100ms), ns_text(100ms), ns_text(86ms)});
    CHECK(deadlines_seen(deadline_propagation_mode::whole_call) ==
          std::vector<std::string>{ns_text(120ms), ns_text(108ms), ns_text(86ms)});
    CHECK(edge_policy{}.deadline_propagation == deadline_propagation_mode::per_try);
    CHECK(to_string(deadline_propagation_mode::per_try) == "per_try");
    CHECK(to_string(deadline_propagation_mode::whole_call) == "whole_call");
}

TEST_CASE("a server honouring deadlines drops a first attempt once its per-try timeout passed, not its retry") {
    for (const auto mode : {deadline_propagation_mode::per_try, deadline_propagation_mode::whole_call}) {
        CAPTURE(to_string(mode));
        simulation sim({.seed = 1});
        service* svc_ptr = nullptr;
        service_config config;
        config.max_concurrent_requests = 1;
        config.queue_timeout = 10s;
        config.honour_deadlines = true;
        const auto server = add_service(
            sim, "server", config,
            [](service& svc) {
                svc.add_endpoint({.path = "/busy", .service_time = sim::duration_distribution::constant(100ms)},
                                 [](const request&, endpoint_context&) { return reply(200); });
                svc.add_endpoint({.path = "/x", .service_time = sim::duration_distribution::constant(20ms)},
                                 [](const request&, endpoint_context&) { return reply(200); });
            },
            &svc_ptr);
        call_outcome out;
        const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
            call_edge filler(c, "filler", {{server, service_port}}, bare_policy());
            edge_policy policy = bare_policy();
            policy.timeout_per_try = 80ms;
            policy.deadline = 1s;
            policy.retry.max_attempts = 2;
            policy.deadline_propagation = mode;
            call_edge edge(c, "client->server", {{server, service_port}}, policy);
            rt.spawn("filler", [&] { (void)filler.call(get("/busy")); });  // holds the only slot 1..101 ms
            rt.sleep_for(1ms);
            out = edge.call(get("/x"));
            rt.sleep_for(1s);  // the edges outlive the work they started
        });
        sim.start(server);
        sim.start(client);
        sim.run_until(sim::time_zero + 10s);
        // Attempt 1 is sent at 1 ms and queues behind the filler; its client gives up at
        // 81 ms and retries at 91 ms (10 ms backoff); the slot frees at 101 ms.
        CHECK(out.result == outcome::success(200));
        CHECK(out.attempts_sent == 2);
        CHECK(out.retries == 1);
        const service_stats& stats = svc_ptr->stats();
        if (mode == deadline_propagation_mode::per_try) {
            // Attempt 1's deadline (arrival 2 ms + 80 ms) has passed: dropped, and the retry
            // is served at once, 101..121 ms, answered at 122 ms (121 ms after the call).
            CHECK(stats.dropped_expired == 1);
            CHECK(stats.handled == 2);
            CHECK(out.elapsed == 121ms);
        } else {
            // Attempt 1 still has the call's second: served 101..121 ms for nobody, then the retry.
            CHECK(stats.dropped_expired == 0);
            CHECK(stats.handled == 3);
            CHECK(out.elapsed == 141ms);
        }
    }
}

TEST_CASE("retries are counted where decided, also when a breaker rejects the attempt they start") {
    simulation sim({.seed = 1});
    failing_server server;
    const auto node = server.add(sim);
    edge_policy policy = bare_policy();
    policy.retry.max_attempts = 3;
    circuit_breaker_config breaker;
    breaker.sliding_window_size_calls = 4;
    breaker.minimum_number_of_calls = 4;
    breaker.failure_rate_threshold_percent = 50;
    policy.circuit_breaker = breaker;
    std::vector<call_outcome> outs;
    const auto client = add_client(sim, "client", [&](sim::runtime&, rpc_client& c) {
        call_edge edge(c, "client->server", {{node, service_port}}, policy);
        for (int i = 0; i < 4; ++i) outs.push_back(edge.call(get("/x")));
        CHECK(edge.stats().retries == 3);
        CHECK(edge.stats().rejected_by_breaker == 3);
    });
    sim.start(node);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    REQUIRE(outs.size() == 4);
    // Call 1: three 503s, the breaker still counting. Call 2: its first 503 opens the
    // breaker; the retry the loop decided is rejected before it is sent.
    CHECK(outs[0].attempts_sent == 3);
    CHECK(outs[0].retries == 2);
    CHECK(outs[1].attempts_sent == 1);
    CHECK(outs[1].retries == 1);
    CHECK(outs[1].result.kind == outcome_kind::breaker_open);
    // Calls 3 and 4 are rejected outright: no attempt, nothing to retry.
    for (std::size_t i = 2; i < 4; ++i) {
        CHECK(outs[i].attempts_sent == 0);
        CHECK(outs[i].retries == 0);
        CHECK(outs[i].result.kind == outcome_kind::breaker_open);
    }
    // What summary.json derived before: attempts - calls = 4 - 4 = 0 retries.
    std::uint32_t attempts = 0, retries = 0;
    for (const call_outcome& o : outs) {
        attempts += o.attempts_sent;
        retries += o.retries;
    }
    CHECK(attempts == 4);
    CHECK(retries == 3);
}

TEST_CASE("hedges are counted apart from retries") {
    simulation sim({.seed = 1});
    service_config config;
    const auto node = add_service(sim, "server", config, [](service& svc) {
        svc.add_endpoint({.path = "/x", .service_time = sim::duration_distribution::constant(50ms)},
                         [](const request&, endpoint_context&) { return reply(200); });
    });
    edge_policy policy = bare_policy();
    policy.hedging.max_attempts = 3;
    policy.hedging.hedging_delay = 10ms;
    call_outcome out;
    const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
        call_edge edge(c, "client->server", {{node, service_port}}, policy);
        out = edge.call(get("/x"));
        rt.sleep_for(1s);
    });
    sim.start(node);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    CHECK(out.result == outcome::success(200));
    CHECK(out.attempts_sent == 3);
    CHECK(out.hedges == 2);
    CHECK(out.retries == 0);
}
