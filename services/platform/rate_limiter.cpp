#include "services/platform/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace meshsim::svc {

config_errors rate_limit_config::validate() const {
    config_errors errors;
    require(errors, rate_per_second > 0 && rate_per_second <= 1e9, "rate_per_second", "in (0, 1e9]", rate_per_second);
    require(errors, burst_requests >= 1, "burst_requests", ">= 1", burst_requests);
    return errors;
}

token_bucket::token_bucket(rate_limit_config config)
    : config_(config),
      refill_interval_(std::max<sim::duration::rep>(1, std::llround(1e9 / config.rate_per_second))),
      burst_span_(sim::saturating_mul(refill_interval_, config.burst_requests)) {}

rate_decision token_bucket::try_acquire(sim::time_point now, std::uint32_t tokens) {
    if (tokens > config_.burst_requests) return {false, sim::duration::max()};
    // A bucket that has never been used is full, whatever `now` is.
    const auto start = started_ ? std::max(theoretical_arrival_, now) : now;
    const auto next = sim::saturating_add(start, sim::saturating_mul(refill_interval_, tokens));
    if (next - now > burst_span_) return {false, next - now - burst_span_};
    theoretical_arrival_ = next;
    started_ = true;
    return {true, sim::duration::zero()};
}

std::uint64_t token_bucket::available(sim::time_point now) const {
    const auto start = started_ ? std::max(theoretical_arrival_, now) : now;
    const auto used = start - now;
    return static_cast<std::uint64_t>((burst_span_ - used) / refill_interval_);
}

void rate_limiter::set_consumer_limit(const std::string& consumer, rate_limit_config config) {
    overrides_.insert_or_assign(consumer, config);
    buckets_.erase(consumer);
}

token_bucket& rate_limiter::bucket_for(const std::string& consumer) {
    auto it = buckets_.find(consumer);
    if (it != buckets_.end()) return it->second;
    const auto override_it = overrides_.find(consumer);
    const auto& config = override_it != overrides_.end() ? override_it->second : default_config_;
    return buckets_.emplace(consumer, token_bucket(config)).first->second;
}

rate_decision rate_limiter::try_acquire(const std::string& consumer, sim::time_point now, std::uint32_t tokens) {
    return bucket_for(consumer).try_acquire(now, tokens);
}

}  // namespace meshsim::svc
