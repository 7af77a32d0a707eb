// Durations as scenario files write them: "250ms", "1.5s", "20us", "100ns", "1m" or
// "1min", "1h", and combinations from the largest unit down ("1m30s", "1h2m3.5s").
// The inverse of sim::format_duration for every duration in [0, max_duration].
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sim/time.hpp"

namespace meshsim::harness {

// The longest duration a scenario file (or --until) may write: 100 years of 365 days,
// 876000h. int64 nanoseconds reach about 292 years, so the sum of two maxima (a fault's
// start plus its length, the current time plus a timeout) is still representable.
// Products (a `slow` factor times a service time) can exceed it: virtual-time
// arithmetic saturates at sim::duration::max() there.
inline constexpr sim::duration max_duration = std::chrono::hours(876'000);
inline constexpr std::string_view max_duration_text = "876000h (100 years)";

struct duration_parse_result {
    std::optional<sim::duration> value;  // set exactly when error is empty
    std::string error;                   // a sentence for a diagnostic, e.g. "durations need a unit, ..."
};

// Exact: the result is a whole number of nanoseconds or an error, never rounded.
// Durations longer than max_duration are an error.
duration_parse_result parse_duration(std::string_view text);

}  // namespace meshsim::harness
