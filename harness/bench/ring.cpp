// The ring workload on the kernel: every node waits for a message, then sends one
// to a random node; latencies are uniform in [1ms, 10ms). The "network" variant
// runs through the full network model (issue 3): the same latency plus 1ms jitter
// and 1% loss, and random halves cut apart for 100ms out of every 200ms. Tokens
// die there; every 10ms the harness replaces each lost token with a fresh one from
// a random node (a transport's retransmission, without a timer per message), so
// the ring keeps its 1,000 tokens.
#include <sys/resource.h>

#include <chrono>
#include <stdexcept>

#include "harness/bench/bench.hpp"
#include "sim/kernel/faults.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness::bench {

namespace {

constexpr sim::port_id ring_port = 1;
constexpr sim::duration top_up_every = sim::milliseconds(10);

}  // namespace

std::uint64_t peak_rss_bytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

ring_result run_ring(const ring_options& options) {
    sim::kernel::simulation world(
        {.seed = options.seed, .fiber_stack_bytes = options.fiber_stack_bytes, .trace = sim::trace_mode::hash_only});
    const bool faulty = options.kind == workload::network;
    sim::kernel::link_config link{.latency =
                                      sim::duration_distribution::uniform(sim::milliseconds(1), sim::milliseconds(10))};
    if (faulty) {
        link.jitter = sim::milliseconds(1);
        link.loss = 0.01;
    }
    world.net().set_default_link(link);

    std::uint64_t delivered = 0;
    const std::uint64_t target = options.messages;
    const std::uint32_t n = options.nodes;
    for (std::uint32_t i = 0; i < n; ++i) {
        std::string name = "n";  // (not "n" + ...: GCC 12 warns falsely, -Wrestrict)
        name += std::to_string(i);
        world.add_node(std::move(name), [&delivered, target, n, &options](sim::runtime& rt) {
            rt.bind(ring_port);
            for (std::uint32_t k = 0; k < options.idle_fibers_per_node; ++k)
                rt.spawn("idle", [&rt] { rt.sleep_until(sim::time_never); });
            sim::random_stream& rng = rt.random("ring");
            auto send_one = [&] {
                sim::message msg;
                msg.to = {static_cast<sim::node_id>(rng.below(n)), ring_port};
                rt.send(std::move(msg));
            };
            send_one();
            while (delivered < target) {
                if (!rt.receive(ring_port, sim::time_never)) return;
                ++delivered;
                send_one();
            }
        });
    }
    for (std::uint32_t i = 0; i < n; ++i) world.start(i);
    sim::kernel::fault_injector faults(world);
    if (faulty) {
        const auto errors = faults.schedule(sim::kernel::fault_spec{
            .name = "bench-flip",
            .at = sim::time_zero + sim::milliseconds(100),
            .length = sim::milliseconds(100),
            .repeat_every = sim::milliseconds(200),
            .what = sim::kernel::partition_fault{.shape = sim::kernel::partition_shape::random_halves}});
        if (!errors.empty()) throw std::logic_error("bench fault spec: " + errors.front());
    }

    const auto start = std::chrono::steady_clock::now();
    // Run in slices so the run stops soon after the target without draining every node.
    sim::time_point until = sim::time_zero;
    std::uint64_t replaced = 0;
    sim::random_stream& top_up_rng = world.random("bench/top-up");
    while (delivered < target) {
        until += faulty ? top_up_every : sim::milliseconds(100);
        world.run_until(until);
        for (; faulty && replaced < world.net().messages_dropped(); ++replaced) {
            sim::message msg;
            msg.to = {static_cast<sim::node_id>(top_up_rng.below(n)), ring_port};
            world.net().send(world.get_node(static_cast<sim::node_id>(top_up_rng.below(n))), std::move(msg));
        }
    }
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    ring_result r;
    r.workload = options.kind == workload::ring ? "ring" : "network";
    r.nodes = n;
    r.idle_fibers_per_node = options.idle_fibers_per_node;
    r.messages = delivered;
    r.wall_s = wall_s;
    r.msgs_per_s = static_cast<double>(delivered) / wall_s;
    r.peak_rss_bytes = peak_rss_bytes();  // before the baseline allocates anything
    r.trace_hash = sim::format_hash(world.trace().hash());
    r.virtual_s = sim::to_seconds(world.now().time_since_epoch());
    if (options.run_baseline) {
        r.baseline_msgs_per_s = run_baseline(n, options.messages, options.seed, options.fiber_stack_bytes);
        r.ratio_to_baseline = r.baseline_msgs_per_s / r.msgs_per_s;
    }
    return r;
}

nlohmann::json to_json(const ring_result& r) {
    return {{"workload", r.workload},
            {"nodes", r.nodes},
            {"idle_fibers_per_node", r.idle_fibers_per_node},
            {"messages", r.messages},
            {"wall_s", r.wall_s},
            {"msgs_per_s", r.msgs_per_s},
            {"baseline_msgs_per_s", r.baseline_msgs_per_s},
            {"ratio_to_baseline", r.ratio_to_baseline},
            {"peak_rss_bytes", r.peak_rss_bytes},
            {"virtual_s", r.virtual_s},
            {"trace_hash", r.trace_hash}};
}

}  // namespace meshsim::harness::bench
