// The kernel's timer queue: events ordered by (virtual time, order of scheduling),
// so events at the same instant fire in the order they were scheduled. Records are
// small PODs; whatever an event needs beyond two integers lives in a slab the
// event indexes, so pushing and popping allocates nothing in steady state.
//
// A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, 1990), which fits a simulation
// because no event is ever scheduled before the last one taken: bucket 0 holds the
// events at exactly `last_`, the time of the last event popped, and bucket k >= 1
// those whose time first differs from it in bit k-1 (counting from the lowest).
// Pushing appends to one bucket. Popping takes bucket 0's front; when bucket 0 is
// empty, the lowest non-empty bucket's minimum becomes `last_` and its events are
// spread over the lower buckets, each moving down at most 63 times in its life.
//
// Ties need no sequence number: two events at the same time are always in the same
// bucket, appended in the order they were scheduled and moved only by stable passes
// into empty buckets, so bucket 0 is in scheduling order.
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
        const std::int64_t at_ns = at.time_since_epoch().count();
        MESHSIM_INVARIANT(at_ns >= last_, "an event is never scheduled before the last one taken");
        put({at_ns, type, a, b});
        ++size_;
    }

    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    time_point top_time() const {
        const std::int64_t t = front_ < buckets_[0].size() ? last_ : min_at_[lowest_filled_bucket()];
        return time_point{duration{t}};
    }

    event pop() {
        if (front_ == buckets_[0].size()) spread_lowest_bucket();
        const event top = buckets_[0][front_++];
        if (front_ == buckets_[0].size()) {
            buckets_[0].clear();
            front_ = 0;
        }
        --size_;
        return top;
    }

    // Drops every event `gone` says will do nothing when it fires (a timeout whose
    // wait ended first). What stays keeps its bucket and its order in it, so what
    // fires, and in which order, is unchanged; only the queue is smaller.
    template <class Pred>
    void remove_if(Pred gone) {
        std::vector<event>& now = buckets_[0];
        now.erase(now.begin(), now.begin() + static_cast<std::ptrdiff_t>(front_));
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
    // Bucket 0, then one per bit that can differ: times are never negative.
    static constexpr std::size_t bucket_count = 64;
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

    // Bucket 0 is used up: the lowest filled bucket's earliest time becomes last_,
    // and its events go into lower buckets (those at that time into bucket 0), in
    // the order they were in. None stays: they all agree with the new last_ from
    // bit k-1 up.
    void spread_lowest_bucket() {
        MESHSIM_INVARIANT(size_ > 0, "an event is taken only from a queue that has one");
        buckets_[0].clear();
        front_ = 0;
        const std::size_t k = lowest_filled_bucket();
        last_ = min_at_[k];
        std::vector<event>& spreading = buckets_[k];
        for (const event& e : spreading) put(e);
        spreading.clear();  // keeps its capacity for later events
        min_at_[k] = no_time;
        filled_ &= ~bit(k);
    }

    std::array<std::vector<event>, bucket_count> buckets_;
    std::array<std::int64_t, bucket_count> min_at_ = filled_with(no_time);
    std::uint64_t filled_ = 0;  // bit k: buckets_[k] is not empty (bit 0 is not read)
    std::size_t front_ = 0;     // next event of bucket 0
    std::size_t size_ = 0;
    std::int64_t last_ = 0;

    static std::array<std::int64_t, bucket_count> filled_with(std::int64_t value) {
        std::array<std::int64_t, bucket_count> a;
        a.fill(value);
        return a;
    }
};

}  // namespace meshsim::sim::kernel
