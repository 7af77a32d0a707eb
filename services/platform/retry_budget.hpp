// A retry budget in Finagle's RetryBudget form: over a trailing window (the TTL),
// retries may be at most retry_ratio * requests plus a fixed reserve of
// min_retries_per_second * ttl. A retry that would exceed the budget is refused.
#pragma once

#include <cstdint>

#include "services/platform/config_errors.hpp"
#include "services/platform/detail/windowed_counter.hpp"
#include "sim/time.hpp"

namespace meshsim::svc {

struct retry_budget_config {
    // How long a deposit (request) or a withdrawal (retry) counts (Finagle ttl).
    sim::duration ttl = sim::seconds{10};
    // Retries allowed regardless of traffic, per second of ttl (Finagle minRetriesPerSec).
    double min_retries_per_second = 10.0;
    // Retries allowed per original request (Finagle percentCanRetry; 0.2 = 20 %).
    // Resolved to parts per million.
    double retry_ratio = 0.2;

    config_errors validate() const;
};

class retry_budget {
public:
    explicit retry_budget(retry_budget_config config);

    // An original request (not a retry) was sent: deposits retry_ratio of a retry.
    void record_request(sim::time_point now);
    // A retry wants to go: true (and counted) if the budget covers it, else false.
    bool try_withdraw(sim::time_point now);
    // Retries the budget would still allow right now.
    std::uint64_t balance(sim::time_point now);

    // floor(min_retries_per_second * ttl in seconds), as Finagle computes it.
    std::uint64_t reserve() const { return reserve_; }
    const retry_budget_config& config() const { return config_; }

private:
    retry_budget_config config_;
    std::uint64_t ratio_ppm_;
    std::uint64_t reserve_;
    detail::windowed_counter requests_;
    detail::windowed_counter retries_;
};

}  // namespace meshsim::svc
