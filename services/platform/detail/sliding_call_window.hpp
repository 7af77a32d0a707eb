// The circuit breaker's memory of recent calls: either the last N calls (count
// based) or the calls of the last N whole seconds of virtual time (time based, one
// partial aggregate per second, as resilience4j's SlidingTimeWindowMetrics).
#pragma once

#include <cstdint>
#include <vector>

#include "sim/time.hpp"

namespace meshsim::svc::detail {

struct call_counts {
    std::uint32_t calls = 0;
    std::uint32_t failed = 0;
    std::uint32_t slow = 0;  // slow calls, failed or not

    void add(const call_counts& other);
    void subtract(const call_counts& other);
};

class sliding_call_window {
public:
    static sliding_call_window count_based(std::uint32_t size_calls);
    static sliding_call_window time_based(std::uint32_t size_seconds);

    void record(sim::time_point now, bool failed, bool slow);
    call_counts totals(sim::time_point now);
    void clear();

private:
    enum class kind : std::uint8_t { count, time };
    sliding_call_window(kind k, std::uint32_t size);
    void advance_to_second(std::int64_t second);

    kind kind_;
    // Count based: one entry per call (calls is 0 or 1). Time based: one per second.
    std::vector<call_counts> slots_;
    std::size_t next_slot_ = 0;       // count based only: the slot to overwrite
    std::int64_t latest_second_ = 0;  // time based only: the newest second seen
    call_counts totals_;
};

}  // namespace meshsim::svc::detail
