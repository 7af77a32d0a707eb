#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include "services/platform/retry_throttle.hpp"

using namespace meshsim::svc;

TEST_CASE("throttle stops retries at half the tokens") {
    retry_throttle throttle({10, 0.1});
    CHECK(throttle.tokens() == 10);
    for (int i = 0; i < 4; ++i) {
        throttle.on_failure();
        CHECK(throttle.retry_allowed());
    }
    throttle.on_failure();  // 5 tokens: not more than half of 10
    CHECK(throttle.tokens() == 5);
    CHECK_FALSE(throttle.retry_allowed());
    throttle.on_success();  // 5.1
    CHECK(throttle.retry_allowed());
}

TEST_CASE("throttle tokens stay between zero and max_tokens") {
    retry_throttle throttle({3, 0.5});
    for (int i = 0; i < 10; ++i) throttle.on_success();
    CHECK(throttle.tokens() == 3);
    for (int i = 0; i < 10; ++i) throttle.on_failure();
    CHECK(throttle.tokens() == 0);
    CHECK_FALSE(throttle.retry_allowed());
    // Three successes at 0.5 bring it to 1.5 = half of 3: still not allowed; one more is.
    for (int i = 0; i < 3; ++i) throttle.on_success();
    CHECK_FALSE(throttle.retry_allowed());
    throttle.on_success();
    CHECK(throttle.retry_allowed());
}

TEST_CASE("throttle counts token_ratio in thousandths as gRPC does") {
    retry_throttle throttle({10, 0.1234});
    throttle.on_failure();
    throttle.on_success();
    CHECK(throttle.tokens() == Approx(9.123));
}

TEST_CASE("retry throttle config validation names the bad parameter") {
    CHECK(retry_throttle_config{}.validate().empty());
    const auto errors = retry_throttle_config{2000, 0}.validate();
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == "max_tokens must be in (0, 1000], got 2000");
    CHECK(errors[1] == "token_ratio must be >= 0.001 (three decimals are kept), got 0");
}

TEST_CASE("retry throttle properties") {
    rc::prop("retries are allowed exactly while tokens exceed half the maximum", [](std::vector<bool> successes) {
        const double max_tokens = *rc::gen::inRange(1, 100);
        const double ratio = *rc::gen::inRange(1, 2000) / 1000.0;
        retry_throttle throttle({max_tokens, ratio});
        for (const bool success : successes) {
            success ? throttle.on_success() : throttle.on_failure();
            RC_ASSERT(throttle.tokens() >= 0);
            RC_ASSERT(throttle.tokens() <= max_tokens);
            RC_ASSERT(throttle.retry_allowed() == (throttle.tokens() > max_tokens / 2));
        }
    });
}
