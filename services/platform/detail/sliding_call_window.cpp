#include "services/platform/detail/sliding_call_window.hpp"

#include "sim/invariant.hpp"

namespace meshsim::svc::detail {

void call_counts::add(const call_counts& other) {
    calls += other.calls;
    failed += other.failed;
    slow += other.slow;
}

void call_counts::subtract(const call_counts& other) {
    calls -= other.calls;
    failed -= other.failed;
    slow -= other.slow;
}

sliding_call_window::sliding_call_window(kind k, std::uint32_t size) : kind_(k), slots_(size) {
    MESHSIM_INVARIANT(size > 0, "a sliding call window has at least one slot");
}

sliding_call_window sliding_call_window::count_based(std::uint32_t size_calls) {
    return sliding_call_window(kind::count, size_calls);
}

sliding_call_window sliding_call_window::time_based(std::uint32_t size_seconds) {
    return sliding_call_window(kind::time, size_seconds);
}

namespace {
std::int64_t second_of(sim::time_point t) {
    return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}
}  // namespace

void sliding_call_window::advance_to_second(std::int64_t second) {
    const auto size = static_cast<std::int64_t>(slots_.size());
    // Seconds that fell out of the window are dropped; at most one full turn.
    for (std::int64_t s = latest_second_ + 1; s <= second && s <= latest_second_ + size; ++s) {
        const auto index = static_cast<std::size_t>(((s % size) + size) % size);
        totals_.subtract(slots_[index]);
        slots_[index] = {};
    }
    if (second > latest_second_) latest_second_ = second;
}

void sliding_call_window::record(sim::time_point now, bool failed, bool slow) {
    const call_counts one{1, failed ? 1u : 0u, slow ? 1u : 0u};
    if (kind_ == kind::count) {
        totals_.subtract(slots_[next_slot_]);
        slots_[next_slot_] = one;
        next_slot_ = (next_slot_ + 1) % slots_.size();
    } else {
        const auto second = second_of(now);
        advance_to_second(second);
        const auto size = static_cast<std::int64_t>(slots_.size());
        const auto index = static_cast<std::size_t>(((second % size) + size) % size);
        slots_[index].add(one);
    }
    totals_.add(one);
}

call_counts sliding_call_window::totals(sim::time_point now) {
    if (kind_ == kind::time) advance_to_second(second_of(now));
    return totals_;
}

void sliding_call_window::clear() {
    for (auto& slot : slots_) slot = {};
    totals_ = {};
    next_slot_ = 0;
}

}  // namespace meshsim::svc::detail
