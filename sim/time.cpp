#include "sim/time.hpp"

namespace meshsim::sim {

std::string format_duration(duration d) {
    const std::int64_t ns = d.count();
    struct unit {
        std::int64_t ns;
        const char* suffix;
    };
    static constexpr unit units[] = {{3'600'000'000'000, "h"}, {60'000'000'000, "min"}, {1'000'000'000, "s"},
                                     {1'000'000, "ms"},        {1'000, "us"},           {1, "ns"}};
    if (ns == 0) return "0s";
    for (const auto& u : units) {
        if (ns % u.ns == 0) return std::to_string(ns / u.ns) + u.suffix;
    }
    return std::to_string(ns) + "ns";
}

namespace {

// WHOLE, then '.' and the nonzero-trimmed DIGITS-wide fraction when there is one.
std::string decimal(std::uint64_t whole, std::uint64_t fraction, int digits) {
    std::string out = std::to_string(whole);
    if (fraction == 0) return out;
    std::string f = std::to_string(fraction);
    f.insert(0, static_cast<std::size_t>(digits) - f.size(), '0');
    while (f.back() == '0') f.pop_back();
    return out + "." + f;
}

}  // namespace

std::string format_duration_hms(duration d) {
    const std::int64_t count = d.count();
    if (count == 0) return "0s";
    // The magnitude as unsigned, so the most negative count has one too.
    const std::uint64_t ns = count < 0 ? 0 - static_cast<std::uint64_t>(count) : static_cast<std::uint64_t>(count);
    const std::string sign = count < 0 ? "-" : "";
    constexpr std::uint64_t us = 1'000, ms = 1'000'000, s = 1'000'000'000, min = 60 * s, h = 60 * min;
    if (ns < us) return sign + std::to_string(ns) + "ns";
    if (ns < ms) return sign + decimal(ns / us, ns % us, 3) + "us";
    if (ns < s) return sign + decimal(ns / ms, ns % ms, 6) + "ms";
    std::string out = sign;
    if (ns >= h) out += std::to_string(ns / h) + "h";
    if (ns >= min) out += std::to_string(ns % h / min) + "m";
    return out + decimal(ns % min / s, ns % s, 9) + "s";
}

}  // namespace meshsim::sim
