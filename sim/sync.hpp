// Fiber-aware waiting with deadlines on a node's virtual clock, built only on the
// runtime seam's park/unpark. Use these, never Boost.Fiber's own timed waits
// (they read the real steady clock).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/invariant.hpp"
#include "sim/ring_queue.hpp"
#include "sim/runtime.hpp"

namespace meshsim::sim {

// Erases `item` from `list` when the scope ends: after a wake-up, a timeout, or
// the unwinding of a fiber killed by a crash, so no waiter list keeps a pointer
// into a dead stack frame.
template <typename List, typename Item>
class erase_on_exit {
public:
    erase_on_exit(List& list, Item item) : list_(list), item_(item) {}
    erase_on_exit(const erase_on_exit&) = delete;
    erase_on_exit& operator=(const erase_on_exit&) = delete;
    ~erase_on_exit() {
        auto it = std::find(list_.begin(), list_.end(), item_);
        if (it != list_.end()) list_.erase(it);
    }

private:
    List& list_;
    Item item_;
};

// FIFO list of parked fibers. Removing a ref on every exit path (including the
// unwinding of a killed fiber) keeps the list free of stale entries.
class wait_list {
public:
    void add(fiber_ref ref) { refs_.push_back(ref); }
    void remove(fiber_ref ref) {
        for (std::size_t i = 0; i < refs_.size(); ++i) {
            if (refs_[i].slot == ref.slot && refs_[i].token == ref.token) {
                refs_.erase_at(i);
                return;
            }
        }
    }
    bool empty() const { return refs_.empty(); }
    std::size_t size() const { return refs_.size(); }
    // Wakes the longest-waiting fiber, if any.
    void wake_one(runtime& rt) {
        if (refs_.empty()) return;
        fiber_ref ref = refs_.front();
        refs_.pop_front();
        rt.unpark(ref);
    }
    void wake_all(runtime& rt) {
        while (!refs_.empty()) wake_one(rt);
    }

private:
    ring_queue<fiber_ref, 2> refs_;  // most waits have one or two waiters: no allocation
};

// Parks the calling fiber on `waiters` until woken or the deadline passes.
inline wake_reason wait_on(runtime& rt, wait_list& waiters, time_point deadline) {
    const fiber_ref self = rt.current_fiber();
    waiters.add(self);
    struct remove_on_exit {
        wait_list& list;
        fiber_ref ref;
        ~remove_on_exit() { list.remove(ref); }
    } guard{waiters, self};
    return rt.park(self, deadline);
}

// Unbounded FIFO channel between fibers of one node.
template <typename T>
class channel {
public:
    explicit channel(runtime& rt) : rt_(&rt) {}

    void push(T value) {
        items_.push_back(std::move(value));
        receivers_.wake_one(*rt_);
    }

    // Next value, or nothing once the deadline passes (or the channel is closed and empty).
    std::optional<T> pop(time_point deadline = time_never) {
        while (items_.empty()) {
            if (closed_) return std::nullopt;
            if (wait_on(*rt_, receivers_, deadline) == wake_reason::timed_out && items_.empty()) {
                return std::nullopt;
            }
        }
        T value = std::move(items_.front());
        items_.pop_front();
        return value;
    }

    std::optional<T> try_pop() {
        if (items_.empty()) return std::nullopt;
        T value = std::move(items_.front());
        items_.pop_front();
        return value;
    }

    void close() {
        closed_ = true;
        receivers_.wake_all(*rt_);
    }

    std::size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }

private:
    runtime* rt_;
    ring_queue<T> items_;
    wait_list receivers_;
    bool closed_ = false;
};

// A one-shot value that fibers can wait for with a deadline.
template <typename T>
class completion {
public:
    explicit completion(runtime& rt) : rt_(&rt) {}

    // The first value wins; later ones are ignored (returns false).
    bool set(T value) {
        if (value_) return false;
        value_ = std::move(value);
        waiters_.wake_all(*rt_);
        return true;
    }

    // Waits for the value; nothing if the deadline passes first.
    const std::optional<T>& wait(time_point deadline = time_never) {
        while (!value_) {
            if (wait_on(*rt_, waiters_, deadline) == wake_reason::timed_out) break;
        }
        return value_;
    }

