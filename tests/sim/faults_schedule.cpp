// Fault specs: validation naming the parameter (and nothing applied when any spec
// is bad), scheduling at / for / repeat with fault_start and fault_end trace
// events, the seeded nemesis, and determinism with every fault kind at once.
#include <algorithm>
#include <set>

#include <catch2/catch.hpp>

#include "sim/kernel/faults.hpp"
#include "sim/kernel/nemesis.hpp"
#include "tests/sim/network_testing.hpp"

using namespace meshsim::sim;
using namespace meshsim::sim::kernel;

namespace {
time_point ms(std::int64_t n) { return time_zero + milliseconds(n); }

bool mentions(const std::vector<std::string>& errors, std::string_view needle) {
    return std::any_of(errors.begin(), errors.end(),
                       [&](const std::string& e) { return e.find(needle) != std::string::npos; });
}

std::vector<trace_event> events_of(const simulation& world, event_kind kind) {
    std::vector<trace_event> out;
    for (const auto& e : world.trace().events()) {
        if (e.kind == kind) out.push_back(e);
    }
    return out;
}
}  // namespace

TEST_CASE("invalid fault specs are rejected with the parameter named") {
    testing::probe_world p(51, 3);
    auto errors_of = [&](fault_spec spec) { return spec.validate(p.world); };

    link_fault lossy;
    lossy.config.loss = 1.5;
    CHECK(mentions(errors_of({.what = lossy}), "fault.link.config.loss"));

    link_fault negative;
    negative.config.latency = duration_distribution::constant(milliseconds(-1));
    CHECK(mentions(errors_of({.what = negative}), "fault.link.config.latency"));

    CHECK(mentions(errors_of({.what = crash_fault{"nobody", true}}), "unknown node 'nobody'"));
    CHECK(mentions(errors_of({.what = pause_fault{""}}), "fault.pause.node"));

    partition_fault empty_group{.shape = partition_shape::groups, .groups = {{"n0"}, {}}};
    CHECK(mentions(errors_of({.what = empty_group}), "fault.partition.groups[1]: empty partition group"));

    partition_fault twice{.shape = partition_shape::groups, .groups = {{"n0", "n1"}, {"n1"}}};
    CHECK(mentions(errors_of({.what = twice}), "node 'n1' named twice"));

    partition_fault both_ways{.shape = partition_shape::one_way, .from = {"n0"}, .to = {"n0"}};
    CHECK(mentions(errors_of({.what = both_ways}), "in both from and to"));

    CHECK(mentions(errors_of({.what = slow_fault{"n0", 0}}), "fault.slow.factor"));
    CHECK(mentions(errors_of({.what = clock_fault{"n0", {}, -2e6}}), "fault.clock.drift_ppm"));

    CHECK(mentions(errors_of({.what = abort_fault{.node = "n0", .probability = 2}}), "fault.abort.probability"));
    CHECK(mentions(errors_of({.what = abort_fault{.node = "n0", .status = 42}}), "fault.abort.status"));
    CHECK(mentions(errors_of({.what = delay_fault{.node = "n0", .probability = 0}}), "fault.delay.probability"));
    CHECK(mentions(errors_of({.what = delay_fault{.node = "n0", .delay = milliseconds(-1)}}), "fault.delay.delay"));

    CHECK(mentions(errors_of({.length = milliseconds(-1), .what = pause_fault{"n0"}}), "fault.length"));
    CHECK(mentions(errors_of({.length = seconds(2), .repeat_every = seconds(1), .what = pause_fault{"n0"}}),
                   "repeat_every"));

    CHECK(errors_of({.what = pause_fault{"n0"}}).empty());
    CHECK(errors_of({.what = pause_fault{"*"}}).empty());
}

TEST_CASE("a batch with one invalid spec schedules nothing") {
    testing::probe_world p(52, 2);
    fault_injector faults(p.world);
    const auto errors = faults.schedule({fault_spec{.at = ms(10), .what = pause_fault{"n0"}},
                                         fault_spec{.at = ms(10), .what = crash_fault{"ghost", true}}});
    REQUIRE(errors.size() == 1);
    CHECK(mentions(errors, "faults[1].crash.node"));
    p.world.run_until(ms(100));
    CHECK(events_of(p.world, event_kind::fault_start).empty());
    CHECK(p.world.get_node(0).state() == node_state::up);
}

