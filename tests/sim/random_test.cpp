// Random streams: stable derivation from (seed, name), independence, and the
// moments of every distribution within stated tolerances (seeded: cannot flake).
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "sim/distribution.hpp"
#include "sim/random.hpp"

using meshsim::sim::random_stream;

namespace {
struct moments {
    double mean = 0;
    double variance = 0;
};
template <typename Draw>
moments measure(int n, Draw draw) {
    double sum = 0, sum_sq = 0;
    for (int i = 0; i < n; ++i) {
        const double x = draw();
        sum += x;
        sum_sq += x * x;
    }
    const double mean = sum / n;
    return {mean, sum_sq / n - mean * mean};
}
}  // namespace

TEST_CASE("a stream with the same seed and name repeats its sequence") {
    random_stream a(42, "network/api"), b(42, "network/api");
    for (int i = 0; i < 1000; ++i) REQUIRE(a.next_u64() == b.next_u64());
}

TEST_CASE("streams with different names or seeds differ") {
    random_stream a(42, "x"), b(42, "y"), c(43, "x");
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto va = a.next_u64();
        same_ab += va == b.next_u64();
        same_ac += va == c.next_u64();
    }
    CHECK(same_ab == 0);
    CHECK(same_ac == 0);
}

TEST_CASE("drawing from one stream does not perturb another") {
    random_stream reference(7, "b");
    std::vector<std::uint64_t> expected;
    for (int i = 0; i < 100; ++i) expected.push_back(reference.next_u64());
    random_stream a(7, "a"), b(7, "b");
    for (int i = 0; i < 100; ++i) {
        for (int k = 0; k < i % 5; ++k) a.next_u64();  // interleaved draws from another stream
        REQUIRE(b.next_u64() == expected[static_cast<std::size_t>(i)]);
    }
}

TEST_CASE("the first draws of a stream are pinned (stable across builds)") {
    // If this changes, every recorded seed replays differently: bump the version.
    random_stream s(1, "pinned");
    CHECK(s.next_u64() == 0x1f5fa57abbb76136ull);
    CHECK(meshsim::sim::stable_hash("meshsim") == 0x0d15dbdf47772aa3ull);
}

TEST_CASE("two streams are uncorrelated") {
    random_stream a(3, "left"), b(3, "right");
    const int n = 50'000;
    double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; ++i) {
        const double x = a.uniform01(), y = b.uniform01();
        sa += x, sb += y, sab += x * y, saa += x * x, sbb += y * y;
    }
    const double cov = sab / n - (sa / n) * (sb / n);
    const double corr = cov / std::sqrt((saa / n - sa * sa / n / n) * (sbb / n - sb * sb / n / n));
    CHECK(std::abs(corr) < 0.02);  // ~4.5 sigma at n = 50,000
}

TEST_CASE("uniform, exponential, normal, lognormal, pareto and bernoulli have the right moments") {
    random_stream s(11, "moments");
    const int n = 200'000;
    SECTION("uniform01: mean 1/2, variance 1/12") {
        const auto m = measure(n, [&] { return s.uniform01(); });
        CHECK(m.mean == Approx(0.5).margin(0.003));
        CHECK(m.variance == Approx(1.0 / 12).margin(0.002));
    }
    SECTION("exponential(mean 2): mean 2, variance 4") {
        const auto m = measure(n, [&] { return s.exponential(2.0); });
        CHECK(m.mean == Approx(2.0).epsilon(0.01));
        CHECK(m.variance == Approx(4.0).epsilon(0.03));
    }
    SECTION("normal(5, 2): mean 5, variance 4") {
        const auto m = measure(n, [&] { return s.normal(5.0, 2.0); });
        CHECK(m.mean == Approx(5.0).margin(0.02));
        CHECK(m.variance == Approx(4.0).epsilon(0.02));
    }
    SECTION("lognormal(0, 0.5): mean e^(1/8)") {
        const auto m = measure(n, [&] { return s.lognormal(0.0, 0.5); });
        CHECK(m.mean == Approx(std::exp(0.125)).epsilon(0.01));
    }
    SECTION("pareto(scale 1, shape 3): mean 3/2, never below the scale") {
        double min_seen = 1e9;
        const auto m = measure(n, [&] {
            const double x = s.pareto(1.0, 3.0);
            min_seen = std::min(min_seen, x);
            return x;
        });
        CHECK(m.mean == Approx(1.5).epsilon(0.02));
        CHECK(min_seen >= 1.0);
    }
    SECTION("bernoulli(0.2): 20 % +- 0.5 %") {
        const auto m = measure(n, [&] { return s.bernoulli(0.2) ? 1.0 : 0.0; });
        CHECK(m.mean == Approx(0.2).margin(0.005));
    }
}

TEST_CASE("below(bound) stays below the bound and covers it evenly") {
    rc::prop("below(bound) < bound", [](std::uint64_t seed, std::uint32_t bound_minus_one) {
        random_stream s(seed, "below");
        const std::uint64_t bound = std::uint64_t{bound_minus_one} + 1;
        for (int i = 0; i < 20; ++i) RC_ASSERT(s.below(bound) < bound);
    });
    random_stream s(5, "even");
    std::vector<int> counts(10, 0);
    for (int i = 0; i < 100'000; ++i) ++counts[s.below(10)];
    for (const int c : counts) CHECK(c == Approx(10'000).margin(400));  // 4 sigma
}

TEST_CASE("duration distributions sample around their means and never go negative") {
    using meshsim::sim::duration_distribution;
    using namespace std::chrono_literals;
    random_stream s(9, "durations");
    const std::vector<duration_distribution> shapes = {
        duration_distribution::constant(3ms),    duration_distribution::uniform(1ms, 9ms),
        duration_distribution::normal(5ms, 1ms), duration_distribution::lognormal(4ms, 0.3),
        duration_distribution::exponential(2ms), duration_distribution::pareto(1ms, 3.0)};
    for (const auto& d : shapes) {
        INFO(meshsim::sim::to_string(d.kind));
        REQUIRE(d.validate("latency").empty());
        double sum = 0;
        const int n = 100'000;
        for (int i = 0; i < n; ++i) {
            const auto x = d.sample(s);
            REQUIRE(x.count() >= 0);
            sum += static_cast<double>(x.count());
        }
        CHECK(sum / n == Approx(static_cast<double>(d.mean().count())).epsilon(0.02));
    }
}

TEST_CASE("invalid distribution parameters are reported by name") {
    using meshsim::sim::duration_distribution;
    using namespace std::chrono_literals;
    CHECK(duration_distribution::uniform(5ms, 1ms).validate("latency").at(0).find("latency") == 0);
    CHECK_FALSE(duration_distribution::pareto(1ms, 0).validate("latency").empty());
    CHECK_FALSE(duration_distribution::constant(-1ms).validate("latency").empty());
}
