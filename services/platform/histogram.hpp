// A latency histogram with log-spaced buckets, HdrHistogram-style: values below
// 256 ns are exact, above that every power of two is cut into 128 equal buckets,
// so any reported value is within 1/256 (0.4 %) of a recorded one. Mergeable.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/time.hpp"

namespace meshsim::svc {

class histogram {
public:
    // Negative durations are recorded as zero.
    void record(sim::duration value, std::uint64_t count = 1);
    void merge(const histogram& other);

    std::uint64_t count() const { return count_; }
    // Zero when empty.
    sim::duration min() const { return count_ ? min_ : sim::duration::zero(); }
    sim::duration max() const { return count_ ? max_ : sim::duration::zero(); }
    sim::duration mean() const;
    // The value of rank ceil(q * count) (1-based; q = 0 is the minimum), with q
    // clamped to [0, 1]: exact for the first and last rank, otherwise the midpoint
    // of the value's bucket, kept within [min, max].
    sim::duration quantile(double q) const;

    // Bucket arithmetic, public for tests and for renderers that draw buckets.
    static std::uint32_t bucket_index(std::uint64_t value_ns);
    static std::uint64_t bucket_lower_bound(std::uint32_t index);
    static std::uint64_t bucket_width(std::uint32_t index);

private:
    std::uint64_t& slot(std::uint32_t index);

    // Dense counts for the buckets [first_index_, first_index_ + counts_.size()).
    std::vector<std::uint64_t> counts_;
    std::uint32_t first_index_ = 0;
    std::uint64_t count_ = 0;
    __uint128_t sum_ns_ = 0;  // exact, so merging in any order gives the same mean
    sim::duration min_{0};
    sim::duration max_{0};
};

}  // namespace meshsim::svc
