#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <vector>

#include "platform_testing.hpp"
#include "services/platform/rate_limiter.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using meshsim::svc::testing::at;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("a full bucket admits its burst at once, then refuses with the refill time as Retry-After") {
    token_bucket bucket({10.0, 5});
    for (int i = 0; i < 5; ++i) CHECK(bucket.try_acquire(at(seconds{1})).allowed);
    const auto refused = bucket.try_acquire(at(seconds{1}));
    CHECK_FALSE(refused.allowed);
    CHECK(refused.retry_after == milliseconds{100});
    CHECK_FALSE(bucket.try_acquire(at(milliseconds{1099})).allowed);
    CHECK(bucket.try_acquire(at(milliseconds{1100})).allowed);
}

TEST_CASE("a bucket refills at its rate and never beyond its burst") {
    token_bucket bucket({10.0, 5});
    for (int i = 0; i < 5; ++i) REQUIRE(bucket.try_acquire(at(seconds{0})).allowed);
    CHECK(bucket.available(at(seconds{0})) == 0);
    CHECK(bucket.available(at(milliseconds{250})) == 2);
    CHECK(bucket.available(at(seconds{100})) == 5);
}

TEST_CASE("a request for more tokens than the burst is never allowed") {
    token_bucket bucket({10.0, 5});
    const auto decision = bucket.try_acquire(at(seconds{0}), 6);
    CHECK_FALSE(decision.allowed);
    CHECK(decision.retry_after == sim::duration::max());
}

TEST_CASE("each consumer has its own bucket and may have its own limit") {
    rate_limiter limiter({1.0, 2});
    limiter.set_consumer_limit("batch-job", {1.0, 1});
    CHECK(limiter.try_acquire("alice", at(seconds{0})).allowed);
    CHECK(limiter.try_acquire("alice", at(seconds{0})).allowed);
    CHECK_FALSE(limiter.try_acquire("alice", at(seconds{0})).allowed);
    CHECK(limiter.try_acquire("bob", at(seconds{0})).allowed);
    CHECK(limiter.try_acquire("batch-job", at(seconds{0})).allowed);
    CHECK_FALSE(limiter.try_acquire("batch-job", at(seconds{0})).allowed);
    CHECK(limiter.consumer_count() == 3);
}

TEST_CASE("rate limit config validation names the bad parameter") {
    CHECK(rate_limit_config{}.validate().empty());
    const auto errors = rate_limit_config{0, 0}.validate();
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == "rate_per_second must be in (0, 1e9], got 0");
    CHECK(errors[1] == "burst_requests must be >= 1, got 0");
}

TEST_CASE("rate limiter properties") {
    rc::prop("admissions never exceed the burst plus the refill since the start", [] {
        const auto rate = *rc::gen::inRange(1, 1000);
        const auto burst = *rc::gen::inRange<std::uint32_t>(1, 50);
        token_bucket bucket({static_cast<double>(rate), burst});
        const auto interval = sim::duration{1'000'000'000 / rate};
        const auto gaps = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 20'000));
        sim::time_point now = at(seconds{5});
        const auto start = now;
        std::uint64_t admitted = 0;
        for (const int gap_us : gaps) {
            now += sim::microseconds{gap_us};
            const auto decision = bucket.try_acquire(now);
            if (decision.allowed) {
                ++admitted;
            } else {
                RC_ASSERT(decision.retry_after > sim::duration::zero());
                // Retry-After is exact: waiting that long is enough, one nanosecond less is not.
                token_bucket probe = bucket;
                RC_ASSERT(!probe.try_acquire(now + decision.retry_after - sim::nanoseconds{1}).allowed);
                RC_ASSERT(probe.try_acquire(now + decision.retry_after).allowed);
            }
            const auto refilled = static_cast<std::uint64_t>((now - start) / interval);
            RC_ASSERT(admitted <= burst + refilled);
        }
    });
}
