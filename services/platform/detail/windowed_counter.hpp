// A count of events over a trailing window of virtual time: the events in
// (now - window, now]. Events are kept per distinct (rounded) time, oldest first,
// so memory is bounded by the number of resolution steps in one window.
#pragma once

#include <cstdint>
#include <deque>
#include <utility>

#include "sim/time.hpp"

namespace meshsim::svc::detail {

class windowed_counter {
public:
    // `resolution` rounds event times down before grouping them: 1ns is exact;
    // a coarser step trades exactness at the window's trailing edge for memory.
    explicit windowed_counter(sim::duration window, sim::duration resolution = sim::nanoseconds{1})
        : window_(window), resolution_(resolution) {}

    void add(sim::time_point now, std::uint64_t count = 1);
    // Events in (now - window, now]. `now` must not go backwards between calls.
    std::uint64_t total(sim::time_point now);
    void clear();

    sim::duration window() const { return window_; }

private:
    void expire(sim::time_point now);

    sim::duration window_;
    sim::duration resolution_;
    std::deque<std::pair<sim::time_point, std::uint64_t>> slots_;
    std::uint64_t total_ = 0;
};

}  // namespace meshsim::svc::detail
