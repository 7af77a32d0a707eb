#include "services/platform/planted_bug.hpp"

#include <array>

namespace meshsim::svc {

std::span<const planted_bug_info> all_planted_bugs() {
    static constexpr std::array<planted_bug_info, 4> bugs{{
        {planted_bug::breaker_never_half_opens, "breaker_never_half_opens",
         "circuit breakers stay OPEN once open: never half-open, never close again"},
        {planted_bug::consumer_not_idempotent, "consumer_not_idempotent",
         "idempotent consumers apply a redelivered event again (no dedup record is read)"},
        {planted_bug::outbox_drops_on_crash, "outbox_drops_on_crash",
         "outbox relays mark a batch sent before publishing it: a failed publish or a crash loses it"},
        {planted_bug::retry_ignores_deadline, "retry_ignores_deadline",
         "call edges retry and wait per try past the call's deadline"},
    }};
    return bugs;
}

std::optional<planted_bug> planted_bug_named(std::string_view name) {
    for (const planted_bug_info& b : all_planted_bugs()) {
        if (b.name == name) return b.bug;
    }
    return std::nullopt;
}

std::string_view to_string(planted_bug bug) {
    for (const planted_bug_info& b : all_planted_bugs()) {
        if (b.bug == bug) return b.name;
    }
    return "none";
}

}  // namespace meshsim::svc
