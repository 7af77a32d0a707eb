// The kernel's timer queue: events ordered by (virtual time, order of scheduling),
// so events at the same instant fire in the order they were scheduled. Records are
// small PODs; whatever an event needs beyond two integers lives in a slab the
// event indexes, so pushing and popping allocates nothing in steady state.
//
// A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, 1990), which fits a simulation
// because no event is ever scheduled before the last one taken. Bucket 0, the run,
// holds the next events in order, all at or before `last_`; bucket k >= 1 holds
// those after it whose time first differs from `last_` in bit k-1 (counting from
// the lowest), so every event of bucket k comes before every event of bucket k+1.
// Pushing appends to one bucket (or, rarely, inserts into the run). When the run is
// used up, the lowest filled bucket refills it: sorted if small, otherwise spread
// over the lower buckets from its earliest time, each event moving down a few times.
//
// Ties need no sequence number: two events at the same time are always in the same
// bucket, appended in the order they were scheduled and moved only by stable passes
// (spreading into empty buckets, an insertion sort, an insertion after its equals),
// so the run is in scheduling order.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

#include "sim/invariant.hpp"
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
    event_type type;
    std::uint32_t a;
    std::uint64_t b;
};

class event_queue {
public:
    void push(time_point at, event_type type, std::uint32_t a, std::uint64_t b) {
        const event e{at.time_since_epoch().count(), type, a, b};
        MESHSIM_INVARIANT(e.at_ns >= taken_, "an event is never scheduled before the last one taken");
        if (e.at_ns <= last_) {
            join_run(e);
        } else {
            put(e);
        }
        ++size_;
    }

    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    // The next event's time; time_never when there is none.
    time_point top_time() const {
        const std::vector<event>& run = buckets_[0];
        if (front_ < run.size()) return time_point{duration{run[front_].at_ns}};
        return time_point{duration{size_ == 0 ? no_time : min_at_[lowest_filled_bucket()]}};
    }

    event pop() {
        if (front_ == buckets_[0].size()) refill_run();
        const event top = buckets_[0][front_++];
        if (front_ == buckets_[0].size()) {
            buckets_[0].clear();
            front_ = 0;
        }
        taken_ = top.at_ns;
        --size_;
        return top;
    }

    // Drops every event `gone` says will do nothing when it fires (a timeout whose
    // wait ended first). What stays keeps its bucket and its order in it, so what
    // fires, and in which order, is unchanged; only the queue is smaller.
    template <class Pred>
    void remove_if(Pred gone) {
        std::vector<event>& run = buckets_[0];
        run.erase(run.begin(), run.begin() + static_cast<std::ptrdiff_t>(front_));
        front_ = 0;
        size_ = 0;
        for (std::size_t k = 0; k < bucket_count; ++k) {
            std::erase_if(buckets_[k], gone);
            min_at_[k] = no_time;
            for (const event& e : buckets_[k]) min_at_[k] = std::min(min_at_[k], e.at_ns);
            size_ += buckets_[k].size();
            filled_ = buckets_[k].empty() ? filled_ & ~bit(k) : filled_ | bit(k);
        }
    }

private:
    // Bucket 0 (the run), then one per bit that can differ: times are never negative.
    static constexpr std::size_t bucket_count = 64;
    // A bucket this small is sorted into the run rather than spread further (spreading
    // moves each event once per level; sorting a few costs less than the levels left).
    static constexpr std::size_t sort_at_most = 16;
    static constexpr std::int64_t no_time = std::numeric_limits<std::int64_t>::max();

    static std::uint64_t bit(std::size_t k) { return std::uint64_t{1} << k; }

    std::size_t bucket_of(std::int64_t at_ns) const {
        const auto differ = static_cast<std::uint64_t>(at_ns) ^ static_cast<std::uint64_t>(last_);
        return static_cast<std::size_t>(std::bit_width(differ));  // 0 when equal
    }

    std::size_t lowest_filled_bucket() const {  // above bucket 0
        return static_cast<std::size_t>(std::countr_zero(filled_ & ~bit(0)));
    }

    void put(const event& e) {
        const std::size_t k = bucket_of(e.at_ns);
        buckets_[k].push_back(e);
        min_at_[k] = std::min(min_at_[k], e.at_ns);
        filled_ |= bit(k);
    }

    // An event no later than last_ goes into the run after every event at its time.
    void join_run(const event& e) {
        std::vector<event>& run = buckets_[0];
        auto at = run.end();
        while (at != run.begin() + static_cast<std::ptrdiff_t>(front_) && (at - 1)->at_ns > e.at_ns) --at;
        run.insert(at, e);
    }

    // The run is used up: the lowest filled bucket becomes the next one. A small
    // bucket is sorted by time (stably: ties stay in scheduling order) and last_
    // becomes its latest time; a larger one is spread over the lower buckets from its
    // earliest time, which becomes last_ (the events at that time make the run). No
    // event stays in the bucket: they all agree with the new last_ from bit k-1 up.
    void refill_run() {
        MESHSIM_INVARIANT(size_ > 0, "an event is taken only from a queue that has one");
        std::vector<event>& run = buckets_[0];
        run.clear();
        front_ = 0;
        const std::size_t k = lowest_filled_bucket();
        std::vector<event>& bucket = buckets_[k];
        if (bucket.size() <= sort_at_most) {
            run.swap(bucket);
            for (std::size_t i = 1; i < run.size(); ++i) {  // insertion sort: stable, no allocation
                const event e = run[i];
                std::size_t j = i;
                for (; j > 0 && run[j - 1].at_ns > e.at_ns; --j) run[j] = run[j - 1];
                run[j] = e;
            }
            last_ = run.back().at_ns;
        } else {
            last_ = min_at_[k];
            for (const event& e : bucket) put(e);
            bucket.clear();  // keeps its capacity for later events
        }
        min_at_[k] = no_time;
        filled_ &= ~bit(k);
    }

    std::array<std::vector<event>, bucket_count> buckets_;
    std::array<std::int64_t, bucket_count> min_at_ = filled_with(no_time);
    std::uint64_t filled_ = 0;  // bit k: buckets_[k] is not empty (bit 0 is not read)
    std::size_t front_ = 0;     // next event of the run
    std::size_t size_ = 0;
    std::int64_t last_ = 0;   // the run's events are at or before it, the buckets' after it
    std::int64_t taken_ = 0;  // the time of the last event popped

    static std::array<std::int64_t, bucket_count> filled_with(std::int64_t value) {
        std::array<std::int64_t, bucket_count> a;
        a.fill(value);
        return a;
    }
};

}  // namespace meshsim::sim::kernel
