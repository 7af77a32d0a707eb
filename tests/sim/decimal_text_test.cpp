// The stack-built decimal text the trace details and call ids use, at its extremes.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "sim/decimal_text.hpp"

using meshsim::sim::decimal_text;

TEST_CASE("decimal text equals std::to_string from zero to the largest 64-bit value") {
    for (const std::uint64_t v : {std::uint64_t{0}, std::uint64_t{9}, std::uint64_t{10}, std::uint64_t{1'000'000'007},
                                  std::uint64_t{9'999'999'999'999'999'999u}, std::uint64_t{10'000'000'000'000'000'000u},
                                  std::numeric_limits<std::uint64_t>::max()}) {
        CAPTURE(v);
        CHECK(decimal_text(v).view() == std::to_string(v));
    }
    CHECK(decimal_text(std::numeric_limits<std::uint64_t>::max()).view().size() == 20);
}
