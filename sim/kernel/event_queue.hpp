// The kernel's timer queue: events ordered by (virtual time, sequence number), so
// events at the same instant fire in the order they were scheduled. Records are
// small PODs; whatever an event needs beyond two integers lives in a slab the
// event indexes, so pushing and popping allocates nothing in steady state.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/time.hpp"

namespace meshsim::sim::kernel {

enum class event_type : std::uint32_t {
    wake_fiber,       // a = fiber slot, b = wait token
    deliver_message,  // a = in-flight message slot
    call,             // a = callback slot
    network,          // a, b: the network's own (link queue departures, fault edges)
};

struct event {
    std::int64_t at_ns;
    std::uint64_t seq;
    event_type type;
    std::uint32_t a;
    std::uint64_t b;
};

class event_queue {
public:
    void push(time_point at, event_type type, std::uint32_t a, std::uint64_t b) {
        heap_.push_back({at.time_since_epoch().count(), next_seq_++, type, a, b});
        sift_up(heap_.size() - 1);
    }

    bool empty() const { return heap_.empty(); }
    std::size_t size() const { return heap_.size(); }
    time_point top_time() const { return time_point{duration{heap_.front().at_ns}}; }

    event pop() {
        event top = heap_.front();
        const event last = heap_.back();
        heap_.pop_back();
        if (!heap_.empty()) refill_root(last);
        return top;
    }

    // Drops every event `gone` says will do nothing when it fires (a timeout whose
    // wait ended first). The rest keep their (time, sequence) keys, a total order,
    // so what fires, and in which order, is unchanged; only the heap is smaller.
    template <class Pred>
    void remove_if(Pred gone) {
        std::erase_if(heap_, gone);
        std::make_heap(heap_.begin(), heap_.end(), [](const event& x, const event& y) { return before(y, x); });
    }

private:
    // Without short-circuits, so the compiler can pick the smaller child with a
    // conditional move: which child wins is a coin toss no branch predictor learns.
    static bool before(const event& x, const event& y) {
        return (x.at_ns < y.at_ns) | ((x.at_ns == y.at_ns) & (x.seq < y.seq));
    }

    void sift_up(std::size_t i) {
        event e = heap_[i];
        while (i > 0) {
            std::size_t parent = (i - 1) / 2;
            if (!before(e, heap_[parent])) break;
            heap_[i] = heap_[parent];
            i = parent;
        }
        heap_[i] = e;
    }

    // Floyd's pop: move the hole at the root down to a leaf along the smaller
    // children (one comparison per level), then sift `last` up from there. It
    // usually belongs near the bottom, so this beats the textbook sift-down.
    void refill_root(const event& last) {
        const std::size_t n = heap_.size();
        std::size_t hole = 0;
        std::size_t child = 1;
        while (child + 1 < n) {
            // Fetch both candidates' children while this level compares: in a large
            // heap each level is a cache miss, and the choice is known only after it.
            if (2 * child + 4 < n) {
                __builtin_prefetch(&heap_[2 * child + 1]);
                __builtin_prefetch(&heap_[2 * child + 3]);
                __builtin_prefetch(&heap_[2 * child + 4]);
            }
            child += static_cast<std::size_t>(before(heap_[child + 1], heap_[child]));
            heap_[hole] = heap_[child];
            hole = child;
            child = 2 * hole + 1;
        }
        if (child < n) {  // an only child
            heap_[hole] = heap_[child];
            hole = child;
        }
        heap_[hole] = last;
        sift_up(hole);
    }

    std::vector<event> heap_;
    std::uint64_t next_seq_ = 0;
};

}  // namespace meshsim::sim::kernel
