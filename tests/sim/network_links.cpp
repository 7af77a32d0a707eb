// Link faults, each measured against its configured value. Tolerances are at
// least 4 standard deviations of the estimator for the stated sample size, and
// every run is seeded, so none can flake.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "tests/sim/network_testing.hpp"

using namespace meshsim::sim;
using meshsim::sim::kernel::link_config;
using meshsim::sim::testing::probe_world;

namespace {
constexpr int samples = 20'000;

// `samples` messages from n0 to n1, one every 10us.
void send_many(probe_world& p, int count = samples, duration spacing = microseconds(10)) {
    for (int i = 0; i < count; ++i) p.send_at(time_zero + spacing * i, 0, 1);
}

std::vector<double> latencies(const probe_world& p) {
    std::vector<double> out;
    for (const auto& a : p.arrivals) out.push_back(probe_world::latency_ms(a));
    return out;
}
}  // namespace

TEST_CASE("20% loss drops 20% +- 1.5% of 20,000 messages, each a msg_drop with reason loss") {
    probe_world p(11);
    p.world.net().set_default_link({.latency = duration_distribution::constant(milliseconds(1)), .loss = 0.2});
    send_many(p);
    p.world.run();
    const double lost = 1.0 - static_cast<double>(p.arrivals.size()) / samples;
    CHECK(lost == Approx(0.2).margin(0.015));
    CHECK(p.drops("loss") == samples - p.arrivals.size());
}

TEST_CASE("correlated loss keeps the loss rate and lengthens loss bursts to 1 / (1 - c - (1 - c) p)") {
    probe_world p(12);
    link_config l;
    l.loss = 0.2;
    l.loss_correlation = 0.5;
    p.world.net().set_default_link(l);
    const int count = 40'000;
    send_many(p, count);
    p.world.run();
    std::set<std::uint64_t> arrived;
    for (const auto& a : p.arrivals) arrived.insert(a.id);
    // Ids are 1..count in send order (the only sender).
    int bursts = 0;
    int lost = 0;
    bool in_burst = false;
    for (std::uint64_t id = 1; id <= static_cast<std::uint64_t>(count); ++id) {
        const bool is_lost = arrived.count(id) == 0;
        if (is_lost) {
            ++lost;
            if (!in_burst) ++bursts;
        }
        in_burst = is_lost;
    }
    CHECK(static_cast<double>(lost) / count == Approx(0.2).margin(0.015));
    // P(lost | previous lost) = c + (1 - c) p = 0.6: mean burst 2.5 (about 3,200 bursts: sd of the mean ~0.03).
    CHECK(static_cast<double>(lost) / bursts == Approx(2.5).margin(0.15));
}

TEST_CASE("latency quantiles match the configured distribution") {
    SECTION("uniform [1ms, 10ms): p10 1.9ms, p50 5.5ms, p90 9.1ms, +- 0.15ms over 20,000") {
        probe_world p(13);
        p.world.net().set_default_link({.latency = duration_distribution::uniform(milliseconds(1), milliseconds(10))});
        send_many(p);
        p.world.run();
        const auto l = latencies(p);
        REQUIRE(l.size() == samples);
        CHECK(testing::quantile(l, 0.1) == Approx(1.9).margin(0.15));
        CHECK(testing::quantile(l, 0.5) == Approx(5.5).margin(0.15));
        CHECK(testing::quantile(l, 0.9) == Approx(9.1).margin(0.15));
    }
    SECTION("exponential mean 5ms: median 5 ln 2, p90 5 ln 10, +- 4%") {
        probe_world p(14);
        p.world.net().set_default_link({.latency = duration_distribution::exponential(milliseconds(5))});
        send_many(p);
        p.world.run();
        const auto l = latencies(p);
        CHECK(testing::quantile(l, 0.5) == Approx(5 * std::log(2.0)).epsilon(0.04));
        CHECK(testing::quantile(l, 0.9) == Approx(5 * std::log(10.0)).epsilon(0.04));
    }
    SECTION("lognormal median 20ms sigma 0.5: median 20ms, p90 20 e^(0.5 * 1.2816), +- 4%") {
        probe_world p(15);
        p.world.net().set_default_link({.latency = duration_distribution::lognormal(milliseconds(20), 0.5)});
        send_many(p);
        p.world.run();
        const auto l = latencies(p);
        CHECK(testing::quantile(l, 0.5) == Approx(20).epsilon(0.04));
        CHECK(testing::quantile(l, 0.9) == Approx(20 * std::exp(0.5 * 1.2816)).epsilon(0.04));
    }
}

