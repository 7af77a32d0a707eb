// Planted bugs: deliberately broken variants of platform components, for meshsim's own
// tests that chaos (`meshsim chaos`) finds and shrinks real bugs. Test-only: a scenario
// chooses one with its top-level "planted_bug"; every other run has none. The switch is
// per thread (one simulation = one thread), read at four places, one per bug.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace meshsim::svc {

enum class planted_bug : std::uint8_t {
    none,
    breaker_never_half_opens,  // circuit_breaker: OPEN stays OPEN, whatever the wait
    consumer_not_idempotent,   // idempotent_consumer: applies a redelivered event again
    outbox_drops_on_crash,     // outbox_relay: marks a batch sent, then publishes it once
    retry_ignores_deadline,    // call_edge: retries and tries past the call's deadline
};

struct planted_bug_info {
    planted_bug bug;
    std::string_view name;
    std::string_view description;  // one line, for `meshsim list`
};
// Every planted bug but none, in the order `meshsim list` prints them.
std::span<const planted_bug_info> all_planted_bugs();
std::optional<planted_bug> planted_bug_named(std::string_view name);
std::string_view to_string(planted_bug bug);

namespace detail {
inline thread_local planted_bug active_planted_bug = planted_bug::none;
}

// Whether this thread's simulation runs with `bug` planted (a thread-local compare).
inline bool planted(planted_bug bug) { return detail::active_planted_bug == bug; }

// Plants `bug` in this thread for the scope's life (a run), restoring the previous one.
class planted_bug_scope {
public:
    explicit planted_bug_scope(planted_bug bug) : previous_(detail::active_planted_bug) {
        detail::active_planted_bug = bug;
    }
    ~planted_bug_scope() { detail::active_planted_bug = previous_; }
    planted_bug_scope(const planted_bug_scope&) = delete;
    planted_bug_scope& operator=(const planted_bug_scope&) = delete;

private:
    planted_bug previous_;
};

}  // namespace meshsim::svc
