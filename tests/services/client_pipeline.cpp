// The call pipeline in live simulations: retries and their gates, deadlines and
// their propagation, breaker, bulkhead, hedging, load balancing, headers.
// Links have a constant 1 ms latency, so every expected time is exact.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "service_testing.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace meshsim::svc::testing;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
// A service answering `status` on GET/POST /x, recording each request's headers.
struct recording_server {
    std::vector<sim::headers> seen{};
    std::uint16_t status = 200;

    sim::node_id add(simulation& sim, const std::string& name = "server", service_config config = {}) {
        return add_service(sim, name, config, [this](service& svc) {
            for (const char* method : {"GET", "POST"}) {
                svc.add_endpoint({.method = method, .path = "/x"}, [this](const request& req, endpoint_context&) {
                    seen.push_back(req.head);
                    return reply(status);
                });
            }
        });
    }
};

request x_request(std::string method = "GET") {
    request req;
    req.method = std::move(method);
    req.path = "/x";
    return req;
}

call_options key_options() {
    call_options options;
    options.generate_idempotency_key = true;
    return options;
}

call_outcome one_call(simulation& sim, sim::node_id server, edge_policy policy, request req = {},
                      call_options options = {}) {
    call_outcome out;
    req.path = "/x";
    const auto client = add_client(sim, "client", [&](sim::runtime&, rpc_client& c) {
        call_edge edge(c, "client->server", {{server, service_port}}, policy);
        out = edge.call(req, options);
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + 60s);
    return out;
}
}  // namespace

