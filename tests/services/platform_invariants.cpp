// The platform's state machines state their invariants in the code, and they run in
// every build: each broken here on purpose (through a test-only door, as no caller
// of the public API can) stops the run with the seed and the virtual time. Also the
// one place IDs are made.
#include <catch2/catch.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "services/platform/circuit_breaker.hpp"
#include "services/platform/ids.hpp"
#include "services/platform/retry_throttle.hpp"
#include "sim/invariant.hpp"
#include "sim/kernel/simulation.hpp"

using namespace meshsim;
using namespace std::chrono_literals;
using Catch::Matchers::StartsWith;

namespace meshsim::svc {
struct circuit_breaker_test_access {
    static void move_on_its_own(circuit_breaker& b, sim::time_point now, breaker_state next) {
        b.move_on_its_own(now, next);
    }
};
struct retry_throttle_test_access {
    static void set_tokens_milli(retry_throttle& t, std::int64_t tokens_milli) { t.tokens_milli_ = tokens_milli; }
};
}  // namespace meshsim::svc

namespace {

// Runs `action` in the event loop of a simulation with `seed` at `at`: the violation it throws.
template <typename Action>
std::optional<sim::invariant_violation> broken_at(std::uint64_t seed, sim::time_point at, Action action) {
    sim::kernel::simulation sim({.seed = seed});
    sim.at(at, [&] { action(sim.now()); });
    try {
        sim.run_until(at + 1s);
    } catch (const sim::invariant_violation& v) {
        return v;
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("a breaker moves on its own only closed -> open -> half_open -> closed or open") {
    using svc::breaker_state;
    const breaker_state all[] = {breaker_state::closed,      breaker_state::open,     breaker_state::half_open,
                                 breaker_state::forced_open, breaker_state::disabled, breaker_state::metrics_only};
    std::vector<std::string> legal;
    for (const breaker_state from : all) {
        for (const breaker_state to : all) {
            if (svc::is_automatic_transition(from, to)) {
                legal.push_back(std::string(svc::to_string(from)) + "->" + std::string(svc::to_string(to)));
            }
        }
    }
    CHECK(legal == std::vector<std::string>{"CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED", "HALF_OPEN->OPEN"});
}

TEST_CASE("a breaker moving on its own along an illegal edge stops the run with the seed and the virtual time") {
    svc::circuit_breaker breaker({});
    const auto broken = broken_at(21, sim::time_zero + 90s, [&](sim::time_point now) {
        svc::circuit_breaker_test_access::move_on_its_own(breaker, now, svc::breaker_state::half_open);
    });
    REQUIRE(broken);
    CHECK_THAT(broken->what(), StartsWith("invariant broken at virtual time 1m30s (seed 21): a breaker moves on its "
                                          "own only closed -> open -> half_open -> closed or open"));
    CHECK(breaker.current_state() == svc::breaker_state::closed);  // the illegal move was not made
    // Manual transitions are not the breaker's own: any edge is allowed.
    breaker.transition_to_half_open(sim::time_zero + 91s);
    CHECK(breaker.current_state() == svc::breaker_state::half_open);
}

TEST_CASE("a retry throttle outside [0, max_tokens] stops the run with the seed and the virtual time") {
    svc::retry_throttle throttle({10, 0.1});
    SECTION("below zero") {
        const auto broken = broken_at(8, sim::time_zero + 250ms, [&](sim::time_point) {
            svc::retry_throttle_test_access::set_tokens_milli(throttle, -5000);
            throttle.on_success();
        });
        REQUIRE(broken);
        CHECK_THAT(broken->what(), StartsWith("invariant broken at virtual time 250ms (seed 8): a retry throttle "
                                              "holds between 0 and max_tokens tokens"));
    }
    SECTION("above max_tokens") {
        const auto broken = broken_at(8, sim::time_zero + 2s, [&](sim::time_point) {
            svc::retry_throttle_test_access::set_tokens_milli(throttle, 12'000);
            throttle.on_failure();
        });
        REQUIRE(broken);
        CHECK_THAT(broken->what(), StartsWith("invariant broken at virtual time 2s (seed 8): a retry throttle holds"));
    }
    SECTION("within bounds nothing breaks") {
        CHECK_FALSE(broken_at(8, sim::time_zero + 2s, [&](sim::time_point) {
            for (int i = 0; i < 20; ++i) throttle.on_failure();
            for (int i = 0; i < 200; ++i) throttle.on_success();
        }));
        CHECK(throttle.tokens() == 10);
    }
}

TEST_CASE("correlation IDs and idempotency keys come from one place, each kind from its own stream") {
    sim::kernel::simulation sim({.seed = 1});
    std::vector<std::string> ids;
    const sim::node_id n = sim.add_node("n", [&](sim::runtime& rt) {
        ids.push_back(svc::new_correlation_id(rt));
        ids.push_back(svc::new_idempotency_key(rt));
        ids.push_back(svc::new_correlation_id(rt));
        // The first correlation ID is the correlation stream's first draw, whatever was made between.
        char first[17];
        std::snprintf(first, sizeof first, "%016llx",
                      static_cast<unsigned long long>(sim::random_stream(1, "n#1/svc/correlation-id").next_u64()));
        ids.push_back(first);
    });
    sim.start(n);
    sim.run();
    REQUIRE(ids.size() == 4);
    for (const std::string& id : ids) {
        CHECK(id.size() == 16);
        CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    }
    CHECK(ids[0] != ids[1]);
    CHECK(ids[0] != ids[2]);
    CHECK(ids[0] == ids[3]);
}
