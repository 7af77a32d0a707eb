#include "services/platform/outcome.hpp"

namespace meshsim::svc {

std::string_view to_string(outcome_kind kind) {
    switch (kind) {
        case outcome_kind::ok: return "ok";
        case outcome_kind::http_error: return "http_error";
        case outcome_kind::timeout: return "timeout";
        case outcome_kind::connection_refused: return "connection_refused";
        case outcome_kind::connection_reset: return "connection_reset";
        case outcome_kind::breaker_open: return "breaker_open";
        case outcome_kind::bulkhead_full: return "bulkhead_full";
        case outcome_kind::throttled: return "throttled";
        case outcome_kind::decode_error: return "decode_error";
        case outcome_kind::deadline_exceeded: return "deadline_exceeded";
    }
    return "unknown";
}

outcome outcome::http(std::uint16_t status, std::optional<sim::duration> retry_after) {
    const auto kind = status < 400 ? outcome_kind::ok : outcome_kind::http_error;
    return {kind, status, retry_after};
}

bool is_healthy(const outcome& o) {
    switch (o.kind) {
        case outcome_kind::ok: return true;
        case outcome_kind::http_error: return o.http_status < 500;
        default: return false;
    }
}

bool reached_remote(const outcome& o) {
    switch (o.kind) {
        case outcome_kind::breaker_open:
        case outcome_kind::bulkhead_full:
        case outcome_kind::throttled:
        case outcome_kind::deadline_exceeded: return false;
        default: return true;
    }
}

bool is_server_failure(const outcome& o) {
    switch (o.kind) {
        case outcome_kind::http_error: return o.http_status >= 500;
        case outcome_kind::timeout:
        case outcome_kind::connection_refused:
        case outcome_kind::connection_reset: return true;
        default: return false;
    }
}

}  // namespace meshsim::svc
