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

}  // namespace meshsim::sim
