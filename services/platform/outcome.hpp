// The outcome of one attempt of a call, as every platform component sees it.
// Owns the classification rules (healthy, retryable by nature, reached the
// remote) so that retries, breakers, outlier detection and metrics agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sim/time.hpp"

namespace meshsim::svc {

enum class outcome_kind : std::uint8_t {
    ok,                  // a 2xx/3xx response
    http_error,          // a 4xx/5xx response
    timeout,             // no response before the per-try timeout
    connection_refused,  // nothing listening: the request never reached a handler
    connection_reset,    // the connection died with the request possibly processed
    breaker_open,        // rejected locally by a circuit breaker
    bulkhead_full,       // rejected locally: connection pool / bulkhead exhausted
    throttled,           // rejected locally by client-side throttling
    decode_error,        // a response arrived but could not be decoded
    deadline_exceeded,   // the overall deadline of the call passed
};
inline constexpr std::size_t outcome_kind_count = 10;

std::string_view to_string(outcome_kind kind);

struct outcome {
    outcome_kind kind = outcome_kind::ok;
    // The HTTP status for ok and http_error; 0 otherwise.
    std::uint16_t http_status = 0;
    // A server's Retry-After (429/503), a minimum delay before the next attempt.
    std::optional<sim::duration> retry_after;

    static outcome success(std::uint16_t status = 200) { return {outcome_kind::ok, status, std::nullopt}; }
    static outcome http(std::uint16_t status, std::optional<sim::duration> retry_after = std::nullopt);
    static outcome of(outcome_kind kind) { return {kind, 0, std::nullopt}; }

    friend bool operator==(const outcome&, const outcome&) = default;
};

// The article's health rule: 2xx/3xx/4xx are healthy (a 4xx is the caller's
// fault), 5xx, timeouts, broken connections and undecodable replies are not.
// Local rejections are failed calls too, so they are not healthy either.
bool is_healthy(const outcome& o);

// True when the attempt was judged by the remote endpoint. Local rejections
// (breaker, bulkhead, throttle) and the caller's own deadline say nothing about
// the remote, so breakers and outlier detection must not count them.
bool reached_remote(const outcome& o);

// A server-side failure in Envoy's "consecutive 5xx" sense: 5xx responses and
// locally observed errors talking to the endpoint (timeout, refused, reset).
bool is_server_failure(const outcome& o);

}  // namespace meshsim::svc
