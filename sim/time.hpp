// Virtual time: the only clock simulated code may read.
// Resolution is one nanosecond, held in a signed 64-bit count (about 292 years of
// virtual time). Durations are std::chrono durations so units are never guessed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace meshsim::sim {

// A clock type without a static now(): the current time belongs to a simulation
// (or to one node's view of it), never to the process.
struct virtual_clock {
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::duration<rep, period>;
    using time_point = std::chrono::time_point<virtual_clock>;
    static constexpr bool is_steady = true;
};

using duration = virtual_clock::duration;
using time_point = virtual_clock::time_point;

inline constexpr time_point time_zero{};
inline constexpr time_point time_never = time_point::max();

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Seconds as a double, for rates and statistics only (never for scheduling).
inline constexpr double to_seconds(duration d) { return static_cast<double>(d.count()) * 1e-9; }
inline constexpr duration from_seconds(double s) { return duration{static_cast<std::int64_t>(s * 1e9)}; }

// "1.5s", "250ms", "20us", "7ns": the shortest exact form, for traces and reports.
std::string format_duration(duration d);
// Time since the start of the simulation, formatted like a duration.
inline std::string format_time(time_point t) { return format_duration(t.time_since_epoch()); }

// For people: one style at every size, as Go prints durations: "250ms", "1.5s",
// "59s", "1m0s", "1m1s", "1h0m0s", "8760h0m0s". Exact (fractions are never
// rounded) and read back by the scenario duration parser.
std::string format_duration_hms(duration d);
inline std::string format_time_hms(time_point t) { return format_duration_hms(t.time_since_epoch()); }

}  // namespace meshsim::sim