    bool ready() const { return value_.has_value(); }
    const std::optional<T>& value() const { return value_; }
    // Moves the value out (for a single consumer that owns the completion).
    std::optional<T> take() { return std::exchange(value_, std::nullopt); }

private:
    runtime* rt_;
    std::optional<T> value_;
    wait_list waiters_;
};

// Which waiter a released permit goes to.
enum class queue_discipline : std::uint8_t {
    // The oldest: fair, but under overload every request waits the whole queue and
    // is served after its caller gave up.
    fifo,
    // The newest (Facebook's adaptive LIFO, "Fail at scale"): under overload the
    // fresh requests, whose callers still wait, are served; old ones time out.
    lifo,
};

inline std::string_view to_string(queue_discipline discipline) {
    switch (discipline) {
        case queue_discipline::fifo: return "fifo";
        case queue_discipline::lifo: return "lifo";
    }
    return "unknown";
}

enum class acquire_result : std::uint8_t { granted, timed_out, evicted };

// A pool of `permits` permits with hand-off: a released permit goes straight to a
// waiter (the oldest, or the newest under lifo), so newcomers never overtake fibers
// already waiting. Waiters carry a rank, and the lowest-ranked can be evicted (load
// shedding by criticality). Bulkheads and a server's concurrency limit are built on it.
// A permit is released only by whoever acquired it: releasing more than were taken
// breaks an invariant.
class semaphore {
public:
    semaphore(runtime& rt, std::size_t permits, queue_discipline order = queue_discipline::fifo)
        : rt_(&rt), permits_(permits), available_(permits), order_(order) {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    // Takes a permit, waiting until the deadline at most. Any deadline not after
    // now() means "do not wait": fail fast when none is free. `rank` matters only to
    // evict_below (higher outranks lower).
    acquire_result acquire(time_point deadline, int rank = 0) {
        if (available_ > 0 && waiters_.empty()) {
            --available_;
            return acquire_result::granted;
        }
        if (deadline <= rt_->now()) return acquire_result::timed_out;
        waiter self{rt_->current_fiber(), rank, acquire_result::timed_out};
        waiters_.push_back(&self);
        // Also runs when the node crashes while we wait (fiber_killed unwinds the park).
        const erase_on_exit guard(waiters_, &self);
        rt_->park(self.ref, deadline);
        return self.result;
    }

    // Gives a permit back. Called from destructors (unwinding included), so a
    // release beyond what was acquired is reported, not thrown, and ignored.
    void release() {
        if (!MESHSIM_INVARIANT_HOLDS(available_ < permits_, "a permit is released only after it was acquired")) {
            return;
        }
        if (waiters_.empty()) {
            ++available_;
            return;
        }
        waiter* next = order_ == queue_discipline::lifo ? waiters_.back() : waiters_.front();
        if (order_ == queue_discipline::lifo) {
            waiters_.pop_back();
        } else {
            waiters_.pop_front();
        }
        next->result = acquire_result::granted;
        rt_->unpark(next->ref);
    }

    // Sheds the newest of the lowest-ranked waiters if it ranks below `rank` (its
    // acquire returns evicted). False when every waiter ranks at least `rank`.
    bool evict_below(int rank) {
        // Newest first among equals: the request that waited least loses least.
        auto victim = waiters_.rend();
        for (auto it = waiters_.rbegin(); it != waiters_.rend(); ++it) {
            if ((*it)->rank < rank && (victim == waiters_.rend() || (*it)->rank < (*victim)->rank)) victim = it;
        }
        if (victim == waiters_.rend()) return false;
        waiter* w = *victim;
        waiters_.erase(std::next(victim).base());
        w->result = acquire_result::evicted;
        rt_->unpark(w->ref);
        return true;
    }

    std::size_t permits() const { return permits_; }
    std::size_t available() const { return available_; }
    std::size_t waiting() const { return waiters_.size(); }

private:
    struct waiter {
        fiber_ref ref;
        int rank;
        acquire_result result;
    };
    runtime* rt_;
    std::size_t permits_;
    std::size_t available_;
    queue_discipline order_;
    std::deque<waiter*> waiters_;
};

}  // namespace meshsim::sim
