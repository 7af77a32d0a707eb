// Partitions: shapes as Jepsen defines them, one-way cuts, heal, and what
// happens to messages in flight when a cut appears (drop, or hold until heal).
#include <algorithm>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "sim/kernel/partition.hpp"
#include "tests/sim/network_testing.hpp"

using namespace meshsim::sim;
using meshsim::sim::kernel::cut_matrix;
using meshsim::sim::kernel::cut_mode;
using meshsim::sim::testing::probe_world;

namespace {
std::set<node_id> reachable_from(const cut_matrix& m, node_id a) {
    std::set<node_id> out;
    for (node_id b = 0; b < m.nodes(); ++b) {
        if (!m.blocks(a, b)) out.insert(b);
    }
    return out;
}
}  // namespace

TEST_CASE("an asymmetric cut blocks exactly one direction") {
    probe_world p(31, 3);
    p.world.net().add_cut(cut_matrix::one_way(3, {0}, {1}));
    for (int i = 0; i < 1000; ++i) {
        const time_point t = time_zero + microseconds(10) * i;
        p.send_at(t, 0, 1);
        p.send_at(t, 1, 0);
        p.send_at(t, 0, 2);
        p.send_at(t, 2, 1);
    }
    p.world.run();
    std::map<std::pair<node_id, node_id>, int> got;
    for (const auto& a : p.arrivals) ++got[{a.from, a.at_node}];
    CHECK(got[{0, 1}] == 0);
    CHECK(got[{1, 0}] == 1000);
    CHECK(got[{0, 2}] == 1000);
    CHECK(got[{2, 1}] == 1000);
    CHECK(p.drops("partition") == 1000);
}

TEST_CASE("partition shapes") {
    SECTION("halves: the smaller half first, cut both ways") {
        const cut_matrix m = cut_matrix::halves(5);
        CHECK(reachable_from(m, 0) == std::set<node_id>{0, 1});
        CHECK(reachable_from(m, 4) == std::set<node_id>{2, 3, 4});
        CHECK(m.blocked_pairs() == 12);
    }
    SECTION("explicit groups: unnamed nodes form one more group") {
        const cut_matrix m = cut_matrix::groups(6, {{0, 1}, {2}});
        CHECK(reachable_from(m, 0) == std::set<node_id>{0, 1});
        CHECK(reachable_from(m, 2) == std::set<node_id>{2});
        CHECK(reachable_from(m, 5) == std::set<node_id>{3, 4, 5});
    }
    SECTION("isolate: one node alone, both ways") {
        const cut_matrix m = cut_matrix::isolate(4, 2);
        CHECK(reachable_from(m, 2) == std::set<node_id>{2});
        CHECK(reachable_from(m, 0) == std::set<node_id>{0, 1, 3});
    }
    SECTION("random halves: sizes n/2 and n - n/2, the same for the same seed, different across seeds") {
        random_stream a(7, "x");
        random_stream b(7, "x");
        random_stream c(8, "x");
        const cut_matrix ma = cut_matrix::random_halves(100, a);
        const cut_matrix mb = cut_matrix::random_halves(100, b);
        const cut_matrix mc = cut_matrix::random_halves(100, c);
        CHECK(ma.blocked_pairs() == 2 * 50 * 50);
        bool same = true;
        bool differs = false;
        for (node_id i = 0; i < 100; ++i) {
            same = same && reachable_from(ma, i) == reachable_from(mb, i);
            differs = differs || reachable_from(ma, i) != reachable_from(mc, i);
        }
        CHECK(same);
        CHECK(differs);
    }
    SECTION("majorities ring: every node sees a majority, no two the same one") {
        for (const std::uint32_t n : {5u, 7u, 10u}) {
            random_stream rng(9, "ring");
            const cut_matrix m = cut_matrix::majorities_ring(n, rng);
            std::set<std::set<node_id>> views;
            for (node_id i = 0; i < n; ++i) {
                const auto seen = reachable_from(m, i);
                CHECK(seen.size() >= n / 2 + 1);
                CHECK(seen.size() < n);
                views.insert(seen);
                for (const node_id j : seen) CHECK(!m.blocks(j, i));  // symmetric
            }
            CHECK(views.size() == n);
        }
    }
    SECTION("bridge: two halves, the bridge node sees everyone") {
        const cut_matrix m = cut_matrix::bridge(5);  // {0,1} | {2,3,4}, bridge 2
        CHECK(reachable_from(m, 2) == std::set<node_id>{0, 1, 2, 3, 4});
        CHECK(reachable_from(m, 0) == std::set<node_id>{0, 1, 2});
        CHECK(reachable_from(m, 3) == std::set<node_id>{2, 3, 4});
    }
}

TEST_CASE("a message in flight when a drop-mode cut appears is dropped (cut_in_flight), heal restores delivery") {
    probe_world p(32);
    p.world.net().set_default_link({.latency = duration_distribution::constant(milliseconds(10))});
    p.send_at(time_zero, 0, 1);
    std::uint64_t cut = 0;
    p.world.at(time_zero + milliseconds(5), [&] { cut = p.world.net().add_cut(cut_matrix::halves(2)); });
    p.send_at(time_zero + milliseconds(6), 0, 1);  // into the cut
    p.world.at(time_zero + milliseconds(20), [&] { p.world.net().heal(cut); });
    p.send_at(time_zero + milliseconds(30), 0, 1);
    p.world.run();
    REQUIRE(p.arrivals.size() == 1);
    CHECK(p.arrivals[0].when == time_zero + milliseconds(40));
    CHECK(p.drops("cut_in_flight") == 1);
    CHECK(p.drops("partition") == 1);
}

TEST_CASE("a hold-mode cut holds in-flight and new messages and delivers them, in order, when it heals") {
    probe_world p(33);
    p.world.net().set_default_link({.latency = duration_distribution::constant(milliseconds(10))});
    p.send_at(time_zero, 0, 1);
    std::uint64_t cut = 0;
    p.world.at(time_zero + milliseconds(5),
               [&] { cut = p.world.net().add_cut(cut_matrix::halves(2), cut_mode::hold); });
    p.send_at(time_zero + milliseconds(6), 0, 1);
    p.send_at(time_zero + milliseconds(7), 1, 0);
    p.world.at(time_zero + milliseconds(50), [&] {
        CHECK(p.world.net().held() == 3);
        p.world.net().heal(cut);
    });
    p.world.run();
    REQUIRE(p.arrivals.size() == 3);
    for (const auto& a : p.arrivals) CHECK(a.when == time_zero + milliseconds(50));
    // In the order they met the cut: at n1, the one sent into it at 6ms, then the one
    // that arrived at it (in flight) at 10ms.
    std::vector<std::int64_t> at_n1;
    for (const auto& a : p.arrivals) {
        if (a.at_node == 1) at_n1.push_back(a.body.get<std::int64_t>());
    }
    CHECK(at_n1 == std::vector<std::int64_t>{nanoseconds(milliseconds(6)).count(), 0});
    CHECK(p.world.net().held() == 0);
    CHECK(p.world.net().messages_dropped() == 0);
}