TEST_CASE("jitter spreads a constant latency uniformly over +- jitter") {
    probe_world p(16);
    link_config l;
    l.latency = duration_distribution::constant(milliseconds(10));
    l.jitter = milliseconds(2);
    p.world.net().set_default_link(l);
    send_many(p);
    p.world.run();
    const auto v = latencies(p);
    double sum = 0;
    double sq = 0;
    for (const double x : v) {
        sum += x;
        sq += x * x;
    }
    const double mean = sum / static_cast<double>(v.size());
    const double sd = std::sqrt(sq / static_cast<double>(v.size()) - mean * mean);
    CHECK(mean == Approx(10).margin(0.04));  // sd of the mean: 1.155 / sqrt(20,000) = 0.008
    CHECK(sd == Approx(2 / std::sqrt(3.0)).epsilon(0.03));
    CHECK(*std::min_element(v.begin(), v.end()) >= 8.0);
    CHECK(*std::max_element(v.begin(), v.end()) <= 12.0);
}

TEST_CASE("delay correlation repeats the previous jitter on 75% +- 1.5% of messages") {
    probe_world p(17);
    link_config l;
    l.latency = duration_distribution::constant(milliseconds(10));
    l.jitter = milliseconds(2);
    l.delay_correlation = 0.75;
    p.world.net().set_default_link(l);
    send_many(p, samples, milliseconds(1));  // spaced wider than the jitter: arrivals stay in send order
    p.world.run();
    std::map<std::uint64_t, double> by_id;
    for (const auto& a : p.arrivals) by_id[a.id] = probe_world::latency_ms(a);
    int repeats = 0;
    double prev = -1;
    for (const auto& [id, lat] : by_id) {
        if (std::abs(lat - prev) < 1e-9) ++repeats;
        prev = lat;
    }
    CHECK(static_cast<double>(repeats) / (samples - 1) == Approx(0.75).margin(0.015));
}

TEST_CASE("10% duplication delivers 10% +- 1% second copies with the original's id") {
    probe_world p(18);
    p.world.net().set_default_link(
        {.latency = duration_distribution::uniform(milliseconds(1), milliseconds(5)), .duplicate = 0.1});
    send_many(p);
    p.world.run();
    std::map<std::uint64_t, int> copies;
    for (const auto& a : p.arrivals) ++copies[a.id];
    CHECK(copies.size() == samples);
    const double extra = static_cast<double>(p.arrivals.size() - samples) / samples;
    CHECK(extra == Approx(0.1).margin(0.01));
    for (const auto& [id, n] : copies) REQUIRE(n <= 2);
}

TEST_CASE("25% reordering: a quarter +- 1.5% skip the latency and overtake earlier messages") {
    probe_world p(19);
    link_config l;
    l.latency = duration_distribution::constant(milliseconds(10));
    l.reorder = 0.25;
    p.world.net().set_default_link(l);
    send_many(p, samples, microseconds(100));
    p.world.run();
    int immediate = 0;
    int overtakes = 0;
    std::uint64_t max_id = 0;
    for (const auto& a : p.arrivals) {  // in arrival order
        if (probe_world::latency_ms(a) == 0) ++immediate;
        if (a.id < max_id) ++overtakes;  // something sent later arrived first
        max_id = std::max(max_id, a.id);
    }
    CHECK(static_cast<double>(immediate) / samples == Approx(0.25).margin(0.015));
    CHECK(overtakes > samples / 10);
}

