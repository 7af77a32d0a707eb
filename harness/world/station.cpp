#include "harness/world/station.hpp"

#include <algorithm>

namespace meshsim::harness {

admission station::enter() {
    if (busy_ < config_.concurrency && waiting_.empty()) {
        ++busy_;
        return admission::admitted;
    }
    if (waiting_.size() >= config_.queue_capacity) return admission::queue_full;
    waiter self{rt_.current_fiber(), false};
    waiting_.push_back(&self);
    on_queue_change_(+1);
    // Removes the waiter on every way out, a timeout or the unwinding of a crash.
    struct leave_queue {
        station& s;
        waiter* w;
        ~leave_queue() {
            auto it = std::find(s.waiting_.begin(), s.waiting_.end(), w);
            if (it == s.waiting_.end()) return;  // handed a server: leave() took it out
            s.waiting_.erase(it);
            s.on_queue_change_(-1);
        }
    } guard{*this, &self};
    const sim::time_point deadline = config_.queue_timeout == sim::duration::max()
                                         ? sim::time_never
                                         : rt_.now() + config_.queue_timeout;
    rt_.park(self.ref, deadline);
    return self.granted ? admission::admitted : admission::queue_timeout;
}

void station::leave() {
    if (waiting_.empty()) {
        --busy_;
        return;
    }
    // The server passes straight to the next waiter: busy_ does not change.
    waiter* next = nullptr;
    if (config_.discipline == queue_discipline::fifo) {
        next = waiting_.front();
        waiting_.pop_front();
    } else {
        next = waiting_.back();
        waiting_.pop_back();
    }
    on_queue_change_(-1);
    next->granted = true;
    rt_.unpark(next->ref);
}

}  // namespace meshsim::harness
