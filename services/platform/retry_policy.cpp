#include "services/platform/retry_policy.hpp"

#include <algorithm>

namespace meshsim::svc {

std::string_view to_string(retry_verdict verdict) {
    switch (verdict) {
        case retry_verdict::retry: return "retry";
        case retry_verdict::succeeded: return "succeeded";
        case retry_verdict::not_retryable: return "not_retryable";
        case retry_verdict::not_idempotent: return "not_idempotent";
        case retry_verdict::attempts_exhausted: return "attempts_exhausted";
    }
    return "unknown";
}

config_errors retry_policy_config::validate() const {
    config_errors errors;
    require(errors, max_attempts >= 1, "max_attempts", ">= 1", max_attempts);
    for (auto& line : backoff.validate()) errors.push_back("backoff." + line);
    return errors;
}

bool retry_policy::is_retryable(const outcome& o) const {
    switch (o.kind) {
        case outcome_kind::http_error:
            if (o.http_status == 429) return config_.retry_on_429;
            return o.http_status >= 500 && config_.retry_on_5xx;
        case outcome_kind::timeout: return config_.retry_on_timeout;
        case outcome_kind::connection_refused: return config_.retry_on_connection_refused;
        case outcome_kind::connection_reset: return config_.retry_on_connection_reset;
        // Success, local rejections (retrying into an open breaker or a full pool
        // only adds load), undecodable replies and a spent deadline: never.
        default: return false;
    }
}

bool retry_policy::is_safe_to_repeat(const outcome& o, call_traits call) const {
    if (call.idempotent || call.has_idempotency_key) return true;
    return o.kind == outcome_kind::connection_refused && config_.retry_refused_even_if_not_idempotent;
}

retry_verdict retry_policy::classify(const retry_state& state, const outcome& o, call_traits call) const {
    if (o.kind == outcome_kind::ok) return retry_verdict::succeeded;
    if (!is_retryable(o)) return retry_verdict::not_retryable;
    if (!is_safe_to_repeat(o, call)) return retry_verdict::not_idempotent;
    if (state.attempts_made >= config_.max_attempts) return retry_verdict::attempts_exhausted;
    return retry_verdict::retry;
}

retry_decision retry_policy::on_attempt_result(retry_state& state, const outcome& o, call_traits call,
                                               sim::random_stream& random) const {
    ++state.attempts_made;
    const auto verdict = classify(state, o, call);
    if (verdict != retry_verdict::retry) return {verdict, sim::duration::zero()};
    const std::uint32_t retry_index = state.attempts_made - 1;
    auto delay = backoff_.delay(retry_index, state.previous_delay, random);
    state.previous_delay = delay;
    if (o.retry_after) delay = std::max(delay, *o.retry_after);
    return {retry_verdict::retry, delay};
}

}  // namespace meshsim::svc
