#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "services/platform/histogram.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using std::chrono::milliseconds;

namespace {
sim::duration exact_quantile(std::vector<std::int64_t> values, double q) {
    std::sort(values.begin(), values.end());
    const auto rank =
        std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size()))));
    return sim::duration{values[rank - 1]};
}
}  // namespace

TEST_CASE("values below 256 ns are recorded exactly") {
    for (std::uint64_t v = 0; v < 256; ++v) {
        CHECK(histogram::bucket_index(v) == v);
        CHECK(histogram::bucket_lower_bound(static_cast<std::uint32_t>(v)) == v);
    }
}

TEST_CASE("buckets tile the value range with at most 1/128 relative width") {
    std::uint64_t expected_lower = 0;
    for (std::uint32_t index = 0; index < 7296; ++index) {
        const auto lower = histogram::bucket_lower_bound(index);
        const auto width = histogram::bucket_width(index);
        REQUIRE(lower == expected_lower);
        REQUIRE(histogram::bucket_index(lower) == index);
        REQUIRE(histogram::bucket_index(lower + width - 1) == index);
        if (index >= 256) REQUIRE(static_cast<double>(width) / static_cast<double>(lower) <= 1.0 / 128);
        expected_lower = lower + width;
    }
    CHECK(histogram::bucket_index(std::uint64_t{1} << 63) == 7296);  // past the last signed value
}

TEST_CASE("histogram reports count, min, max and mean exactly") {
    histogram h;
    CHECK(h.count() == 0);
    CHECK(h.quantile(0.99) == sim::duration::zero());
    for (int ms : {5, 1, 9, 3}) h.record(milliseconds{ms});
    h.record(milliseconds{7}, 2);
    CHECK(h.count() == 6);
    CHECK(h.min() == milliseconds{1});
    CHECK(h.max() == milliseconds{9});
    CHECK(h.mean() == sim::duration{32'000'000 / 6});
    CHECK(h.quantile(0) == milliseconds{1});
    CHECK(h.quantile(1) == milliseconds{9});
}

TEST_CASE("merging histograms equals recording every value in one") {
    histogram a, b, all;
    for (int i = 1; i <= 1000; ++i) {
        const auto v = sim::microseconds{i * i};
        (i % 3 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    CHECK(a.count() == all.count());
    CHECK(a.min() == all.min());
    CHECK(a.max() == all.max());
    CHECK(a.mean() == all.mean());
    for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) CHECK(a.quantile(q) == all.quantile(q));
}

TEST_CASE("histogram properties") {
    rc::prop("histogram quantiles are within 1% of the exact quantiles", [] {
        // Mixed magnitudes: nanoseconds to hours.
        const auto values = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::int64_t>>(
            rc::gen::oneOf(rc::gen::inRange<std::int64_t>(0, 1000), rc::gen::inRange<std::int64_t>(0, 100'000'000),
                           rc::gen::inRange<std::int64_t>(0, 10'000'000'000'000))));
        histogram h;
        for (const auto v : values) h.record(sim::duration{v});
        for (const double q : {0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0}) {
            const auto exact = exact_quantile(values, q).count();
            const auto approx = h.quantile(q).count();
            RC_ASSERT(std::abs(static_cast<double>(approx - exact)) <= 0.01 * static_cast<double>(exact));
        }
    });
}

TEST_CASE("histogram keeps the extremes and merges buckets recorded in any order") {
    // b's values fall below, between and above a's, so merging extends a's range
    // at both ends; the largest duration and zero are the last and the first bucket.
    const std::vector<std::int64_t> in_a{5'000, 300'000'000, 4'000'000'000'000};
    const std::vector<std::int64_t> in_b{300'000'001, 0, std::numeric_limits<std::int64_t>::max(), 1, 5'001, 255, 256};
    histogram a, b, all;
    for (const auto v : in_a) a.record(sim::duration{v});
    for (const auto v : in_b) b.record(sim::duration{v}, 3);
    for (const auto v : in_a) all.record(sim::duration{v});
    for (const auto v : in_b) all.record(sim::duration{v}, 3);
    CHECK(a.quantile(0.0) == sim::duration{5'000});
    CHECK(a.quantile(0.5) == sim::duration{300'941'312});  // the middle of 3e8's bucket, 2^21 wide
    a.merge(b);
    CHECK(a.count() == 24);
    CHECK(a.min() == sim::duration::zero());
    CHECK(a.max() == sim::duration::max());
    for (double q = 0; q <= 1.0; q += 1.0 / 64) CHECK(a.quantile(q) == all.quantile(q));
    // A negative duration (a clock stepped back) counts as zero, never as a huge value.
    histogram negative;
    negative.record(sim::duration::min());
    negative.record(sim::duration{-1}, 2);
    CHECK(negative.count() == 3);
    CHECK(negative.max() == sim::duration::zero());
    CHECK(negative.mean() == sim::duration::zero());
    CHECK(negative.quantile(0.5) == sim::duration::zero());
    // Every rank, one by one: recorded values sorted, each within its bucket's 1/256.
    std::vector<std::int64_t> sorted(in_a);
    for (const auto v : in_b) sorted.insert(sorted.end(), 3, v);
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t rank = 1; rank <= sorted.size(); ++rank) {
        const double q = (static_cast<double>(rank) - 0.5) / static_cast<double>(sorted.size());
        const auto got = static_cast<double>(a.quantile(q).count());
        const auto want = static_cast<double>(sorted[rank - 1]);
        CHECK(std::abs(got - want) <= want / 256 + 1);
    }
}
