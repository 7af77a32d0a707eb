#include "services/platform/retry_throttle.hpp"

#include <algorithm>
#include <cmath>

#include "sim/invariant.hpp"

namespace meshsim::svc {

config_errors retry_throttle_config::validate() const {
    config_errors errors;
    require(errors, max_tokens > 0 && max_tokens <= 1000, "max_tokens", "in (0, 1000]", max_tokens);
    require(errors, token_ratio >= 0.001, "token_ratio", ">= 0.001 (three decimals are kept)", token_ratio);
    return errors;
}

retry_throttle::retry_throttle(retry_throttle_config config)
    : config_(config),
      max_tokens_milli_(std::llround(config.max_tokens * 1000)),
      token_ratio_milli_(std::llround(config.token_ratio * 1000)),
      tokens_milli_(max_tokens_milli_) {}

void retry_throttle::on_failure() {
    tokens_milli_ = std::max<std::int64_t>(0, tokens_milli_ - 1000);
    check_bounds();
}

void retry_throttle::on_success() {
    tokens_milli_ = std::min(max_tokens_milli_, tokens_milli_ + token_ratio_milli_);
    check_bounds();
}

void retry_throttle::check_bounds() const {
    MESHSIM_INVARIANT(tokens_milli_ >= 0 && tokens_milli_ <= max_tokens_milli_,
                      "a retry throttle holds between 0 and max_tokens tokens");
}

}  // namespace meshsim::svc