TEST_CASE("a fault starts and ends at its times, its parameters as JSON in the trace") {
    testing::probe_world p(53, 4);
    fault_injector faults(p.world);
    REQUIRE(faults
                .schedule(fault_spec{.name = "split",
                                     .at = seconds(1) + time_zero,
                                     .length = seconds(2),
                                     .what = partition_fault{.shape = partition_shape::halves}})
                .empty());
    p.world.run_until(ms(1500));
    CHECK(p.world.net().is_cut(0, 3));
    p.world.run();
    const auto starts = events_of(p.world, event_kind::fault_start);
    const auto ends = events_of(p.world, event_kind::fault_end);
    REQUIRE(starts.size() == 1);
    REQUIRE(ends.size() == 1);
    CHECK(starts[0].at == ms(1000));
    CHECK(ends[0].at == ms(3000));
    CHECK(starts[0].a == ends[0].a);
    const auto detail = nlohmann::json::parse(starts[0].detail);
    CHECK(detail["kind"] == "partition");
    CHECK(detail["name"] == "split");
    CHECK(detail["params"]["shape"] == "halves");
    CHECK(detail["length"] == "2s");
    CHECK(detail["blocked_pairs"] == 8);
    CHECK_FALSE(p.world.net().is_cut(0, 3));
}

TEST_CASE("a repeating fault recurs every period until repeat_until") {
    testing::probe_world p(54, 2);
    fault_injector faults(p.world);
    REQUIRE(faults
                .schedule(fault_spec{.at = ms(100),
                                     .length = milliseconds(50),
                                     .repeat_every = milliseconds(200),
                                     .repeat_until = ms(1000),
                                     .what = pause_fault{"*"}})
                .empty());
    p.world.run();
    const auto starts = events_of(p.world, event_kind::fault_start);
    const auto ends = events_of(p.world, event_kind::fault_end);
    REQUIRE(starts.size() == 5);
    REQUIRE(ends.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
        CHECK(starts[i].at == ms(100 + 200 * static_cast<std::int64_t>(i)));
        CHECK(ends[i].at == starts[i].at + milliseconds(50));
        CHECK(nlohmann::json::parse(starts[i].detail)["occurrence"] == i);
    }
    CHECK(faults.active() == 0);
}

TEST_CASE("nemesis plans") {
    testing::probe_world p(55, 5);
    SECTION("flip-flop: one fault at a time, quiet gaps between") {
        nemesis_options o{.mode = nemesis_mode::flip_flop,
                          .start = ms(1000),
                          .stop = ms(31000),
                          .fault_length = seconds(2),
                          .interval = seconds(3)};
        const nemesis_plan plan = make_nemesis_plan(o, p.world, 7);
        REQUIRE(plan.faults.size() == 6);
        for (std::size_t i = 1; i < plan.faults.size(); ++i) {
            CHECK(plan.faults[i].at == plan.faults[i - 1].at + seconds(5));
        }
        for (const auto& f : plan.faults) CHECK(f.validate(p.world).empty());
    }
    SECTION("staggered: jittered starts within [0.5, 1.5] x interval, overlaps allowed") {
        nemesis_options o{.mode = nemesis_mode::staggered,
                          .start = ms(0),
                          .stop = ms(60000),
                          .fault_length = seconds(5),
                          .interval = seconds(2)};
        const nemesis_plan plan = make_nemesis_plan(o, p.world, 7);
        REQUIRE(plan.faults.size() > 20);
        for (std::size_t i = 1; i < plan.faults.size(); ++i) {
            const duration gap = plan.faults[i].at - plan.faults[i - 1].at;
            CHECK(gap >= seconds(1));
            CHECK(gap <= seconds(3));
        }
        for (const auto& f : plan.faults) CHECK(f.at + f.length <= o.stop);
    }
    SECTION("swarm: each seed a subset of kinds, the same subset for the same seed") {
        nemesis_options o{.mode = nemesis_mode::swarm, .start = ms(0), .stop = ms(60000)};
        std::set<std::vector<fault_kind>> subsets;
        for (std::uint64_t seed = 1; seed <= 20; ++seed) {
            const nemesis_plan a = make_nemesis_plan(o, p.world, seed);
            const nemesis_plan b = make_nemesis_plan(o, p.world, seed);
            CHECK(a.kinds == b.kinds);
            CHECK(a.faults.size() == b.faults.size());
            CHECK(!a.kinds.empty());
            for (const auto& f : a.faults) {
                CHECK(std::find(a.kinds.begin(), a.kinds.end(), f.kind()) != a.kinds.end());
                CHECK(f.to_json() == b.faults[&f - a.faults.data()].to_json());
            }
            subsets.insert(a.kinds);
        }
        CHECK(subsets.size() > 5);
    }
    SECTION("bad options are named") {
        nemesis_options o{.stop = ms(0), .fault_length = duration{0}, .kinds = {}, .nodes = {"zz"}};
        const auto errors = validate(o, p.world);
        CHECK(mentions(errors, "nemesis.stop"));
        CHECK(mentions(errors, "nemesis.fault_length"));
        CHECK(mentions(errors, "nemesis.kinds"));
        CHECK(mentions(errors, "nemesis.nodes[0]"));
    }
}

