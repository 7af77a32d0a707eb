#include "services/platform/circuit_breaker.hpp"

#include <algorithm>
#include <cmath>

#include "services/platform/planted_bug.hpp"
#include "sim/invariant.hpp"

namespace meshsim::svc {

std::string_view to_string(breaker_state state) {
    switch (state) {
        case breaker_state::closed: return "CLOSED";
        case breaker_state::open: return "OPEN";
        case breaker_state::half_open: return "HALF_OPEN";
        case breaker_state::forced_open: return "FORCED_OPEN";
        case breaker_state::disabled: return "DISABLED";
        case breaker_state::metrics_only: return "METRICS_ONLY";
    }
    return "UNKNOWN";
}

config_errors circuit_breaker_config::validate() const {
    config_errors errors;
    const auto percent = [&](double value, std::string_view name) {
        require(errors, value > 0 && value <= 100, name, "in (0, 100]", value);
    };
    percent(failure_rate_threshold_percent, "failure_rate_threshold_percent");
    percent(slow_call_rate_threshold_percent, "slow_call_rate_threshold_percent");
    require(errors, slow_call_duration_threshold > sim::duration::zero(), "slow_call_duration_threshold", "> 0",
            slow_call_duration_threshold);
    require(errors, sliding_window_size_calls >= 1, "sliding_window_size_calls", ">= 1", sliding_window_size_calls);
    require(errors, sliding_window_size_seconds >= 1, "sliding_window_size_seconds", ">= 1",
            sliding_window_size_seconds);
    require(errors, minimum_number_of_calls >= 1, "minimum_number_of_calls", ">= 1", minimum_number_of_calls);
    require(errors, wait_duration_in_open_state > sim::duration::zero(), "wait_duration_in_open_state", "> 0",
            wait_duration_in_open_state);
    require(errors, wait_duration_in_open_state_multiplier >= 1, "wait_duration_in_open_state_multiplier", ">= 1",
            wait_duration_in_open_state_multiplier);
    require(errors, max_wait_duration_in_open_state >= wait_duration_in_open_state, "max_wait_duration_in_open_state",
            ">= wait_duration_in_open_state", max_wait_duration_in_open_state);
    require(errors, permitted_number_of_calls_in_half_open_state >= 1, "permitted_number_of_calls_in_half_open_state",
            ">= 1", permitted_number_of_calls_in_half_open_state);
    require(errors, max_wait_duration_in_half_open_state >= sim::duration::zero(),
            "max_wait_duration_in_half_open_state", ">= 0", max_wait_duration_in_half_open_state);
    return errors;
}

namespace {

detail::sliding_call_window make_closed_window(const circuit_breaker_config& config) {
    if (config.window_type == sliding_window_type::time_based) {
        return detail::sliding_call_window::time_based(std::max(1u, config.sliding_window_size_seconds));
    }
    return detail::sliding_call_window::count_based(std::max(1u, config.sliding_window_size_calls));
}

}  // namespace

circuit_breaker::circuit_breaker(circuit_breaker_config config, state_listener listener)
    : config_(config),
      listener_(std::move(listener)),
      closed_window_(make_closed_window(config)),
      half_open_window_(
          detail::sliding_call_window::count_based(std::max(1u, config.permitted_number_of_calls_in_half_open_state))) {
}

sim::duration circuit_breaker::current_open_wait() const {
    const auto exponent = static_cast<double>(std::max(1u, consecutive_opens_) - 1);
    const double wait = static_cast<double>(config_.wait_duration_in_open_state.count()) *
                        std::pow(config_.wait_duration_in_open_state_multiplier, exponent);
    const auto cap = config_.max_wait_duration_in_open_state;
    if (!(wait < static_cast<double>(cap.count()))) return cap;
    return sim::duration{static_cast<sim::duration::rep>(wait)};
}

void circuit_breaker::enter_open(sim::time_point now) {
    ++consecutive_opens_;
    open_until_ = sim::saturating_add(now, current_open_wait());
    // Planted bug (test-only): the wait never ends, so the breaker never half-opens.
    if (planted(planted_bug::breaker_never_half_opens)) open_until_ = sim::time_never;
}

void circuit_breaker::move_to(sim::time_point now, breaker_state next) {
    const auto from = state_;
    if (listener_ && from != next) {
        transition_window_ = from == breaker_state::half_open ? half_open_window_.totals(now)
                             : from == breaker_state::closed || from == breaker_state::metrics_only
                                 ? closed_window_.totals(now)
                                 : detail::call_counts{};
    }
    state_ = next;
    switch (next) {
        case breaker_state::closed:
            consecutive_opens_ = 0;
            closed_window_.clear();
            break;
        case breaker_state::metrics_only: closed_window_.clear(); break;
        case breaker_state::open: enter_open(now); break;
        case breaker_state::half_open:
            half_open_window_.clear();
            half_open_permits_left_ = config_.permitted_number_of_calls_in_half_open_state;
            half_open_since_ = now;
            break;
        case breaker_state::forced_open:
        case breaker_state::disabled: break;
    }
    if (listener_ && from != next) listener_(now, from, next);
}

bool is_automatic_transition(breaker_state from, breaker_state to) {
    switch (from) {
        case breaker_state::closed: return to == breaker_state::open;
        case breaker_state::open: return to == breaker_state::half_open;
        case breaker_state::half_open: return to == breaker_state::closed || to == breaker_state::open;
        case breaker_state::forced_open:
        case breaker_state::disabled:
        case breaker_state::metrics_only: return false;
    }
    return false;
}

void circuit_breaker::move_on_its_own(sim::time_point now, breaker_state next) {
    MESHSIM_INVARIANT(is_automatic_transition(state_, next),
                      "a breaker moves on its own only closed -> open -> half_open -> closed or open");
    move_to(now, next);
}

void circuit_breaker::tick(sim::time_point now) {
    if (state_ == breaker_state::open && config_.automatic_transition_from_open_to_half_open && now >= open_until_) {
        move_on_its_own(now, breaker_state::half_open);
    }
    if (state_ == breaker_state::half_open && config_.max_wait_duration_in_half_open_state > sim::duration::zero() &&
        now >= sim::saturating_add(half_open_since_, config_.max_wait_duration_in_half_open_state)) {
        move_on_its_own(now, breaker_state::open);
    }
}

breaker_state circuit_breaker::state(sim::time_point now) {
    tick(now);
    return state_;
}

sim::time_point circuit_breaker::next_transition_time() const {
    if (state_ == breaker_state::open && config_.automatic_transition_from_open_to_half_open) return open_until_;
    if (state_ == breaker_state::half_open && config_.max_wait_duration_in_half_open_state > sim::duration::zero()) {
        return sim::saturating_add(half_open_since_, config_.max_wait_duration_in_half_open_state);
    }
    return sim::time_never;
}

bool circuit_breaker::try_acquire(sim::time_point now) {
    tick(now);
    if (state_ == breaker_state::open && now >= open_until_) move_on_its_own(now, breaker_state::half_open);
    switch (state_) {
        case breaker_state::closed:
        case breaker_state::disabled:
        case breaker_state::metrics_only: return true;
        case breaker_state::half_open:
            MESHSIM_INVARIANT(half_open_permits_left_ <= config_.permitted_number_of_calls_in_half_open_state,
                              "a half-open breaker never has more permits than it allows");
            if (half_open_permits_left_ > 0) {
                --half_open_permits_left_;
                return true;
            }
            break;
        case breaker_state::open:
        case breaker_state::forced_open: break;
    }
    ++not_permitted_calls_;
    return false;
}

void circuit_breaker::release_permission(sim::time_point now) {
    tick(now);
    if (state_ == breaker_state::half_open &&
        half_open_permits_left_ < config_.permitted_number_of_calls_in_half_open_state) {
        ++half_open_permits_left_;
    }
}

std::uint32_t circuit_breaker::minimum_calls_for_verdict() const {
    if (config_.window_type == sliding_window_type::count_based) {
        return std::min(config_.minimum_number_of_calls, config_.sliding_window_size_calls);
    }
    return config_.minimum_number_of_calls;
}

bool circuit_breaker::thresholds_exceeded(const detail::call_counts& counts) const {
    const double calls = counts.calls;
    return counts.failed * 100.0 / calls >= config_.failure_rate_threshold_percent ||
           counts.slow * 100.0 / calls >= config_.slow_call_rate_threshold_percent;
}

void circuit_breaker::record_closed(sim::time_point now, sim::duration elapsed, bool failure) {
    closed_window_.record(now, failure, is_slow(elapsed));
    const auto counts = closed_window_.totals(now);
    if (counts.calls >= minimum_calls_for_verdict() && thresholds_exceeded(counts)) {
        move_on_its_own(now, breaker_state::open);
    }
}

void circuit_breaker::record_half_open(sim::time_point now, sim::duration elapsed, bool failure) {
    half_open_window_.record(now, failure, is_slow(elapsed));
    const auto counts = half_open_window_.totals(now);
    if (counts.calls < config_.permitted_number_of_calls_in_half_open_state) return;
    move_on_its_own(now, thresholds_exceeded(counts) ? breaker_state::open : breaker_state::closed);
}

void circuit_breaker::on_result(sim::time_point now, sim::duration elapsed, bool failure) {
    tick(now);
    switch (state_) {
        case breaker_state::closed: record_closed(now, elapsed, failure); break;
        case breaker_state::half_open: record_half_open(now, elapsed, failure); break;
        case breaker_state::metrics_only: closed_window_.record(now, failure, is_slow(elapsed)); break;
        // Results of calls admitted before the breaker opened say nothing new.
        case breaker_state::open:
        case breaker_state::forced_open:
        case breaker_state::disabled: break;
    }
}

void circuit_breaker::on_result(sim::time_point now, sim::duration elapsed, const outcome& o) {
    if (!reached_remote(o)) {
        release_permission(now);
        return;
    }
    on_result(now, elapsed, !is_healthy(o));
}

breaker_metrics circuit_breaker::metrics(sim::time_point now) {
    tick(now);
    const bool half_open = state_ == breaker_state::half_open;
    const auto counts = half_open ? half_open_window_.totals(now) : closed_window_.totals(now);
    const auto minimum = half_open ? config_.permitted_number_of_calls_in_half_open_state : minimum_calls_for_verdict();
    breaker_metrics m;
    m.buffered_calls = counts.calls;
    m.failed_calls = counts.failed;
    m.slow_calls = counts.slow;
    m.not_permitted_calls = not_permitted_calls_;
    if (counts.calls >= minimum) {
        m.failure_rate_percent = counts.failed * 100.0 / counts.calls;
        m.slow_call_rate_percent = counts.slow * 100.0 / counts.calls;
    }
    return m;
}

void circuit_breaker::transition_to_closed(sim::time_point now) { move_to(now, breaker_state::closed); }
void circuit_breaker::transition_to_open(sim::time_point now) { move_to(now, breaker_state::open); }
void circuit_breaker::transition_to_half_open(sim::time_point now) { move_to(now, breaker_state::half_open); }
void circuit_breaker::transition_to_forced_open(sim::time_point now) { move_to(now, breaker_state::forced_open); }
void circuit_breaker::transition_to_disabled(sim::time_point now) { move_to(now, breaker_state::disabled); }
void circuit_breaker::transition_to_metrics_only(sim::time_point now) { move_to(now, breaker_state::metrics_only); }

void circuit_breaker::reset(sim::time_point now) {
    move_to(now, breaker_state::closed);
    not_permitted_calls_ = 0;
}

}  // namespace meshsim::svc
