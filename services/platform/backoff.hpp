// Exponential backoff with a cap and the four jitter modes of the AWS
// Architecture Blog "Exponential Backoff and Jitter". Pure: the caller passes the
// retry number, the previous delay (for decorrelated jitter) and a random stream.
#pragma once

#include <cstdint>
#include <string_view>

#include "services/platform/config_errors.hpp"
#include "sim/random.hpp"
#include "sim/time.hpp"

namespace meshsim::svc {

enum class jitter_mode : std::uint8_t { none, full, equal, decorrelated };

std::string_view to_string(jitter_mode mode);

struct backoff_config {
    // The bound of the first retry ("base"; gRPC's initialBackoff).
    sim::duration base_delay = sim::milliseconds{100};
    // No delay ever exceeds this ("cap"; gRPC's maxBackoff).
    sim::duration max_delay = sim::seconds{20};
    // Growth per retry: the blog's 2, gRPC's backoffMultiplier.
    double multiplier = 2.0;
    jitter_mode jitter = jitter_mode::full;

    config_errors validate() const;
};

class backoff {
public:
    explicit backoff(backoff_config config) : config_(config) {}

    // min(max_delay, base_delay * multiplier^retry_index), saturating: never overflows.
    sim::duration exponential_bound(std::uint32_t retry_index) const;

    // The delay before retry number `retry_index` (0 = first retry).
    // `previous_delay` is the delay returned for the previous retry (zero before the
    // first); only decorrelated jitter reads it. Always in [0, max_delay].
    sim::duration delay(std::uint32_t retry_index, sim::duration previous_delay, sim::random_stream& random) const;

    const backoff_config& config() const { return config_; }

private:
    sim::duration decorrelated(sim::duration previous_delay, sim::random_stream& random) const;

    backoff_config config_;
};

}  // namespace meshsim::svc
