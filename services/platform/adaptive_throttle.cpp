#include "services/platform/adaptive_throttle.hpp"

#include <algorithm>

namespace meshsim::svc {

config_errors adaptive_throttle_config::validate() const {
    config_errors errors;
    require(errors, history_window > sim::duration::zero(), "history_window", "> 0", history_window);
    require(errors, history_resolution > sim::duration::zero() && history_resolution <= history_window,
            "history_resolution", "in (0, history_window]", history_resolution);
    require(errors, accepts_multiplier >= 1.0, "accepts_multiplier", ">= 1", accepts_multiplier);
    return errors;
}

adaptive_throttle::adaptive_throttle(adaptive_throttle_config config)
    : config_(config),
      requests_(config.history_window, config.history_resolution),
      accepts_(config.history_window, config.history_resolution) {}

double adaptive_throttle::rejection_probability(sim::time_point now) {
    const auto requests = static_cast<double>(requests_.total(now));
    const auto accepts = static_cast<double>(accepts_.total(now));
    return std::max(0.0, (requests - config_.accepts_multiplier * accepts) / (requests + 1.0));
}

bool adaptive_throttle::try_admit(sim::time_point now, sim::random_stream& random) {
    const double p = rejection_probability(now);
    requests_.add(now);
    // Draw only when rejection is possible, so a healthy backend consumes no randomness.
    return p <= 0.0 || !random.bernoulli(p);
}

void adaptive_throttle::on_accepted(sim::time_point now) { accepts_.add(now); }

}  // namespace meshsim::svc