TEST_CASE("5% corruption: receivers see corrupted = true with a null body, the rest intact") {
    probe_world p(20);
    p.world.net().set_default_link({.latency = duration_distribution::constant(milliseconds(1)), .corrupt = 0.05});
    send_many(p);
    p.world.run();
    REQUIRE(p.arrivals.size() == samples);
    int corrupted = 0;
    for (const auto& a : p.arrivals) {
        if (a.corrupted) {
            ++corrupted;
            REQUIRE(a.body.is_null());
        } else {
            REQUIRE(a.body.is_number_integer());
        }
    }
    CHECK(static_cast<double>(corrupted) / samples == Approx(0.05).margin(0.006));
}

TEST_CASE("bandwidth serializes by size: 1,000-byte messages on 1 MB/s leave 1ms apart") {
    probe_world p(21);
    link_config l;
    l.latency = duration_distribution::constant(milliseconds(5));
    l.bandwidth_bytes_per_s = 1'000'000;
    l.queue_capacity_bytes = 1'000'000;
    p.world.net().set_default_link(l);
    for (int i = 0; i < 100; ++i) p.send_at(time_zero, 0, 1, 1000);
    p.world.run();
    REQUIRE(p.arrivals.size() == 100);
    for (std::size_t i = 0; i < 100; ++i) {
        CHECK(p.arrivals[i].when == time_zero + milliseconds(5) + milliseconds(1) * static_cast<int>(i + 1));
    }
}

TEST_CASE("a full link queue drops what does not fit (queue_full) and throughput stays at the bandwidth") {
    probe_world p(22);
    link_config l;
    l.latency = duration_distribution::constant(milliseconds(5));
    l.bandwidth_bytes_per_s = 1'000'000;
    l.queue_capacity_bytes = 10'000;
    p.world.net().set_default_link(l);
    SECTION("a burst of 100 x 1,000 bytes: exactly 10 fit") {
        for (int i = 0; i < 100; ++i) p.send_at(time_zero, 0, 1, 1000);
        p.world.run();
        CHECK(p.arrivals.size() == 10);
        CHECK(p.drops("queue_full") == 90);
    }
    SECTION("offered 2 MB/s for 1s: 1 MB (+ the 10 KB queue) +- 1% arrives") {
        for (int i = 0; i < 2000; ++i) p.send_at(time_zero + microseconds(500) * i, 0, 1, 1000);
        p.world.run();
        CHECK(static_cast<double>(p.arrivals.size()) ==
              Approx(1005).epsilon(0.01));  // 1s of serialization + the queue left at 1s
        CHECK(p.drops("queue_full") == 2000 - p.arrivals.size());
    }
}

TEST_CASE("links are directed: a config on A->B leaves B->A alone") {
    probe_world p(23);
    p.world.net().set_link(0, 1, {.latency = duration_distribution::constant(milliseconds(50)), .loss = 1.0});
    p.send_at(time_zero, 0, 1);
    p.send_at(time_zero, 1, 0);
    p.world.run();
    REQUIRE(p.arrivals.size() == 1);
    CHECK(p.arrivals[0].at_node == 0);
    CHECK(p.arrivals[0].when == time_zero + milliseconds(1));
}

TEST_CASE("link_config::validate names every bad parameter") {
    link_config l;
    l.loss = 1.5;
    l.duplicate = -0.1;
    l.jitter = milliseconds(-1);
    l.latency = duration_distribution::constant(milliseconds(-3));
    l.bandwidth_bytes_per_s = 10;
    l.queue_capacity_bytes = 0;
    const auto errors = l.validate("link");
    auto has = [&](std::string_view needle) {
        return std::any_of(errors.begin(), errors.end(),
                           [&](const std::string& e) { return e.find(needle) != std::string::npos; });
    };
    CHECK(errors.size() == 5);
    CHECK(has("link.loss"));
    CHECK(has("link.duplicate"));
    CHECK(has("link.jitter"));
    CHECK(has("link.latency"));
    CHECK(has("link.queue_capacity_bytes"));
    CHECK(link_config{}.validate().empty());
}
