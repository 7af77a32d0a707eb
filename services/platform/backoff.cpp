#include "services/platform/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace meshsim::svc {

std::string_view to_string(jitter_mode mode) {
    switch (mode) {
        case jitter_mode::none: return "none";
        case jitter_mode::full: return "full";
        case jitter_mode::equal: return "equal";
        case jitter_mode::decorrelated: return "decorrelated";
    }
    return "unknown";
}

config_errors backoff_config::validate() const {
    config_errors errors;
    require(errors, base_delay >= sim::duration::zero(), "base_delay", ">= 0", base_delay);
    require(errors, max_delay >= base_delay, "max_delay", ">= base_delay", max_delay);
    require(errors, multiplier >= 1.0, "multiplier", ">= 1", multiplier);
    return errors;
}

namespace {

// Uniform in [lo, hi] nanoseconds, inclusive: the blog's random_between.
sim::duration random_between(sim::duration lo, sim::duration hi, sim::random_stream& random) {
    return sim::duration{random.uniform_int(lo.count(), hi.count())};
}

sim::duration saturating_triple(sim::duration d) {
    constexpr auto limit = std::numeric_limits<sim::duration::rep>::max() / 3;
    return d.count() > limit ? sim::duration::max() : d * 3;
}

}  // namespace

sim::duration backoff::exponential_bound(std::uint32_t retry_index) const {
    const auto base = config_.base_delay.count();
    const auto cap = config_.max_delay.count();
    if (base <= 0) return sim::duration::zero();
    // In doubles the product saturates to +inf instead of wrapping, and the
    // comparison against the cap happens before any conversion back to integers.
    const double bound = static_cast<double>(base) * std::pow(config_.multiplier, static_cast<double>(retry_index));
    if (!(bound < static_cast<double>(cap))) return config_.max_delay;
    return sim::duration{static_cast<sim::duration::rep>(bound)};
}

sim::duration backoff::decorrelated(sim::duration previous_delay, sim::random_stream& random) const {
    const auto previous = std::max(previous_delay, config_.base_delay);
    const auto drawn = random_between(config_.base_delay, saturating_triple(previous), random);
    return std::min(config_.max_delay, drawn);
}

sim::duration backoff::delay(std::uint32_t retry_index, sim::duration previous_delay,
                             sim::random_stream& random) const {
    const auto bound = exponential_bound(retry_index);
    switch (config_.jitter) {
        case jitter_mode::none: return bound;
        case jitter_mode::full: return random_between(sim::duration::zero(), bound, random);
        case jitter_mode::equal: {
            const auto half = bound / 2;
            return half + random_between(sim::duration::zero(), bound - half, random);
        }
        case jitter_mode::decorrelated: return decorrelated(previous_delay, random);
    }
    return bound;
}

}  // namespace meshsim::svc
