// Per-consumer rate limits (the article's "limits per consumer", served as 429):
// a token bucket of `burst` tokens refilled at `rate_per_second`, one per consumer
// key. A refusal carries the Retry-After after which the same request would pass.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "services/platform/config_errors.hpp"
#include "sim/time.hpp"

namespace meshsim::svc {

struct rate_limit_config {
    // Sustained rate; the refill interval is 1s / rate, rounded to a nanosecond.
    double rate_per_second = 100.0;
    // Bucket capacity: requests that may arrive at once after a quiet period.
    std::uint32_t burst_requests = 100;

    config_errors validate() const;
};

struct rate_decision {
    bool allowed = true;
    // When refused: wait at least this long (virtual time) before trying again.
    sim::duration retry_after{0};
};

// One bucket, kept as GCRA's theoretical arrival time: integer nanoseconds, so the
// same requests at the same times always get the same answers.
class token_bucket {
public:
    explicit token_bucket(rate_limit_config config);

    rate_decision try_acquire(sim::time_point now, std::uint32_t tokens = 1);
    // Whole tokens available at `now` (never negative).
    std::uint64_t available(sim::time_point now) const;

    const rate_limit_config& config() const { return config_; }

private:
    rate_limit_config config_;
    sim::duration refill_interval_;
    sim::duration burst_span_;  // burst_requests * refill_interval_
    sim::time_point theoretical_arrival_{};
    bool started_ = false;
};

// The buckets of one service, one per consumer (API key, caller service, ...).
class rate_limiter {
public:
    explicit rate_limiter(rate_limit_config default_config) : default_config_(default_config) {}

    // A consumer with its own limit. Its bucket starts over, full, under the new limit.
    void set_consumer_limit(const std::string& consumer, rate_limit_config config);
    rate_decision try_acquire(const std::string& consumer, sim::time_point now, std::uint32_t tokens = 1);

    std::size_t consumer_count() const { return buckets_.size(); }

private:
    token_bucket& bucket_for(const std::string& consumer);

    rate_limit_config default_config_;
    std::map<std::string, rate_limit_config> overrides_;
    std::map<std::string, token_bucket> buckets_;
};

}  // namespace meshsim::svc
