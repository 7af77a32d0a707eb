#include "sim/kernel/nemesis.hpp"

#include <algorithm>

#include "sim/kernel/simulation.hpp"

namespace meshsim::sim::kernel {

std::string_view to_string(nemesis_mode m) {
    switch (m) {
        case nemesis_mode::flip_flop: return "flip_flop";
        case nemesis_mode::staggered: return "staggered";
        case nemesis_mode::swarm: return "swarm";
    }
    return "unknown";
}

std::vector<std::string> validate(const nemesis_options& o, const simulation& sim) {
    std::vector<std::string> errors;
    if (o.fault_length.count() <= 0) errors.push_back("nemesis.fault_length: must be > 0");
    if (o.interval.count() <= 0) errors.push_back("nemesis.interval: must be > 0");
    if (o.stop <= o.start) errors.push_back("nemesis.stop: must be after nemesis.start");
    if (o.kinds.empty()) errors.push_back("nemesis.kinds: empty: the nemesis would do nothing");
    if (sim.node_count() == 0) errors.push_back("nemesis: the simulation has no nodes");
    for (std::size_t i = 0; i < o.nodes.size(); ++i) {
        if (sim.find_node(o.nodes[i]) == no_node) {
            errors.push_back("nemesis.nodes[" + std::to_string(i) + "]: unknown node '" + o.nodes[i] + "'");
        }
    }
    return errors;
}

namespace {

// One fault of `kind` with parameters drawn from `rng`: the kind's usual harm,
// strong enough to matter and short of absurd.
fault_params random_fault(fault_kind kind, const std::vector<std::string>& targets, const simulation& sim,
                          random_stream& rng) {
    const std::string& victim = targets[rng.below(targets.size())];
    switch (kind) {
        case fault_kind::link: {
            link_fault f;
            f.from = {victim};
            f.config.latency = sim.net().default_link().latency;
            f.config.jitter = milliseconds(rng.uniform_int(1, 20));
            f.config.loss = rng.uniform(0.05, 0.5);
            f.config.duplicate = rng.uniform(0, 0.1);
            f.config.reorder = rng.uniform(0, 0.2);
            f.config.corrupt = rng.uniform(0, 0.05);
            return f;
        }
        case fault_kind::partition: {
            partition_fault f;
            const std::size_t n = sim.node_count();
            const partition_shape shapes[] = {partition_shape::random_halves, partition_shape::isolate,
                                              partition_shape::majorities_ring, partition_shape::bridge};
            f.shape = n >= 3 ? shapes[rng.below(4)] : partition_shape::isolate;
            f.node = victim;
            return f;
        }
        case fault_kind::crash: return crash_fault{victim, true};
        case fault_kind::pause: return pause_fault{victim};
        case fault_kind::clock: {
            clock_fault f;
            f.node = victim;
            f.offset = milliseconds(rng.uniform_int(-2000, 2000));
            f.drift_ppm = static_cast<double>(rng.uniform_int(-1000, 1000));
            return f;
        }
        case fault_kind::slow: return slow_fault{victim, rng.uniform(2, 10)};
        case fault_kind::abort: return abort_fault{.node = victim, .probability = rng.uniform(0.1, 0.5)};
        case fault_kind::delay:
            return delay_fault{
                .node = victim, .probability = rng.uniform(0.1, 0.5), .delay = milliseconds(rng.uniform_int(10, 500))};
    }
    return pause_fault{victim};
}

}  // namespace

nemesis_plan make_nemesis_plan(const nemesis_options& o, const simulation& sim, std::uint64_t seed) {
    nemesis_plan plan;
    if (!validate(o, sim).empty()) return plan;
    random_stream rng(seed, "nemesis");
    plan.kinds = o.kinds;
    if (o.mode == nemesis_mode::swarm) {
        // Swarm testing: each seed leaves some kinds out, so rare combinations get runs of their own.
        std::vector<fault_kind> subset;
        for (const fault_kind k : o.kinds) {
            if (rng.bernoulli(0.5)) subset.push_back(k);
        }
        if (subset.empty()) subset.push_back(o.kinds[rng.below(o.kinds.size())]);
        plan.kinds = subset;
    }
    std::vector<std::string> targets = o.nodes;
    if (targets.empty()) {
        for (node_id id = 0; id < sim.node_count(); ++id) targets.push_back(sim.get_node(id).node_name());
    }
    time_point t = o.start;
    // Saturating: a step past the end of virtual time ends the plan instead of wrapping.
    while (t != time_never && saturating_add(t, o.fault_length) <= o.stop) {
        fault_spec spec;
        spec.at = t;
        spec.length = o.fault_length;
        spec.what = random_fault(plan.kinds[rng.below(plan.kinds.size())], targets, sim, rng);
        spec.name = std::string("nemesis/") + std::string(to_string(o.mode)) + "/" + std::to_string(plan.faults.size());
        plan.faults.push_back(std::move(spec));
        if (o.mode == nemesis_mode::flip_flop) {
            t = saturating_add(t, saturating_add(o.fault_length, o.interval));
        } else {
            t = saturating_add(t, std::max(duration{1}, scaled(o.interval, rng.uniform(0.5, 1.5))));
        }
    }
    return plan;
}

}  // namespace meshsim::sim::kernel
