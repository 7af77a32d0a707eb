// Virtual time: the only clock simulated code may read.
// Resolution is one nanosecond, held in a signed 64-bit count (about 292 years of
// virtual time). Durations are std::chrono durations so units are never guessed.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
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

// Saturating arithmetic on virtual time. A duration near duration::max() means
// "forever" (a deadline never reached, a fault that never ends): sums and products
// clamp to the representable range instead of wrapping (signed overflow is
// undefined; in practice a wrapped deadline lies in the past and fires at once).
// Every addition of a configured or computed duration to a time goes through these.
inline constexpr duration saturating_add(duration a, duration b) {
    duration::rep sum = 0;
    if (__builtin_add_overflow(a.count(), b.count(), &sum)) return a.count() < 0 ? duration::min() : duration::max();
    return duration{sum};
}
inline constexpr time_point saturating_add(time_point t, duration d) {
    return time_point{saturating_add(t.time_since_epoch(), d)};
}
inline constexpr duration saturating_sub(duration a, duration b) {
    duration::rep diff = 0;
    if (__builtin_sub_overflow(a.count(), b.count(), &diff)) return a.count() < 0 ? duration::min() : duration::max();
    return duration{diff};
}
inline constexpr time_point saturating_sub(time_point t, duration d) {
    return time_point{saturating_sub(t.time_since_epoch(), d)};
}
// d x n, exact while it fits.
inline constexpr duration saturating_mul(duration d, std::int64_t n) {
    duration::rep product = 0;
    if (__builtin_mul_overflow(d.count(), n, &product))
        return (d.count() < 0) != (n < 0) ? duration::min() : duration::max();
    return duration{product};
}
// x rounded to the nearest integer, halves away from zero: std::llround for x in
// [0, 2^63), without its library call (a latency draw makes one per message). The
// difference x - trunc(x) is exact in that range (and 0 from 2^52 on, where every
// double is an integer).
inline std::int64_t round_nonnegative(double x) {
    const auto whole = static_cast<std::int64_t>(x);
    return whole + (x - static_cast<double>(whole) >= 0.5 ? 1 : 0);
}

// d x factor rounded to the nearest nanosecond, clamped to the duration range: a
// slowdown of a long service time is a very long time, never a wrapped or zero one.
inline duration scaled(duration d, double factor) {
    if (d.count() == 0) return duration::zero();  // no work stays no work, whatever the factor
    const double ns = static_cast<double>(d.count()) * factor;
    constexpr double limit = 9223372036854775808.0;  // 2^63: llround cannot represent it or more
    if (std::isnan(ns) || ns >= limit) return duration::max();
    if (ns <= -limit) return duration::min();
    return duration{static_cast<duration::rep>(std::llround(ns))};
}

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
