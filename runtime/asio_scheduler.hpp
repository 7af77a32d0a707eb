// Boost.Fiber's documented integration with Boost.Asio (libs/fiber/examples/asio/
// round_robin.hpp, Oliver Kowalke): one thread runs io_context::run(); a handler
// posted first loops "poll the io_context while fibers are ready, else block in
// run_one()", and the algorithm's suspend_until() arms a steady_timer so that
// sleeping fibers (timed waits) wake the loop on time. Real clock: outside the
// determinism lint on purpose (see runtime/CMakeLists.txt).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/mutex.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/scheduler.hpp>

namespace meshsim::real {

class asio_round_robin final : public boost::fibers::algo::algorithm {
public:
    explicit asio_round_robin(boost::asio::io_context& io)
        : io_(io), work_(boost::asio::make_work_guard(io)), suspend_timer_(io) {
        boost::asio::post(io_, [this] {
            while (!io_.stopped()) {
                if (has_ready_fibers()) {
                    // Run the pending handlers, then let every ready fiber run once
                    // (suspend_until() is called when none is left and notifies us).
                    while (io_.poll()) {}
                    std::unique_lock<boost::fibers::mutex> lock(mutex_);
                    idle_.wait(lock);
                } else if (!io_.run_one()) {
                    break;
                }
            }
        });
    }

    void awakened(boost::fibers::context* ctx) noexcept override {
        ctx->ready_link(ready_);
        if (!ctx->is_context(boost::fibers::type::dispatcher_context)) ++ready_count_;
    }
    boost::fibers::context* pick_next() noexcept override {
        if (ready_.empty()) return nullptr;
        boost::fibers::context* ctx = &ready_.front();
        ready_.pop_front();
        if (!ctx->is_context(boost::fibers::type::dispatcher_context)) --ready_count_;
        return ctx;
    }
    bool has_ready_fibers() const noexcept override { return ready_count_ > 0; }
    void suspend_until(std::chrono::steady_clock::time_point const& abs_time) noexcept override {
        // Only a different wake time re-arms the timer (re-arming cancels the pending
        // wait, whose handler would return run_one() at once: a spin).
        if (abs_time != std::chrono::steady_clock::time_point::max() && abs_time != armed_) {
            armed_ = abs_time;
            suspend_timer_.expires_at(abs_time);
            suspend_timer_.async_wait([](const boost::system::error_code&) { boost::this_fiber::yield(); });
        }
        idle_.notify_one();
    }
    void notify() noexcept override {
        armed_ = std::chrono::steady_clock::now();
        suspend_timer_.async_wait([](const boost::system::error_code&) { boost::this_fiber::yield(); });
        suspend_timer_.expires_at(armed_);
    }
    // Lets run() return once nothing else holds the io_context busy.
    void release_work() { work_.reset(); }

private:
    boost::asio::io_context& io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    boost::asio::steady_timer suspend_timer_;
    std::chrono::steady_clock::time_point armed_{};
    boost::fibers::scheduler::ready_queue_type ready_{};
    std::size_t ready_count_ = 0;
    boost::fibers::mutex mutex_{};
    boost::fibers::condition_variable idle_{};
};

}  // namespace meshsim::real
