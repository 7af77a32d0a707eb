#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include "services/platform/backoff.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("backoff without jitter doubles from the base up to the cap") {
    backoff b({milliseconds{100}, seconds{1}, 2.0, jitter_mode::none});
    sim::random_stream random(1);
    CHECK(b.delay(0, {}, random) == milliseconds{100});
    CHECK(b.delay(1, {}, random) == milliseconds{200});
    CHECK(b.delay(2, {}, random) == milliseconds{400});
    CHECK(b.delay(3, {}, random) == milliseconds{800});
    CHECK(b.delay(4, {}, random) == seconds{1});
    CHECK(b.delay(50, {}, random) == seconds{1});
}

TEST_CASE("backoff bound saturates at the cap for huge retry numbers instead of overflowing") {
    backoff b({seconds{1}, sim::duration::max(), 2.0, jitter_mode::none});
    CHECK(b.exponential_bound(62) == sim::duration::max());
    CHECK(b.exponential_bound(5000) == sim::duration::max());
    CHECK(b.exponential_bound(std::numeric_limits<std::uint32_t>::max()) == sim::duration::max());
    backoff capped({milliseconds{1}, seconds{30}, 10.0, jitter_mode::none});
    CHECK(capped.exponential_bound(std::numeric_limits<std::uint32_t>::max()) == seconds{30});
}

TEST_CASE("a zero base delay gives zero delays") {
    backoff b({sim::duration::zero(), seconds{1}, 2.0, jitter_mode::none});
    sim::random_stream random(1);
    CHECK(b.delay(1000, {}, random) == sim::duration::zero());
}

TEST_CASE("equal jitter keeps half the exponential bound and randomizes the other half") {
    backoff b({milliseconds{100}, seconds{10}, 2.0, jitter_mode::equal});
    sim::random_stream random(7);
    for (int i = 0; i < 1000; ++i) {
        const auto d = b.delay(3, {}, random);
        CHECK(d >= milliseconds{400});
        CHECK(d <= milliseconds{800});
    }
}

TEST_CASE("decorrelated jitter draws between the base and three times the previous delay") {
    backoff b({milliseconds{100}, seconds{10}, 2.0, jitter_mode::decorrelated});
    sim::random_stream random(7);
    sim::duration previous{0};
    for (int i = 0; i < 1000; ++i) {
        const auto d = b.delay(static_cast<std::uint32_t>(i), previous, random);
        CHECK(d >= milliseconds{100});
        CHECK(d <= std::min<sim::duration>(seconds{10}, std::max<sim::duration>(previous, milliseconds{100}) * 3));
        previous = d;
    }
}

TEST_CASE("backoff draws are a pure function of the random stream") {
    backoff b({milliseconds{100}, seconds{10}, 2.0, jitter_mode::full});
    sim::random_stream r1(42, "backoff");
    sim::random_stream r2(42, "backoff");
    for (std::uint32_t i = 0; i < 20; ++i) CHECK(b.delay(i, {}, r1) == b.delay(i, {}, r2));
}

TEST_CASE("backoff config validation names the bad parameter") {
    CHECK(backoff_config{}.validate().empty());
    backoff_config bad{seconds{2}, seconds{1}, 0.5, jitter_mode::full};
    const auto errors = bad.validate();
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == "max_delay must be >= base_delay, got 1s");
    CHECK(errors[1] == "multiplier must be >= 1, got 0.5");
}

TEST_CASE("backoff properties") {
    rc::prop("backoff is always within [0, cap]", [] {
        const auto base = sim::duration{*rc::gen::inRange<std::int64_t>(0, 10'000'000'000)};
        const auto cap = base + sim::duration{*rc::gen::inRange<std::int64_t>(0, 1'000'000'000'000)};
        const double multiplier = *rc::gen::inRange(100, 1000) / 100.0;
        const auto jitter =
            *rc::gen::element(jitter_mode::none, jitter_mode::full, jitter_mode::equal, jitter_mode::decorrelated);
        const auto retry = *rc::gen::arbitrary<std::uint32_t>();
        const auto previous = sim::duration{*rc::gen::inRange<std::int64_t>(0, cap.count() + 1)};
        const auto seed = *rc::gen::arbitrary<std::uint64_t>();
        backoff b({base, cap, multiplier, jitter});
        sim::random_stream random(seed);
        const auto d = b.delay(retry, previous, random);
        RC_ASSERT(d >= sim::duration::zero());
        RC_ASSERT(d <= cap);
    });

    rc::prop("full jitter's mean is about half the exponential bound", [] {
        const auto base = milliseconds{*rc::gen::inRange(1, 1000)};
        const auto retry = *rc::gen::inRange<std::uint32_t>(0, 12);
        sim::random_stream random(*rc::gen::arbitrary<std::uint64_t>(), "full-jitter-mean");
        backoff b({base, seconds{60}, 2.0, jitter_mode::full});
        const double bound = sim::to_seconds(b.exponential_bound(retry));
        constexpr int draws = 20'000;
        double sum = 0;
        for (int i = 0; i < draws; ++i) sum += sim::to_seconds(b.delay(retry, {}, random));
        // The mean of n uniform draws on [0, B] has a standard deviation of
        // B / sqrt(12 n) = 0.002 B: 2 % of B is ten of them, so this cannot flake.
        RC_ASSERT(std::abs(sum / draws - bound / 2) <= 0.02 * bound);
    });
}

TEST_CASE("full jitter's mean is half the bound for a fixed seed") {
    backoff b({milliseconds{100}, seconds{60}, 2.0, jitter_mode::full});
    sim::random_stream random(2024, "full-jitter");
    constexpr int draws = 100'000;
    double sum = 0;
    for (int i = 0; i < draws; ++i) sum += sim::to_seconds(b.delay(4, {}, random));
    CHECK(sum / draws == Approx(0.8).epsilon(0.01));
}
