// Duration distributions for latencies and service times: constant, uniform,
// normal (truncated at zero), lognormal, exponential and pareto, sampled from a
// seeded stream. Parameters are durations, so their unit is never guessed.
#pragma once

#include <string>
#include <vector>

#include "sim/random.hpp"
#include "sim/time.hpp"

namespace meshsim::sim {

struct duration_distribution {
    enum class shape { constant, uniform, normal, lognormal, exponential, pareto };

    shape kind = shape::constant;
    // constant: the value. exponential: the mean. normal: the mean.
    // lognormal: the median (e^mu). pareto: the scale (minimum value).
    duration value{0};
    // uniform: the upper bound (value is the lower bound).
    duration max{0};
    // normal: the standard deviation.
    duration stddev{0};
    // lognormal: sigma of the underlying normal. pareto: the shape alpha.
    double shape_param = 0;

    static duration_distribution constant(duration v) { return {shape::constant, v, {}, {}, 0}; }
    static duration_distribution uniform(duration lo, duration hi) { return {shape::uniform, lo, hi, {}, 0}; }
    static duration_distribution normal(duration mean, duration sd) { return {shape::normal, mean, {}, sd, 0}; }
    static duration_distribution lognormal(duration median, double sigma) {
        return {shape::lognormal, median, {}, {}, sigma};
    }
    static duration_distribution exponential(duration mean) { return {shape::exponential, mean, {}, {}, 0}; }
    static duration_distribution pareto(duration scale, double alpha) { return {shape::pareto, scale, {}, {}, alpha}; }

    // Never negative.
    duration sample(random_stream& rng) const;
    // The theoretical mean (infinite for pareto with alpha <= 1: returns time_never's duration).
    duration mean() const;
    // Problems with the parameters, each naming the parameter; empty when valid.
    std::vector<std::string> validate(const std::string& what) const;
};

std::string to_string(duration_distribution::shape s);

}  // namespace meshsim::sim
