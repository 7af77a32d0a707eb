// A circuit breaker with resilience4j's state machine: CLOSED, OPEN, HALF_OPEN and
// the manual FORCED_OPEN, DISABLED, METRICS_ONLY. Pure logic on virtual time: the
// caller passes `now`, and schedules next_transition_time() if it wants timed moves.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "services/platform/config_errors.hpp"
#include "services/platform/detail/sliding_call_window.hpp"
#include "services/platform/outcome.hpp"
#include "sim/time.hpp"

namespace meshsim::svc {

enum class breaker_state : std::uint8_t { closed, open, half_open, forced_open, disabled, metrics_only };
enum class sliding_window_type : std::uint8_t { count_based, time_based };

std::string_view to_string(breaker_state state);

// The moves a breaker makes on its own (calls and time): CLOSED -> OPEN -> HALF_OPEN
// -> CLOSED or OPEN. Manual transitions (transition_to_*, reset) may go anywhere.
bool is_automatic_transition(breaker_state from, breaker_state to);

// Defaults are resilience4j's CircuitBreakerConfig defaults.
struct circuit_breaker_config {
    double failure_rate_threshold_percent = 50.0;
    double slow_call_rate_threshold_percent = 100.0;
    // A call is slow when it takes strictly longer than this.
    sim::duration slow_call_duration_threshold = sim::seconds{60};
    sliding_window_type window_type = sliding_window_type::count_based;
    // resilience4j's one slidingWindowSize is calls or seconds by type; here each has its own field.
    std::uint32_t sliding_window_size_calls = 100;
    std::uint32_t sliding_window_size_seconds = 100;
    // No verdict before this many calls are in the window (capped at the window size when count based).
    std::uint32_t minimum_number_of_calls = 100;
    // The wait after the k-th consecutive opening is wait * multiplier^(k-1), at most the max
    // (resilience4j's IntervalFunction.ofExponentialBackoff; multiplier 1 = constant).
    sim::duration wait_duration_in_open_state = sim::seconds{60};
    double wait_duration_in_open_state_multiplier = 1.0;
    sim::duration max_wait_duration_in_open_state = sim::duration::max();
    std::uint32_t permitted_number_of_calls_in_half_open_state = 10;
    // false: OPEN -> HALF_OPEN happens on the first call after the wait. true: at the
    // end of the wait, if the caller calls tick() (or anything else) at next_transition_time().
    bool automatic_transition_from_open_to_half_open = false;
    // HALF_OPEN -> OPEN when the permitted calls have not decided within this. 0 = wait forever.
    sim::duration max_wait_duration_in_half_open_state = sim::duration::zero();

    config_errors validate() const;
};

struct breaker_metrics {
    std::uint32_t buffered_calls = 0;
    std::uint32_t failed_calls = 0;
    std::uint32_t slow_calls = 0;
    // -1 while fewer than the minimum number of calls are buffered (as resilience4j).
    double failure_rate_percent = -1;
    double slow_call_rate_percent = -1;
    std::uint64_t not_permitted_calls = 0;
};

class circuit_breaker {
public:
    using state_listener = std::function<void(sim::time_point at, breaker_state from, breaker_state to)>;

    explicit circuit_breaker(circuit_breaker_config config, state_listener listener = {});

    // Asks to make one call. False means: do not call, the outcome is breaker_open.
    bool try_acquire(sim::time_point now);
    // An admitted call that did not run (or must not count): gives its permit back.
    void release_permission(sim::time_point now);
    // The result of an admitted call.
    void on_result(sim::time_point now, sim::duration elapsed, bool failure);
    // Same, classified: failure = not healthy; outcomes that never reached the
    // remote release the permit instead of counting.
    void on_result(sim::time_point now, sim::duration elapsed, const outcome& o);

    // Applies the timed transitions due at `now`, then reports the state.
    breaker_state state(sim::time_point now);
    breaker_state current_state() const { return state_; }
    void tick(sim::time_point now);
    // When a timed transition is due (automatic OPEN -> HALF_OPEN, max wait in
    // HALF_OPEN); time_never when none is pending.
    sim::time_point next_transition_time() const;
    // While OPEN: the earliest time a call may be admitted (a Retry-After for callers).
    sim::time_point open_until() const { return open_until_; }

    breaker_metrics metrics(sim::time_point now);

    void transition_to_closed(sim::time_point now);
    void transition_to_open(sim::time_point now);
    void transition_to_half_open(sim::time_point now);
    void transition_to_forced_open(sim::time_point now);
    void transition_to_disabled(sim::time_point now);
    void transition_to_metrics_only(sim::time_point now);
    // Back to CLOSED with empty metrics and the open-wait growth forgotten.
    void reset(sim::time_point now);

    const circuit_breaker_config& config() const { return config_; }
    // The window of the state the last transition left (closed or half-open; empty
    // from other states), as it stood when it decided: what a listener reports.
    const detail::call_counts& transition_window() const { return transition_window_; }

private:
    friend struct circuit_breaker_test_access;  // tests break its invariants on purpose
    void move_to(sim::time_point now, breaker_state next);
    // A move the breaker makes by itself: only along is_automatic_transition's edges.
    void move_on_its_own(sim::time_point now, breaker_state next);
    void enter_open(sim::time_point now);
    sim::duration current_open_wait() const;
    std::uint32_t minimum_calls_for_verdict() const;
    bool thresholds_exceeded(const detail::call_counts& counts) const;
    void record_closed(sim::time_point now, sim::duration elapsed, bool failure);
    void record_half_open(sim::time_point now, sim::duration elapsed, bool failure);
    bool is_slow(sim::duration elapsed) const { return elapsed > config_.slow_call_duration_threshold; }

    circuit_breaker_config config_;
    state_listener listener_;
    breaker_state state_ = breaker_state::closed;
    detail::sliding_call_window closed_window_;
    detail::sliding_call_window half_open_window_;
    std::uint32_t half_open_permits_left_ = 0;
    std::uint32_t consecutive_opens_ = 0;
    sim::time_point open_until_ = sim::time_zero;
    sim::time_point half_open_since_ = sim::time_zero;
    std::uint64_t not_permitted_calls_ = 0;
    detail::call_counts transition_window_{};
};

}  // namespace meshsim::svc
