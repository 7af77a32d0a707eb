// The admission of one synthetic service instance, as a queueing station:
// `concurrency` servers, a bounded waiting room served FIFO or LIFO, and an
// optional queue timeout. A request holds its server for its whole handling
// (service time and downstream calls), as a thread-per-request server would.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>

#include "harness/scenario/model.hpp"
#include "sim/runtime.hpp"

namespace meshsim::harness {

enum class admission : std::uint8_t { admitted, queue_full, queue_timeout };

class station {
public:
    // on_queue_change(delta) is told of every change of the number waiting.
    station(sim::runtime& rt, station_config config, std::function<void(int)> on_queue_change)
        : rt_(rt), config_(config), on_queue_change_(std::move(on_queue_change)) {}
    station(const station&) = delete;
    station& operator=(const station&) = delete;

    // Takes a server, waiting in the queue if all are busy. The caller must leave()
    // exactly when admitted.
    admission enter();
    void leave();

    std::uint32_t busy() const { return busy_; }
    std::size_t waiting() const { return waiting_.size(); }

private:
    struct waiter {
        sim::fiber_ref ref;
        bool granted = false;
    };

    sim::runtime& rt_;
    station_config config_;
    std::function<void(int)> on_queue_change_;
    std::uint32_t busy_ = 0;
    std::deque<waiter*> waiting_;
};

}  // namespace meshsim::harness
