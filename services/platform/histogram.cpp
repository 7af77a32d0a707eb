#include "services/platform/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace meshsim::svc {

namespace {
constexpr std::uint32_t exact_limit = 256;  // values below this have a bucket each
constexpr std::uint32_t sub_buckets = 128;  // buckets per power of two above it
constexpr int sub_bucket_bits = 7;          // log2(sub_buckets)
}  // namespace

std::uint32_t histogram::bucket_index(std::uint64_t value_ns) {
    if (value_ns < exact_limit) return static_cast<std::uint32_t>(value_ns);
    // Keep the top 8 significant bits: the leading 1 and 7 bits of sub-bucket.
    const auto shift = static_cast<std::uint32_t>(std::bit_width(value_ns)) - (sub_bucket_bits + 1);
    const auto sub = static_cast<std::uint32_t>(value_ns >> shift) - sub_buckets;
    return exact_limit + (shift - 1) * sub_buckets + sub;
}

std::uint64_t histogram::bucket_lower_bound(std::uint32_t index) {
    if (index < exact_limit) return index;
    const auto shift = (index - exact_limit) / sub_buckets + 1;
    const auto sub = (index - exact_limit) % sub_buckets;
    return static_cast<std::uint64_t>(sub_buckets + sub) << shift;
}

std::uint64_t histogram::bucket_width(std::uint32_t index) {
    if (index < exact_limit) return 1;
    return std::uint64_t{1} << ((index - exact_limit) / sub_buckets + 1);
}

std::uint64_t& histogram::slot(std::uint32_t index) {
    if (counts_.empty()) {
        first_index_ = index;
        counts_.assign(1, 0);
    } else if (index < first_index_) {
        counts_.insert(counts_.begin(), first_index_ - index, 0);
        first_index_ = index;
    } else if (index >= first_index_ + counts_.size()) {
        counts_.resize(index - first_index_ + 1, 0);
    }
    return counts_[index - first_index_];
}

void histogram::record(sim::duration value, std::uint64_t count) {
    if (count == 0) return;
    value = std::max(value, sim::duration::zero());
    const auto ns = static_cast<std::uint64_t>(value.count());
    slot(bucket_index(ns)) += count;
    min_ = count_ ? std::min(min_, value) : value;
    max_ = count_ ? std::max(max_, value) : value;
    count_ += count;
    sum_ns_ += static_cast<__uint128_t>(ns) * count;
}

void histogram::merge(const histogram& other) {
    if (other.count_ == 0) return;
    for (std::size_t i = 0; i < other.counts_.size(); ++i) {
        if (other.counts_[i]) slot(other.first_index_ + static_cast<std::uint32_t>(i)) += other.counts_[i];
    }
    min_ = count_ ? std::min(min_, other.min_) : other.min_;
    max_ = count_ ? std::max(max_, other.max_) : other.max_;
    count_ += other.count_;
    sum_ns_ += other.sum_ns_;
}

sim::duration histogram::mean() const {
    if (count_ == 0) return sim::duration::zero();
    return sim::duration{static_cast<sim::duration::rep>(sum_ns_ / count_)};
}

sim::duration histogram::quantile(double q) const {
    if (count_ == 0) return sim::duration::zero();
    q = std::clamp(q, 0.0, 1.0);
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    // The extreme ranks are known exactly.
    if (rank <= 1) return min_;
    if (rank >= count_) return max_;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen < rank) continue;
        const auto index = first_index_ + static_cast<std::uint32_t>(i);
        const auto mid = bucket_lower_bound(index) + bucket_width(index) / 2;
        return std::clamp(sim::duration{static_cast<sim::duration::rep>(mid)}, min_, max_);
    }
    return max_;
}

}  // namespace meshsim::svc
