// Properties of the call pipeline over live simulations: for any sequence of
// server answers and any mix of gates, a call never sends more than max attempts.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <vector>

#include "service_testing.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace meshsim::svc::testing;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
bool retryable_status(std::uint16_t status) { return status == 429 || status >= 500; }

// Calls once against a server that answers statuses[i] to its i-th request (200 after the list).
call_outcome call_against(const std::vector<std::uint16_t>& statuses, const edge_policy& policy) {
    simulation sim({.seed = 1});
    std::size_t served = 0;
    const auto server = add_service(sim, "server", {}, [&](service& svc) {
        svc.add_endpoint({.path = "/x"}, [&](const request&, endpoint_context&) {
            const std::uint16_t status = served < statuses.size() ? statuses[served] : 200;
            ++served;
            return reply(status);
        });
    });
    call_outcome out;
    const auto client = add_client(sim, "client", [&](sim::runtime&, rpc_client& c) {
        call_edge edge(c, "client->server", {{server, service_port}}, policy);
        request req;
        req.path = "/x";
        out = edge.call(req);
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + 120s);
    RC_ASSERT(served == out.attempts_sent);
    return out;
}
}  // namespace

TEST_CASE("call pipeline properties") {
    rc::prop("attempts stop at the first non-retryable answer and never exceed max attempts", [] {
        const auto statuses = *rc::gen::container<std::vector<std::uint16_t>>(
            rc::gen::element<std::uint16_t>(200, 201, 400, 404, 429, 500, 503));
        edge_policy policy = bare_policy();
        policy.retry.max_attempts = *rc::gen::inRange<std::uint32_t>(1, 6);
        const call_outcome out = call_against(statuses, policy);
        std::uint32_t expected = 1;
        while (expected <= statuses.size() && retryable_status(statuses[expected - 1])) ++expected;
        expected = std::min(expected, policy.retry.max_attempts);
        RC_ASSERT(out.attempts_sent == expected);
    });

    rc::prop("with budget, throttle and breaker on, attempts never exceed max attempts", [] {
        const auto statuses =
            *rc::gen::container<std::vector<std::uint16_t>>(rc::gen::element<std::uint16_t>(200, 404, 429, 500, 503));
        edge_policy policy = bare_policy();
        policy.retry.max_attempts = *rc::gen::inRange<std::uint32_t>(1, 6);
        policy.retry_budget = retry_budget_config{
            .ttl = 10s, .min_retries_per_second = *rc::gen::element(0.1, 0.2, 1.0), .retry_ratio = 0};
        policy.retry_throttle =
            retry_throttle_config{.max_tokens = *rc::gen::element(2.0, 4.0, 10.0), .token_ratio = 0.1};
        policy.circuit_breaker = circuit_breaker_config{.sliding_window_size_calls = 2, .minimum_number_of_calls = 2};
        const call_outcome out = call_against(statuses, policy);
        RC_ASSERT(out.attempts_sent <= policy.retry.max_attempts);
        RC_ASSERT(out.attempts_sent >= 1u);
    });
}
