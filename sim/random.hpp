// Seeded random streams: the only source of randomness simulated code may use.
// A stream is derived from (master seed, stable name), so adding a stream or a
// service never perturbs the draws of the others. Distributions are written here,
// not taken from <random>, whose distribution output differs between libraries.
#pragma once

#include <cstdint>
#include <string_view>

namespace meshsim::sim {

// 64-bit FNV-1a over the bytes of a name: stable across builds and platforms.
constexpr std::uint64_t stable_hash(std::string_view text) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

// SplitMix64's output function: a strong 64-bit mixer, also used to fold trace hashes.
constexpr std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// xoshiro256** seeded through SplitMix64. Aligned to a cache line, which its state
// fits: a node's stream is one miss when a ring of many nodes comes back to it, not two.
class alignas(64) random_stream {
public:
    random_stream(std::uint64_t master_seed, std::string_view name);
    explicit random_stream(std::uint64_t seed);

    // A child stream: same derivation, so `derive("x")` is stable for a given parent seed.
    random_stream derive(std::string_view name) const;

    std::uint64_t next_u64();
    // Uniform in [0, 1) with 53 bits of precision.
    double uniform01();
    // Uniform in [lo, hi) for doubles.
    double uniform(double lo, double hi);
    // Uniform integer in [0, bound) without modulo bias (Lemire). bound > 0.
    std::uint64_t below(std::uint64_t bound);
    // Uniform integer in [lo, hi], inclusive.
    std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);
    bool bernoulli(double p);
    // Exponential with the given mean (rate = 1/mean).
    double exponential(double mean);
    // Normal by Box-Muller (both values used: the spare is cached).
    double normal(double mean, double stddev);
    // exp(normal(mu, sigma)): mu and sigma are of the underlying normal.
    double lognormal(double mu, double sigma);
    // Pareto type I: scale x_m > 0, shape alpha > 0; support [x_m, inf).
    double pareto(double scale, double shape);

    std::uint64_t seed() const { return seed_; }

private:
    std::uint64_t seed_;
    std::uint64_t s_[4];
    double spare_normal_ = 0;
    bool has_spare_normal_ = false;
};

}  // namespace meshsim::sim