TEST_CASE("a retryable failure is retried until max attempts, with the attempt number in a header") {
    simulation sim({.seed = 1});
    recording_server server{.status = 503};
    const auto node = server.add(sim);
    edge_policy policy = bare_policy();
    policy.retry.max_attempts = 3;
    const call_outcome out = one_call(sim, node, policy);
    CHECK(out.result == outcome::http(503));
    CHECK(out.end == call_end::attempts_exhausted);
    CHECK(out.attempts_sent == 3);
    REQUIRE(server.seen.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(server.seen[i].get(header::attempt) == std::to_string(i + 1));
    // Backoff without jitter: 10 ms then 20 ms, plus three 2 ms round trips.
    CHECK(out.elapsed == 36ms);
}

TEST_CASE("a 4xx is never retried") {
    for (const std::uint16_t status : {400, 404, 409}) {
        simulation sim({.seed = 1});
        recording_server server{.status = status};
        const auto node = server.add(sim);
        edge_policy policy = bare_policy();
        policy.retry.max_attempts = 5;
        const call_outcome out = one_call(sim, node, policy);
        CHECK(out.result == outcome::http(status));
        CHECK(out.end == call_end::not_retryable);
        CHECK(server.seen.size() == 1);
    }
}

TEST_CASE("a non-idempotent call is retried only with an idempotency key, the same on every attempt") {
    simulation sim({.seed = 1});
    recording_server server{.status = 500};
    const auto node = server.add(sim);
    edge_policy policy = bare_policy();
    policy.retry.max_attempts = 3;
    const call_outcome out = one_call(sim, node, policy, x_request("POST"));
    CHECK(out.end == call_end::not_idempotent);
    CHECK(out.attempts_sent == 1);

    simulation sim2({.seed = 1});
    recording_server keyed{.status = 500};
    const auto node2 = keyed.add(sim2);
    const call_outcome out2 = one_call(sim2, node2, policy, x_request("POST"), key_options());
    CHECK(out2.end == call_end::attempts_exhausted);
    REQUIRE(keyed.seen.size() == 3);
    const std::string key = keyed.seen[0].get(header::idempotency_key);
    CHECK(key.size() == 16);
    for (const auto& head : keyed.seen) CHECK(head.get(header::idempotency_key) == key);
}

TEST_CASE("a retry budget refuses the retry that would exceed it in a live call") {
    simulation sim({.seed = 1});
    recording_server server{.status = 503};
    const auto node = server.add(sim);
    edge_policy policy = bare_policy();
    policy.retry.max_attempts = 5;
    // No ratio, a reserve of exactly one retry per 10 s.
    policy.retry_budget = retry_budget_config{.ttl = 10s, .min_retries_per_second = 0.1, .retry_ratio = 0};
    const call_outcome out = one_call(sim, node, policy);
    CHECK(out.end == call_end::budget_exhausted);
    CHECK(out.attempts_sent == 2);
    CHECK(out.result == outcome::http(503));
}

TEST_CASE("the gRPC retry throttle stops retries once half its tokens are gone") {
    simulation sim({.seed = 1});
    recording_server server{.status = 503};
    const auto node = server.add(sim);
    edge_policy policy = bare_policy();
    policy.retry.max_attempts = 10;
    // 4 tokens: retries are allowed while more than 2 remain, i.e. after 1 failure, not after 2.
    policy.retry_throttle = retry_throttle_config{.max_tokens = 4, .token_ratio = 0.1};
    const call_outcome out = one_call(sim, node, policy);
    CHECK(out.end == call_end::retry_throttled);
    CHECK(out.attempts_sent == 2);
}

TEST_CASE("the breaker opens on the failure that crosses its threshold, then calls fail fast with breaker_open") {
    simulation sim({.seed = 1});
    recording_server server{.status = 500};
    const auto node = server.add(sim);
    edge_policy policy = bare_policy();
    policy.circuit_breaker = circuit_breaker_config{.sliding_window_size_calls = 4, .minimum_number_of_calls = 4};
    std::vector<call_outcome> outs;
    const auto client = add_client(sim, "client", [&](sim::runtime&, rpc_client& c) {
        call_edge edge(c, "client->server", {{node, service_port}}, policy);
        for (int i = 0; i < 6; ++i) outs.push_back(edge.call(x_request()));
    });
    sim.start(node);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    REQUIRE(outs.size() == 6);
    for (int i = 0; i < 4; ++i) CHECK(outs[i].result == outcome::http(500));
    for (int i = 4; i < 6; ++i) {
        CHECK(outs[i].result.kind == outcome_kind::breaker_open);
        CHECK(outs[i].attempts_sent == 0);
        CHECK(outs[i].elapsed == 0ns);
    }
    CHECK(server.seen.size() == 4);
    // The window that decided: 4 calls, all failed.
    CHECK(trace_details(sim, sim::event_kind::state) ==
          std::vector<std::string>{
              "breaker client->server=OPEN from=CLOSED failure_rate=100 slow_rate=0 calls=4 failed=4 slow=0"});
}

TEST_CASE("a full bulkhead with max wait 0 fails fast, with a wait, the call takes the freed slot") {
    for (const auto max_wait : {sim::duration{0}, sim::duration{200ms}}) {
        simulation sim({.seed = 1});
        const auto server = add_service(sim, "server", {}, [](service& svc) {
            svc.add_endpoint({.path = "/x", .service_time = sim::duration_distribution::constant(100ms)},
                             [](const request&, endpoint_context&) { return reply(200); });
        });
        edge_policy policy = bare_policy();
        policy.bulkhead = bulkhead_config{.max_concurrent_calls = 1, .max_wait = max_wait};
        std::vector<call_outcome> outs(2);
        const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
            call_edge edge(c, "client->server", {{server, service_port}}, policy);
            rt.spawn("first", [&] { outs[0] = edge.call(x_request()); });
            rt.spawn("second", [&] { outs[1] = edge.call(x_request()); });
            rt.sleep_for(1s);
        });
        sim.start(server);
        sim.start(client);
        sim.run_until(sim::time_zero + 5s);
        CHECK(outs[0].result == outcome::success(200));
        CHECK(outs[0].elapsed == 102ms);
        if (max_wait == 0ns) {
            CHECK(outs[1].result.kind == outcome_kind::bulkhead_full);
            CHECK(outs[1].end == call_end::not_retryable);
            CHECK(outs[1].elapsed == 0ns);
        } else {
            CHECK(outs[1].result == outcome::success(200));
            CHECK(outs[1].elapsed == 204ms);
        }
    }
}

