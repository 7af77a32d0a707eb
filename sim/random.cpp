#include "sim/random.hpp"

#include <cmath>
#include <numbers>

#include "sim/invariant.hpp"

namespace meshsim::sim {

namespace {
constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

random_stream::random_stream(std::uint64_t master_seed, std::string_view name)
    : random_stream(mix64(master_seed ^ mix64(stable_hash(name)))) {}

random_stream::random_stream(std::uint64_t seed) : seed_(seed) {
    std::uint64_t x = seed;
    for (auto& word : s_) {
        x += 0x9e3779b97f4a7c15ull;
        word = mix64(x);
    }
}

random_stream random_stream::derive(std::string_view name) const { return random_stream(seed_, name); }

std::uint64_t random_stream::next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double random_stream::uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double random_stream::uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }

std::uint64_t random_stream::below(std::uint64_t bound) {
    MESHSIM_INVARIANT(bound > 0, "a draw below a bound has a bound above 0");
    std::uint64_t x = next_u64();
    __uint128_t m = static_cast<__uint128_t>(x) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
        const std::uint64_t threshold = -bound % bound;
        while (low < threshold) {
            x = next_u64();
            m = static_cast<__uint128_t>(x) * bound;
            low = static_cast<std::uint64_t>(m);
        }
    }
    return static_cast<std::uint64_t>(m >> 64);
}

std::int64_t random_stream::uniform_int(std::int64_t lo, std::int64_t hi) {
    MESHSIM_INVARIANT(lo <= hi, "a draw in [lo, hi] has lo <= hi");
    const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo) + 1;
    if (span == 0) return static_cast<std::int64_t>(next_u64());  // the full 64-bit range
    return lo + static_cast<std::int64_t>(below(span));
}

bool random_stream::bernoulli(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return uniform01() < p;
}

double random_stream::exponential(double mean) {
    // 1 - u is in (0, 1], so the log is finite.
    return -mean * std::log(1.0 - uniform01());
}

double random_stream::normal(double mean, double stddev) {
    if (has_spare_normal_) {
        has_spare_normal_ = false;
        return mean + stddev * spare_normal_;
    }
    const double u1 = 1.0 - uniform01();
    const double u2 = uniform01();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * std::numbers::pi * u2;
    spare_normal_ = r * std::sin(theta);
    has_spare_normal_ = true;
    return mean + stddev * r * std::cos(theta);
}

double random_stream::lognormal(double mu, double sigma) { return std::exp(normal(mu, sigma)); }

double random_stream::pareto(double scale, double shape) { return scale / std::pow(1.0 - uniform01(), 1.0 / shape); }

}  // namespace meshsim::sim
