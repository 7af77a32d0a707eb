// The saturating virtual-time helpers of sim/time.hpp: exact inside the range,
// clamped at its ends, never wrapped.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "sim/time.hpp"

using namespace meshsim::sim;
using namespace std::chrono_literals;

namespace {
constexpr duration max_d = duration::max();
constexpr duration min_d = duration::min();
}  // namespace

TEST_CASE("saturating_add is exact inside the range and clamps at its ends") {
    CHECK(saturating_add(duration{3}, duration{4}) == duration{7});
    CHECK(saturating_add(duration{-3}, duration{4}) == duration{1});
    CHECK(saturating_add(max_d, duration{1}) == max_d);
    CHECK(saturating_add(max_d, max_d) == max_d);
    CHECK(saturating_add(min_d, duration{-1}) == min_d);
    CHECK(saturating_add(max_d, min_d) == duration{-1});  // no overflow: exact
    CHECK(saturating_add(time_zero + 1s, max_d) == time_never);
    CHECK(saturating_add(time_zero + 1s, 2s) == time_zero + 3s);
    CHECK(saturating_add(time_never, -1ns) == time_never - 1ns);
    static_assert(saturating_add(time_zero + 1s, max_d) == time_never);
}

TEST_CASE("saturating_sub and saturating_mul clamp instead of wrapping") {
    CHECK(saturating_sub(duration{3}, duration{4}) == duration{-1});
    CHECK(saturating_sub(min_d, duration{1}) == min_d);
    CHECK(saturating_sub(max_d, duration{-1}) == max_d);
    CHECK(saturating_sub(time_never, -5s) == time_never);
    CHECK(saturating_mul(3ms, 4) == 12ms);
    CHECK(saturating_mul(max_d / 2, 3) == max_d);
    CHECK(saturating_mul(max_d / 2, -3) == min_d);
    CHECK(saturating_mul(duration{-5}, -2) == duration{10});
    CHECK(saturating_mul(max_d, 0) == duration::zero());
}

TEST_CASE("scaled rounds to the nearest nanosecond and saturates a product past the range") {
    CHECK(scaled(2ms, 1000) == 2s);
    CHECK(scaled(duration{3}, 0.5) == duration{2});  // 1.5 rounds away from zero
    CHECK(scaled(duration{10}, 0.0) == duration::zero());
    CHECK(scaled(duration::zero(), std::numeric_limits<double>::infinity()) == duration::zero());
    CHECK(scaled(max_d / 100, 1000) == max_d);  // a 1000x slowdown of ~3 years: forever, not 0
    CHECK(scaled(max_d, 1.0) == max_d);
    CHECK(scaled(1s, std::numeric_limits<double>::infinity()) == max_d);
    CHECK(scaled(1s, std::numeric_limits<double>::quiet_NaN()) == max_d);
    CHECK(scaled(-1s, 1e20) == min_d);
    CHECK(scaled(1s, -1e20) == min_d);
}

TEST_CASE("round_nonnegative rounds as std::llround does, from 0 up to 2^63") {
    const double cases[] = {0.0,
                            0.25,
                            0.5,
                            std::nextafter(0.5, 0.0),  // 0.49999999999999994: x + 0.5 would round up
                            1.5,
                            2.5,
                            1e6 + 0.5,
                            4503599627370495.5,  // 2^52 - 0.5: the last half below the integers-only range
                            4503599627370496.0,
                            9007199254740993.0,
                            9.0e18,
                            std::nextafter(9223372036854775808.0, 0.0)};
    for (double x : cases) {
        INFO(x);
        CHECK(round_nonnegative(x) == std::llround(x));
    }
}

TEST_CASE("round_nonnegative agrees with std::llround on random values of every magnitude") {
    rc::prop("same integer as llround", [] {
        const auto bits = *rc::gen::inRange<std::uint64_t>(0, 0x43E0000000000000ULL);  // [0, 2^63) as doubles
        double x = 0;
        std::memcpy(&x, &bits, sizeof x);
        RC_ASSERT(round_nonnegative(x) == std::llround(x));
    });
}
