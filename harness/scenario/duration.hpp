// Durations as scenario files write them: "250ms", "1.5s", "20us", "100ns", "1m" or
// "1min", "1h", and combinations from the largest unit down ("1m30s", "1h2m3.5s").
// The inverse of sim::format_duration for every non-negative duration.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sim/time.hpp"

namespace meshsim::harness {

struct duration_parse_result {
    std::optional<sim::duration> value;  // set exactly when error is empty
    std::string error;                   // a sentence for a diagnostic, e.g. "durations need a unit, ..."
};

// Exact: the result is a whole number of nanoseconds or an error, never rounded.
duration_parse_result parse_duration(std::string_view text);

}  // namespace meshsim::harness