TEST_CASE("a 429 is retried no sooner than its Retry-After") {
    simulation sim({.seed = 1});
    service_config config;
    config.rate_limit = rate_limit_config{.rate_per_second = 2, .burst_requests = 1};
    recording_server server;
    const auto node = server.add(sim, "server", config);
    edge_policy policy = bare_policy();
    policy.retry.max_attempts = 3;
    std::vector<call_outcome> outs;
    const auto client = add_client(sim, "client", [&](sim::runtime&, rpc_client& c) {
        call_edge edge(c, "client->server", {{node, service_port}}, policy);
        outs.push_back(edge.call(x_request()));
        outs.push_back(edge.call(x_request()));
    });
    sim.start(node);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    REQUIRE(outs.size() == 2);
    CHECK(outs[1].result == outcome::success(200));
    CHECK(outs[1].attempts_sent == 2);
    // The second call arrives 2 ms after the first; the bucket refills 500 ms after the
    // first, so Retry-After is 498 ms (not the 10 ms backoff), plus two round trips.
    CHECK(outs[1].elapsed == 498ms + 4ms);
}

TEST_CASE("the remaining deadline is propagated, and an inherited scope's shorter deadline wins") {
    simulation sim({.seed = 1});
    recording_server server;
    const auto node = server.add(sim);
    edge_policy policy = bare_policy();
    policy.deadline = 800ms;
    call_scope scope{.correlation_id = "corr-1", .deadline = sim::time_zero + 300ms, .criticality = "critical"};
    std::vector<call_outcome> outs;
    const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
        call_edge edge(c, "client->server", {{node, service_port}}, policy);
        rt.sleep_for(100ms);
        outs.push_back(edge.call(x_request()));
        outs.push_back(edge.call(x_request(), call_options{.scope = &scope}));
    });
    sim.start(node);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    REQUIRE(server.seen.size() == 2);
    CHECK(server.seen[0].get(header::deadline_ns) == std::to_string(sim::duration(800ms).count()));
    // Sent at 102 ms against a deadline at 300 ms.
    CHECK(server.seen[1].get(header::deadline_ns) == std::to_string(sim::duration(198ms).count()));
    CHECK(server.seen[1].get(header::correlation_id) == "corr-1");
    CHECK(server.seen[1].get(header::criticality) == "critical");
    CHECK(outs[1].correlation_id == "corr-1");
    // Without a scope the correlation ID is drawn from the seeded stream.
    CHECK(server.seen[0].get(header::correlation_id).size() == 16);
    CHECK(server.seen[0].get(header::correlation_id) == outs[0].correlation_id);
}

TEST_CASE("a call whose deadline passes mid-attempt ends with deadline_exceeded, a per-try timeout with timeout") {
    simulation sim({.seed = 1});
    const auto server = add_service(sim, "server", {}, [](service& svc) {
        svc.add_endpoint({.path = "/x", .service_time = sim::duration_distribution::constant(1s)},
                         [](const request&, endpoint_context&) { return reply(200); });
    });
    std::vector<call_outcome> outs;
    const auto client = add_client(sim, "client", [&](sim::runtime&, rpc_client& c) {
        edge_policy policy = bare_policy();
        policy.timeout_per_try = 100ms;
        policy.deadline = 250ms;
        policy.retry.max_attempts = 5;
        call_edge edge(c, "client->server", {{server, service_port}}, policy);
        outs.push_back(edge.call(x_request()));
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    REQUIRE(outs.size() == 1);
    // Attempts at 0 (timeout at 100), 110 (timeout at 210), 230: cut at the deadline, 250.
    CHECK(outs[0].result.kind == outcome_kind::deadline_exceeded);
    CHECK(outs[0].end == call_end::deadline);
    CHECK(outs[0].attempts_sent == 3);
    CHECK(outs[0].elapsed == 250ms);
}

TEST_CASE("hedging cuts the tail latency of a server with a slow tail") {
    // Every fifth request the server handles takes 300 ms, the others 5 ms.
    auto run = [](hedging_config hedging, edge_stats& stats) {
        simulation sim({.seed = 1});
        int served = 0;
        const auto server = add_service(sim, "server", {}, [&served](service& svc) {
            svc.add_endpoint({.path = "/x"}, [&served](const request&, endpoint_context& ctx) {
                ctx.rt.compute(++served % 5 == 0 ? 300ms : 5ms);
                return reply(200);
            });
        });
        histogram latency;
        const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
            edge_policy policy = bare_policy();
            policy.hedging = hedging;
            call_edge edge(c, "client->server", {{server, service_port}}, policy);
            for (int i = 0; i < 50; ++i) {
                const call_outcome out = edge.call(x_request());
                CHECK(out.result == outcome::success(200));
                latency.record(out.elapsed);
            }
            stats = edge.stats();
            rt.sleep_for(2s);  // losers still in flight end before the edge goes away
        });
        sim.start(server);
        sim.start(client);
        sim.run_until(sim::time_zero + 60s);
        REQUIRE(latency.count() == 50);
        return latency.max();
    };
    edge_stats plain_stats;
    edge_stats hedged_stats;
    const sim::duration plain_max = run({}, plain_stats);
    const sim::duration hedged_max = run({.max_attempts = 2, .hedging_delay = 20ms}, hedged_stats);
    CHECK(plain_max == 302ms);
    // The backup goes out at 20 ms and is answered 7 ms later.
    CHECK(hedged_max == 27ms);
    CHECK(plain_stats.hedges == 0);
    // Backups shift which requests are slow, so there are more than 50 / 5 of them;
    // every one lost to its primary or won and had its primary cancelled.
    CHECK(hedged_stats.hedges == 12);
    CHECK(hedged_stats.hedges_cancelled == hedged_stats.hedges);
}

