#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include "services/platform/retry_policy.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
constexpr call_traits idempotent{true, false};
constexpr call_traits not_idempotent{false, false};
constexpr call_traits with_key{false, true};

retry_policy no_jitter_policy(std::uint32_t max_attempts = 3) {
    retry_policy_config config;
    config.max_attempts = max_attempts;
    config.backoff = {milliseconds{100}, seconds{10}, 2.0, jitter_mode::none};
    return retry_policy(config);
}
}  // namespace

TEST_CASE("outcomes are classified by the article's health rule") {
    CHECK(is_healthy(outcome::success(200)));
    CHECK(is_healthy(outcome::http(302)));
    CHECK(is_healthy(outcome::http(404)));
    CHECK(is_healthy(outcome::http(429)));
    CHECK_FALSE(is_healthy(outcome::http(500)));
    CHECK_FALSE(is_healthy(outcome::http(503)));
    CHECK_FALSE(is_healthy(outcome::of(outcome_kind::timeout)));
    CHECK_FALSE(is_healthy(outcome::of(outcome_kind::connection_reset)));
    CHECK_FALSE(is_healthy(outcome::of(outcome_kind::decode_error)));
    CHECK_FALSE(is_healthy(outcome::of(outcome_kind::breaker_open)));
    CHECK_FALSE(reached_remote(outcome::of(outcome_kind::bulkhead_full)));
    CHECK(reached_remote(outcome::of(outcome_kind::timeout)));
    CHECK(is_server_failure(outcome::of(outcome_kind::connection_refused)));
    CHECK_FALSE(is_server_failure(outcome::http(404)));
    CHECK(outcome::http(204).kind == outcome_kind::ok);
}

TEST_CASE("a plain 4xx is never retried") {
    const auto policy = no_jitter_policy();
    sim::random_stream random(1);
    for (std::uint16_t status : {400, 401, 403, 404, 409, 422}) {
        retry_state state;
        const auto decision = policy.on_attempt_result(state, outcome::http(status), idempotent, random);
        CHECK(decision.verdict == retry_verdict::not_retryable);
    }
}

TEST_CASE("5xx, timeouts and resets are retried for idempotent calls with backoff") {
    const auto policy = no_jitter_policy();
    sim::random_stream random(1);
    for (const auto& o : {outcome::http(500), outcome::http(503), outcome::of(outcome_kind::timeout),
                          outcome::of(outcome_kind::connection_reset)}) {
        retry_state state;
        auto decision = policy.on_attempt_result(state, o, idempotent, random);
        CHECK(decision.verdict == retry_verdict::retry);
        CHECK(decision.delay == milliseconds{100});
        decision = policy.on_attempt_result(state, o, idempotent, random);
        CHECK(decision.verdict == retry_verdict::retry);
        CHECK(decision.delay == milliseconds{200});
        decision = policy.on_attempt_result(state, o, idempotent, random);
        CHECK(decision.verdict == retry_verdict::attempts_exhausted);
        CHECK(state.attempts_made == 3);
    }
}

TEST_CASE("a call that is not idempotent is retried only with an idempotency key") {
    const auto policy = no_jitter_policy();
    sim::random_stream random(1);
    retry_state s1;
    CHECK(policy.on_attempt_result(s1, outcome::http(503), not_idempotent, random).verdict ==
          retry_verdict::not_idempotent);
    retry_state s2;
    CHECK(policy.on_attempt_result(s2, outcome::of(outcome_kind::timeout), with_key, random).should_retry());
}

TEST_CASE("a refused connection is retried even when the call is not idempotent") {
    const auto policy = no_jitter_policy();
    sim::random_stream random(1);
    retry_state state;
    CHECK(policy.on_attempt_result(state, outcome::of(outcome_kind::connection_refused), not_idempotent, random)
              .should_retry());
}

TEST_CASE("429 honours Retry-After as a minimum delay") {
    const auto policy = no_jitter_policy();
    sim::random_stream random(1);
    retry_state state;
    auto decision = policy.on_attempt_result(state, outcome::http(429, seconds{3}), idempotent, random);
    CHECK(decision.verdict == retry_verdict::retry);
    CHECK(decision.delay == seconds{3});
    // A Retry-After shorter than the backoff does not shorten it.
    decision = policy.on_attempt_result(state, outcome::http(429, milliseconds{1}), idempotent, random);
    CHECK(decision.delay == milliseconds{200});
}

TEST_CASE("success, local rejections, decode errors and a spent deadline are not retried") {
    const auto policy = no_jitter_policy();
    sim::random_stream random(1);
    retry_state state;
    CHECK(policy.on_attempt_result(state, outcome::success(), idempotent, random).verdict == retry_verdict::succeeded);
    for (auto kind : {outcome_kind::breaker_open, outcome_kind::bulkhead_full, outcome_kind::throttled,
                      outcome_kind::decode_error, outcome_kind::deadline_exceeded}) {
        retry_state s;
        CHECK(policy.on_attempt_result(s, outcome::of(kind), idempotent, random).verdict ==
              retry_verdict::not_retryable);
    }
}

TEST_CASE("max_attempts of one never retries") {
    const auto policy = no_jitter_policy(1);
    sim::random_stream random(1);
    retry_state state;
    CHECK(policy.on_attempt_result(state, outcome::http(503), idempotent, random).verdict ==
          retry_verdict::attempts_exhausted);
}

TEST_CASE("retry policy config validation names the bad parameter") {
    CHECK(retry_policy_config{}.validate().empty());
    retry_policy_config bad;
    bad.max_attempts = 0;
    bad.backoff.multiplier = 0;
    const auto errors = bad.validate();
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == "max_attempts must be >= 1, got 0");
    CHECK(errors[1] == "backoff.multiplier must be >= 1, got 0");
}

TEST_CASE("retry policy properties") {
    rc::prop("attempts never exceed max attempts", [] {
        retry_policy_config config;
        config.max_attempts = *rc::gen::inRange<std::uint32_t>(1, 10);
        const retry_policy policy(config);
        const call_traits call{*rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>()};
        sim::random_stream random(*rc::gen::arbitrary<std::uint64_t>());
        retry_state state;
        std::uint32_t attempts = 0;
        while (true) {
            ++attempts;
            RC_ASSERT(attempts <= config.max_attempts);
            const auto kind = static_cast<outcome_kind>(*rc::gen::inRange<int>(0, outcome_kind_count));
            const auto status = static_cast<std::uint16_t>(*rc::gen::element(200, 404, 429, 500, 503));
            const outcome o{kind, status, std::nullopt};
            const auto decision = policy.on_attempt_result(state, o, call, random);
            RC_ASSERT(decision.delay >= sim::duration::zero());
            if (!decision.should_retry()) break;
        }
        RC_ASSERT(state.attempts_made == attempts);
    });
}
