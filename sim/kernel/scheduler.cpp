#include "sim/kernel/scheduler.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include <boost/fiber/context.hpp>
#include <boost/fiber/operations.hpp>

namespace meshsim::sim::kernel {

namespace {
// The longest-ready fiber, taken out of a queue that is not empty.
boost::fibers::context* take_first(ring_queue<boost::fibers::context*>& ready) noexcept {
    boost::fibers::context* ctx = ready.front();
    ready.pop_front();
    return ctx;
}
}  // namespace

void fifo_scheduler::awakened(boost::fibers::context* ctx) noexcept {
    // ctx is never null: only parked fibers are woken, and a fiber parks only after it ran.
    // (Not checked here: a check makes this hot leaf function save registers on every call.)
    if (ctx == known_dispatcher_ ||
        (known_dispatcher_ == nullptr && ctx->is_context(boost::fibers::type::dispatcher_context))) {
        // Boost.Fiber's dispatcher re-queues itself after every resume "so the
        // queue is never empty". Kept aside, it runs only when pick_next answers
        // on request (see request_cleanup), so "no fiber ready" stays observable.
        // (One per thread, for the thread's life: its address identifies it.)
        known_dispatcher_ = ctx;
        dispatcher_ = ctx;
        return;
    }
    ready_.push_back(ctx);  // no allocation: room is reserved as fibers are spawned (reserve)
}

boost::fibers::context* fifo_scheduler::pick_next() noexcept {
    if (cleanup_requested_ && dispatcher_ != nullptr) {
        cleanup_requested_ = false;
        return std::exchange(dispatcher_, nullptr);
    }
    if (!ready_.empty()) return take_first(ready_);
    // Nothing ready: the event loop that handed over control goes on; failing
    // that, only the dispatcher can (at thread exit it is joined).
    if (waiting_loop_ != nullptr) return std::exchange(waiting_loop_, nullptr);
    return std::exchange(dispatcher_, nullptr);
}

bool fifo_scheduler::run_ready_from(boost::fibers::context* loop) noexcept {
    if (ready_.empty()) return false;
    boost::fibers::context* ctx = take_first(ready_);
    waiting_loop_ = loop;
    ctx->resume();  // back here when pick_next hands control to the loop
    return true;
}

bool fifo_scheduler::withdraw(boost::fibers::context* ctx) noexcept {
    // A crash's path, not a message's: a pass over the fibers ready at this instant.
    for (std::size_t i = 0; i < ready_.size(); ++i) {
        if (ready_[i] != ctx) continue;
        ready_.erase_at(i);  // the others keep their order
        return true;
    }
    return false;
}

void fifo_scheduler::suspend_until(std::chrono::steady_clock::time_point const&) noexcept {
    // Reached only if every fiber, the event loop included, is blocked outside the
    // kernel (a Boost.Fiber mutex or condition variable, which simulated code must
    // not use). Waiting on a real clock would hang the run: fail loudly instead.
    std::fputs("meshsim: internal error: every fiber is blocked outside the simulation kernel\n", stderr);
    std::abort();
}

fifo_scheduler& fifo_scheduler::install_on_this_thread() {
    thread_local fifo_scheduler* installed = nullptr;
    if (installed == nullptr) {
        auto* algo = new fifo_scheduler();  // owned by Boost.Fiber's scheduler from here on
        boost::fibers::context::active()->get_scheduler()->set_algo(boost::fibers::algo::algorithm::ptr_t(algo));
        installed = algo;
    }
    return *installed;
}

}  // namespace meshsim::sim::kernel
