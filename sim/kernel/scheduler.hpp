// The Boost.Fiber scheduling algorithm of a simulation thread: a plain FIFO of
// ready fibers, so the order in which fibers run depends only on the order in
// which they were made ready. It never sleeps on a real clock: the simulation's
// main fiber always has work (the event loop) until the run ends.
#pragma once

#include <cstddef>

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/scheduler.hpp>

#include "sim/ring_queue.hpp"

namespace meshsim::sim::kernel {

class fifo_scheduler final : public boost::fibers::algo::algorithm {
public:
    void awakened(boost::fibers::context* ctx) noexcept override;
    boost::fibers::context* pick_next() noexcept override;
    bool has_ready_fibers() const noexcept override { return !ready_.empty(); }
    void suspend_until(std::chrono::steady_clock::time_point const&) noexcept override;
    void notify() noexcept override {}

    std::size_t ready_count() const noexcept { return ready_.size(); }
    // Room for `contexts` ready at once, so that awakened() (noexcept) never allocates.
    void reserve(std::size_t contexts) { ready_.reserve(contexts); }
    // Takes a ready fiber out of the queue (to queue it again in another order); false if it was not queued.
    bool withdraw(boost::fibers::context* ctx) noexcept;
    // Called by the event loop, the running context `loop`: runs the first ready
    // fiber, and returns once no fiber is ready any more (false if none was).
    // The loop is not queued meanwhile, as a yield would queue it: pick_next hands
    // control back to it when the ready queue is empty. The fibers run in the
    // order they were made ready either way; this saves queueing the loop and
    // picking it again on every turn.
    bool run_ready_from(boost::fibers::context* loop) noexcept;
    // The next pick_next() hands control to Boost.Fiber's dispatcher: it frees
    // finished fibers, then picks the next ready fiber from this queue.
    void request_cleanup() noexcept { cleanup_requested_ = true; }

    // Installs the algorithm on the calling thread (once per thread; Boost.Fiber
    // allows no other way) and returns it.
    static fifo_scheduler& install_on_this_thread();

private:
    // Ready fibers in the order they were made ready. Pointers in a queue of our own,
    // not Boost's intrusive list: linking a context writes into it, a cache line of
    // the woken fiber's that is cold in a ring of many fibers (Boost's shared_work
    // algorithm keeps its ready contexts apart the same way).
    ring_queue<boost::fibers::context*> ready_;
    bool cleanup_requested_ = false;
    // Boost.Fiber's dispatcher, once it has been seen: a woken context is compared
    // with it rather than asked its type (a read of the context's cold lines).
    boost::fibers::context* known_dispatcher_ = nullptr;
    boost::fibers::context* dispatcher_ = nullptr;    // the dispatcher, when it asked to run
    boost::fibers::context* waiting_loop_ = nullptr;  // set by run_ready_from until the loop runs again
};

}  // namespace meshsim::sim::kernel