namespace {
// A small service mesh under every fault kind at once: request/response traffic
// with timeouts and retries, CPU work, store writes, and the service fault hook.
std::pair<std::uint64_t, std::uint64_t> run_everything(std::uint64_t seed) {
    simulation world({.seed = seed, .trace = trace_mode::hash_only});
    constexpr std::uint32_t nodes = 8;
    constexpr port_id port = 7;
    for (std::uint32_t i = 0; i < nodes; ++i) {
        world.add_node("n" + std::to_string(i), [](runtime& rt) {
            rt.bind(port);
            rt.bind(port + 1);
            rt.spawn("server", [&rt] {
                while (auto m = rt.receive(port, time_never)) {
                    const request_fault f = rt.fault_for_request(port, "/work");
                    if (f.delay.count() > 0) rt.sleep_for(f.delay);
                    rt.compute(milliseconds(1));
                    rt.durable_store().put("last", m->id);
                    if (m->id % 3 == 0) rt.durable_store().sync();
                    message reply;
                    reply.to = {m->from.node, port + 1};
                    reply.body = f.abort_status == 0 ? 200 : f.abort_status;
                    rt.send(std::move(reply));
                }
            });
            random_stream& rng = rt.random("client");
            for (int i = 0; i < 200; ++i) {
                message req;
                req.to = {static_cast<node_id>(rng.below(nodes)), port};
                req.from.port = port + 1;
                req.body = {{"i", i}, {"pad", std::string(rng.below(200), 'x')}};
                rt.send(std::move(req));
                if (!rt.receive(port + 1, rt.now() + milliseconds(50))) rt.log("timeout");
                rt.sleep_for(milliseconds(static_cast<std::int64_t>(rng.below(20))));
            }
        });
        world.start(i);
    }
    link_config lossy;
    lossy.latency = duration_distribution::lognormal(milliseconds(2), 0.5);
    lossy.jitter = milliseconds(1);
    lossy.delay_correlation = 0.3;
    lossy.loss = 0.05;
    lossy.loss_correlation = 0.4;
    lossy.duplicate = 0.05;
    lossy.reorder = 0.1;
    lossy.corrupt = 0.02;
    lossy.bandwidth_bytes_per_s = 200'000;
    lossy.queue_capacity_bytes = 4096;
    world.net().set_default_link(lossy);
    world.get_node(3).disk().set_unsynced_survival(0.5, random_stream(seed, "disk"));

    const abort_fault aborts{.node = "n2", .probability = 0.3};
    const delay_fault delays{.node = "n2", .probability = 0.3, .delay = milliseconds(20)};
    link_fault slow_link{.from = {"n1"}, .to = {}, .config = lossy};
    slow_link.config.latency = duration_distribution::pareto(milliseconds(1), 1.5);
    fault_injector faults(world);
    const auto errors = faults.schedule({
        fault_spec{.at = ms(100),
                   .length = milliseconds(300),
                   .repeat_every = milliseconds(700),
                   .what = partition_fault{.shape = partition_shape::random_halves, .mode = cut_mode::hold}},
        fault_spec{.at = ms(200),
                   .length = milliseconds(200),
                   .what = partition_fault{.shape = partition_shape::majorities_ring}},
        fault_spec{.at = ms(300), .length = milliseconds(500), .what = crash_fault{"*", true}},
        fault_spec{.at = ms(350), .length = milliseconds(300), .what = pause_fault{"n4"}},
        fault_spec{.at = ms(50), .length = seconds(2), .what = clock_fault{"n5", milliseconds(700), 5000}},
        fault_spec{.at = ms(60), .length = seconds(1), .what = slow_fault{"n6", 4}},
        fault_spec{.at = ms(10), .length = seconds(2), .what = aborts},
        fault_spec{.at = ms(10), .length = seconds(2), .what = delays},
        fault_spec{.at = ms(400), .length = milliseconds(400), .what = slow_link},
    });
    REQUIRE(errors.empty());
    nemesis_options nem{.mode = nemesis_mode::swarm,
                        .start = ms(500),
                        .stop = ms(4000),
                        .fault_length = milliseconds(300),
                        .interval = milliseconds(200)};
    REQUIRE(faults.schedule(make_nemesis_plan(nem, world, seed).faults).empty());
    world.run_until(ms(6000));
    return {world.trace().hash(), world.trace().count()};
}
}  // namespace

TEST_CASE("determinism: every fault kind active at once, the same seed gives the same trace hash") {
    const auto first = run_everything(99);
    const auto second = run_everything(99);
    const auto other = run_everything(100);
    CHECK(first.first == second.first);
    CHECK(first.second == second.second);
    CHECK(first.second > 5000);
    CHECK(first.first != other.first);
}
