#include "services/platform/detail/windowed_counter.hpp"

namespace meshsim::svc::detail {

void windowed_counter::add(sim::time_point now, std::uint64_t count) {
    expire(now);
    const auto offset = now.time_since_epoch() % resolution_;
    const auto slot = now - offset;
    if (!slots_.empty() && slots_.back().first == slot) {
        slots_.back().second += count;
    } else {
        slots_.emplace_back(slot, count);
    }
    total_ += count;
}

std::uint64_t windowed_counter::total(sim::time_point now) {
    expire(now);
    return total_;
}

void windowed_counter::clear() {
    slots_.clear();
    total_ = 0;
}

void windowed_counter::expire(sim::time_point now) {
    while (!slots_.empty() && slots_.front().first <= now - window_) {
        total_ -= slots_.front().second;
        slots_.pop_front();
    }
}

}  // namespace meshsim::svc::detail