TEST_CASE("outlier ejection takes a failing instance out, and the ejection is a state event") {
    simulation sim({.seed = 1});
    recording_server good_a;
    recording_server bad{.status = 500};
    recording_server good_b;
    const auto a = good_a.add(sim, "a");
    const auto b = bad.add(sim, "b");
    const auto c = good_b.add(sim, "c");
    edge_policy policy = bare_policy();
    policy.retry.max_attempts = 2;
    policy.load_balancer.outlier_detection = outlier_detection_config{.consecutive_5xx = 2};
    std::vector<call_outcome> outs;
    const auto client = add_client(sim, "client", [&](sim::runtime&, rpc_client& cl) {
        call_edge edge(cl, "client->pool", {{a, service_port}, {b, service_port}, {c, service_port}}, policy);
        for (int i = 0; i < 12; ++i) outs.push_back(edge.call(x_request()));
    });
    for (auto n : {a, b, c}) sim.start(n);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    REQUIRE(outs.size() == 12);
    for (const auto& out : outs) CHECK(out.result == outcome::success(200));
    CHECK(bad.seen.size() == 2);
    CHECK(
        trace_details(sim, sim::event_kind::state) ==
        std::vector<std::string>{
            "outlier client->pool=ejected instance=b cause=consecutive_5xx consecutive=2 ejected_for_ns=30000000000"});
}

TEST_CASE("adaptive throttling rejects locally once the backend stops accepting") {
    simulation sim({.seed = 1});
    recording_server server{.status = 503};
    const auto node = server.add(sim);
    edge_policy policy = bare_policy();
    policy.adaptive_throttle = adaptive_throttle_config{};
    edge_stats stats;
    const auto client = add_client(sim, "client", [&](sim::runtime&, rpc_client& c) {
        call_edge edge(c, "client->server", {{node, service_port}}, policy);
        for (int i = 0; i < 100; ++i) edge.call(x_request());
        stats = edge.stats();
    });
    sim.start(node);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    // No accepts at all: the rejection probability climbs towards 1 as requests pile up.
    CHECK(stats.rejected_by_adaptive_throttle > 50);
    CHECK(server.seen.size() + stats.rejected_by_adaptive_throttle == 100);
}

TEST_CASE("an edge policy names every bad parameter, including retries combined with hedging") {
    edge_policy policy;
    policy.timeout_per_try = 0ns;
    policy.hedging.max_attempts = 3;
    policy.bulkhead->max_concurrent_calls = 0;
    const auto errors = policy.validate();
    REQUIRE(errors.size() == 3);
    CHECK(errors[0] == "timeout_per_try must be > 0, got 0s");
    CHECK(errors[1].starts_with("retry.max_attempts must be 1 when hedging.max_attempts > 1"));
    CHECK(errors[2] == "bulkhead.max_concurrent_calls must be >= 1, got 0");
    CHECK(edge_policy{}.validate().empty());
}
