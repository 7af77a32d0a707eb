// Client-side adaptive throttling (Google SRE book, "Handling Overload"): over a
// trailing window the client counts requests it attempted and requests the backend
// accepted, and rejects locally with probability max(0, (requests - K*accepts) / (requests + 1)).
#pragma once

#include "services/platform/config_errors.hpp"
#include "services/platform/detail/windowed_counter.hpp"
#include "sim/random.hpp"
#include "sim/time.hpp"

namespace meshsim::svc {

struct adaptive_throttle_config {
    // How far back requests and accepts count (the book: two minutes).
    sim::duration history_window = sim::minutes{2};
    // Counts are grouped in steps of this size, so the window slides in steps.
    sim::duration history_resolution = sim::seconds{1};
    // The book's K: 2 lets the backend see up to twice the load it accepts.
    double accepts_multiplier = 2.0;

    config_errors validate() const;
};

class adaptive_throttle {
public:
    explicit adaptive_throttle(adaptive_throttle_config config);

    // Every attempt asks here first. It is counted as a request whether it is let
    // through or rejected locally: the book counts requests at the application layer.
    bool try_admit(sim::time_point now, sim::random_stream& random);
    // The backend accepted the request (any response other than an overload rejection).
    void on_accepted(sim::time_point now);

    double rejection_probability(sim::time_point now);

    const adaptive_throttle_config& config() const { return config_; }

private:
    adaptive_throttle_config config_;
    detail::windowed_counter requests_;
    detail::windowed_counter accepts_;
};

}  // namespace meshsim::svc
