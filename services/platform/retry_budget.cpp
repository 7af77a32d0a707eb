#include "services/platform/retry_budget.hpp"

#include <cmath>

namespace meshsim::svc {

namespace {
constexpr std::uint64_t parts_per_million = 1'000'000;
}

config_errors retry_budget_config::validate() const {
    config_errors errors;
    require(errors, ttl >= sim::seconds{1} && ttl <= sim::seconds{60}, "ttl", "in [1s, 60s] (as Finagle)", ttl);
    require(errors, min_retries_per_second >= 0, "min_retries_per_second", ">= 0", min_retries_per_second);
    require(errors, retry_ratio >= 0 && retry_ratio <= 1000, "retry_ratio", "in [0, 1000]", retry_ratio);
    return errors;
}

retry_budget::retry_budget(retry_budget_config config)
    : config_(config),
      ratio_ppm_(static_cast<std::uint64_t>(std::llround(config.retry_ratio * parts_per_million))),
      reserve_(static_cast<std::uint64_t>(config.min_retries_per_second * sim::to_seconds(config.ttl))),
      requests_(config.ttl),
      retries_(config.ttl) {}

void retry_budget::record_request(sim::time_point now) { requests_.add(now); }

std::uint64_t retry_budget::balance(sim::time_point now) {
    // Integer arithmetic in millionths keeps "exactly r per request" exact: no
    // retry is lost or gained to floating-point rounding at the boundary.
    const auto allowed_ppm = static_cast<__uint128_t>(ratio_ppm_) * requests_.total(now) +
                             static_cast<__uint128_t>(reserve_) * parts_per_million;
    const auto used_ppm = static_cast<__uint128_t>(retries_.total(now)) * parts_per_million;
    if (used_ppm >= allowed_ppm) return 0;
    return static_cast<std::uint64_t>((allowed_ppm - used_ppm) / parts_per_million);
}

bool retry_budget::try_withdraw(sim::time_point now) {
    if (balance(now) == 0) return false;
    retries_.add(now);
    return true;
}

}  // namespace meshsim::svc
