// The saturating virtual-time helpers of sim/time.hpp: exact inside the range,
// clamped at its ends, never wrapped.
#include <catch2/catch.hpp>

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
