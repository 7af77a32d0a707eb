// Which failed attempts may be retried, and after how long (gRPC A6 style).
// Owns the retryable-outcome rules and the idempotency rule; the retry budget,
// the retry throttle and the deadline are separate gates the caller also asks.
#pragma once

#include <cstdint>
#include <string_view>

#include "services/platform/backoff.hpp"
#include "services/platform/config_errors.hpp"
#include "services/platform/outcome.hpp"
#include "sim/random.hpp"
#include "sim/time.hpp"

namespace meshsim::svc {

struct retry_policy_config {
    // Attempts in total, the first one included (gRPC maxAttempts). 1 = never retry.
    std::uint32_t max_attempts = 3;
    backoff_config backoff;
    bool retry_on_5xx = true;
    bool retry_on_timeout = true;
    bool retry_on_connection_refused = true;
    bool retry_on_connection_reset = true;
    // 429 Too Many Requests; its Retry-After is a floor on the next delay.
    bool retry_on_429 = true;
    // A refused connection means no handler saw the request, so even a call that
    // is not idempotent can go again (gRPC's "transparent retry").
    bool retry_refused_even_if_not_idempotent = true;

    config_errors validate() const;
};

// What the caller knows about the call being retried.
struct call_traits {
    bool idempotent = false;  // GET, PUT, DELETE, or declared so
    bool has_idempotency_key = false;
};

// Per logical call: how many attempts ran and the last delay (for decorrelated jitter).
struct retry_state {
    std::uint32_t attempts_made = 0;
    sim::duration previous_delay{0};
};

enum class retry_verdict : std::uint8_t {
    retry,               // go again after `delay`
    succeeded,           // the outcome was a success: nothing to retry
    not_retryable,       // this outcome is never retried (4xx, local rejection, ...)
    not_idempotent,      // retryable outcome, but repeating the call is unsafe
    attempts_exhausted,  // max_attempts reached
};

std::string_view to_string(retry_verdict verdict);

struct retry_decision {
    retry_verdict verdict = retry_verdict::not_retryable;
    sim::duration delay{0};
    bool should_retry() const { return verdict == retry_verdict::retry; }
};

class retry_policy {
public:
    explicit retry_policy(retry_policy_config config) : config_(config), backoff_(config.backoff) {}

    // Is this outcome of the retryable kind (ignoring idempotency and attempts)?
    bool is_retryable(const outcome& o) const;
    // May this call, given its traits, be repeated after this outcome?
    bool is_safe_to_repeat(const outcome& o, call_traits call) const;

    // Called after each attempt: counts it in `state` and decides. On `retry`,
    // the delay includes the backoff and honours any Retry-After as a minimum.
    retry_decision on_attempt_result(retry_state& state, const outcome& o, call_traits call,
                                     sim::random_stream& random) const;

    const retry_policy_config& config() const { return config_; }

private:
    retry_verdict classify(const retry_state& state, const outcome& o, call_traits call) const;

    retry_policy_config config_;
    backoff backoff_;
};

}  // namespace meshsim::svc
