#include "sim/distribution.hpp"

#include <algorithm>
#include <cmath>

namespace meshsim::sim {

namespace {
duration clamp_ns(double ns) {
    if (!(ns > 0)) return duration{0};
    if (ns > 9.0e18) return duration{static_cast<std::int64_t>(9.0e18)};
    return duration{round_nonnegative(ns)};
}
double ns_of(duration d) { return static_cast<double>(d.count()); }
}  // namespace

duration duration_distribution::sample(random_stream& rng) const {
    switch (kind) {
        case shape::constant: return value;
        case shape::uniform: return clamp_ns(rng.uniform(ns_of(value), ns_of(max)));
        case shape::normal: return clamp_ns(rng.normal(ns_of(value), ns_of(stddev)));
        case shape::lognormal: return clamp_ns(ns_of(value) * std::exp(rng.normal(0, shape_param)));
        case shape::exponential: return clamp_ns(rng.exponential(ns_of(value)));
        case shape::pareto: return clamp_ns(rng.pareto(ns_of(value), shape_param));
    }
    return value;
}

duration duration_distribution::mean() const {
    switch (kind) {
        case shape::constant:
        case shape::normal:
        case shape::exponential: return value;
        case shape::uniform: return (value + max) / 2;
        case shape::lognormal: return clamp_ns(ns_of(value) * std::exp(shape_param * shape_param / 2));
        case shape::pareto:
            if (shape_param <= 1) return time_never.time_since_epoch();
            return clamp_ns(ns_of(value) * shape_param / (shape_param - 1));
    }
    return value;
}

std::vector<std::string> duration_distribution::validate(const std::string& what) const {
    std::vector<std::string> errors;
    auto fail = [&](const std::string& msg) { errors.push_back(what + ": " + msg); };
    if (value.count() < 0) fail("value must not be negative, got " + std::to_string(value.count()) + "ns");
    switch (kind) {
        case shape::uniform:
            if (max < value) fail("uniform max must be >= min");
            break;
        case shape::normal:
            if (stddev.count() < 0) fail("normal stddev must not be negative");
            break;
        case shape::lognormal:
            if (!(shape_param >= 0) || !std::isfinite(shape_param)) fail("lognormal sigma must be >= 0");
            if (value.count() <= 0) fail("lognormal median must be > 0");
            break;
        case shape::pareto:
            if (!(shape_param > 0) || !std::isfinite(shape_param)) fail("pareto shape must be > 0");
            if (value.count() <= 0) fail("pareto scale must be > 0");
            break;
        case shape::constant:
        case shape::exponential: break;
    }
    return errors;
}

std::string to_string(duration_distribution::shape s) {
    switch (s) {
        case duration_distribution::shape::constant: return "constant";
        case duration_distribution::shape::uniform: return "uniform";
        case duration_distribution::shape::normal: return "normal";
        case duration_distribution::shape::lognormal: return "lognormal";
        case duration_distribution::shape::exponential: return "exponential";
        case duration_distribution::shape::pareto: return "pareto";
    }
    return "unknown";
}

}  // namespace meshsim::sim
