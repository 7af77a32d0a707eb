// gRPC A6 retry throttling: one token bucket per client channel. Failures take a
// token, successes give back token_ratio, and retries are allowed only while more
// than half the bucket is full. Counted in thousandths of a token, as gRPC does.
#pragma once

#include <cstdint>

#include "services/platform/config_errors.hpp"

namespace meshsim::svc {

struct retry_throttle_config {
    // gRPC retryThrottling.maxTokens, in (0, 1000]. The bucket starts full.
    double max_tokens = 10.0;
    // gRPC retryThrottling.tokenRatio, > 0; only three decimals are kept.
    double token_ratio = 0.1;

    config_errors validate() const;
};

class retry_throttle {
public:
    explicit retry_throttle(retry_throttle_config config);

    // An attempt failed with a retryable status (or the server pushed back).
    void on_failure();
    // An attempt succeeded.
    void on_success();
    // True while tokens > max_tokens / 2.
    bool retry_allowed() const { return tokens_milli_ * 2 > max_tokens_milli_; }

    double tokens() const { return static_cast<double>(tokens_milli_) / 1000.0; }
    const retry_throttle_config& config() const { return config_; }

private:
    friend struct retry_throttle_test_access;  // tests break its invariants on purpose
    void check_bounds() const;

    retry_throttle_config config_;
    std::int64_t max_tokens_milli_;
    std::int64_t token_ratio_milli_;
    std::int64_t tokens_milli_;
};

}  // namespace meshsim::svc
