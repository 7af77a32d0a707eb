#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include "platform_testing.hpp"
#include "services/platform/adaptive_throttle.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using meshsim::svc::testing::at;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("adaptive throttle admits everything while accepts keep up") {
    adaptive_throttle throttle({});
    sim::random_stream random(1);
    for (int i = 0; i < 1000; ++i) {
        const auto now = at(milliseconds{i});
        REQUIRE(throttle.try_admit(now, random));
        throttle.on_accepted(now);
    }
    CHECK(throttle.rejection_probability(at(seconds{1})) == 0.0);
}

TEST_CASE("adaptive throttle rejects with probability (requests - K * accepts) / (requests + 1)") {
    adaptive_throttle throttle({});
    sim::random_stream random(1);
    for (int i = 0; i < 100; ++i) {
        // Every attempt counts as a request, admitted or not; a quarter are accepted.
        throttle.try_admit(at(seconds{1}), random);
        if (i < 25) throttle.on_accepted(at(seconds{1}));
    }
    CHECK(throttle.rejection_probability(at(seconds{2})) == Approx((100.0 - 2 * 25) / 101));
}

TEST_CASE("rejected requests count as requests") {
    adaptive_throttle throttle({});
    sim::random_stream random(3);
    int admitted = 0;
    for (int i = 0; i < 1000; ++i) admitted += throttle.try_admit(at(seconds{1}), random) ? 1 : 0;
    // With no accepts p = n / (n + 1) after n requests: nearly everything is shed.
    CHECK(admitted < 20);
    CHECK(throttle.rejection_probability(at(seconds{1})) == Approx(1000.0 / 1001));
}

TEST_CASE("adaptive throttle forgets requests older than its window") {
    adaptive_throttle throttle({sim::minutes{2}, seconds{1}, 2.0});
    sim::random_stream random(1);
    for (int i = 0; i < 50; ++i) throttle.try_admit(at(seconds{0}), random);
    CHECK(throttle.rejection_probability(at(seconds{119})) > 0.9);
    CHECK(throttle.rejection_probability(at(seconds{120})) == 0.0);
}

TEST_CASE("adaptive throttle sheds about the share the formula says") {
    // 100 requests and 25 accepts in the window: p = 50 / 101. Draw many admissions at
    // one instant from a copy of that state, each from the same starting counts.
    sim::random_stream random(99, "adaptive");
    int rejected = 0;
    constexpr int trials = 20'000;
    for (int t = 0; t < trials; ++t) {
        adaptive_throttle throttle({});
        sim::random_stream setup(1);
        for (int i = 0; i < 100; ++i) throttle.try_admit(at(seconds{1}), setup);
        for (int i = 0; i < 25; ++i) throttle.on_accepted(at(seconds{1}));
        REQUIRE(throttle.rejection_probability(at(seconds{1})) == Approx(50.0 / 101));
        rejected += throttle.try_admit(at(seconds{1}), random) ? 0 : 1;
    }
    CHECK(static_cast<double>(rejected) / trials == Approx(50.0 / 101).margin(0.02));
}

TEST_CASE("adaptive throttle config validation names the bad parameter") {
    CHECK(adaptive_throttle_config{}.validate().empty());
    const auto errors = adaptive_throttle_config{sim::minutes{2}, seconds{1}, 0.5}.validate();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "accepts_multiplier must be >= 1, got 0.5");
}
