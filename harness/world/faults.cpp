#include "harness/world/faults.hpp"

#include "harness/fault_kinds/fault_kind.hpp"
#include "harness/world/world.hpp"
#include "sim/kernel/nemesis.hpp"

namespace meshsim::harness {

namespace {

// The scenario's services as the fault kinds see them: instance nodes by name.
class scenario_nodes final : public fault_nodes {
public:
    explicit scenario_nodes(const scenario& s) : config_(s) {}
    std::vector<std::string> of(const std::string& service, std::uint32_t instance) const override {
        std::vector<std::string> names;
        const service_config* s = config_.find_service(service);
        if (s == nullptr) return names;
        for (std::uint32_t i = 1; i <= s->instances; ++i) {
            if (instance == 0 || instance == i) names.push_back(instance_name(service, i));
        }
        return names;
    }
    using fault_nodes::of;
    sim::port_id service_port() const override { return harness::service_port; }

private:
    const scenario& config_;
};

sim::kernel::fault_spec timing_of(const fault_config& f, std::string label) {
    sim::kernel::fault_spec spec;
    spec.name = std::move(label);
    spec.at = sim::time_zero + f.at;
    spec.length = f.length;
    spec.repeat_every = f.repeat_every;
    if (f.repeat_until) spec.repeat_until = sim::time_zero + *f.repeat_until;
    return spec;
}

// One kernel fault spec per placed fault, labelled with its node when it has one.
void specs_of(const fault_nodes& nodes, const fault_config& f, std::size_t index,
              std::vector<sim::kernel::fault_spec>& specs) {
    if (!f.parameters) return;  // only in a scenario the loader rejected
    const std::string label = "faults[" + std::to_string(index) + "]";
    for (placed_fault& placed : f.parameters->place(nodes)) {
        sim::kernel::fault_spec spec = timing_of(f, placed.node.empty() ? label : label + " " + placed.node);
        spec.what = std::move(placed.what);
        specs.push_back(std::move(spec));
    }
}

sim::kernel::nemesis_options nemesis_options_of(const scenario& s, const fault_nodes& nodes) {
    const nemesis_config& n = *s.nemesis;
    sim::kernel::nemesis_options o;
    o.mode = n.mode;
    o.start = sim::time_zero + n.start;
    o.stop = sim::time_zero + n.stop.value_or(s.duration);
    o.fault_length = n.fault_length;
    o.interval = n.interval;
    if (!n.kinds.empty()) o.kinds = n.kinds;
    o.nodes = nodes.of(n.services);
    if (o.nodes.empty()) {
        for (const auto& svc_config : s.services) {
            for (auto& name : nodes.of(svc_config.name, 0)) o.nodes.push_back(std::move(name));
        }
    }
    return o;
}

}  // namespace

std::vector<std::string> schedule_faults(const scenario& s, sim::kernel::simulation& sim,
                                         std::vector<sim::kernel::fault_spec>& specs) {
    const scenario_nodes nodes(s);
    for (std::size_t i = 0; i < s.faults.size(); ++i) specs_of(nodes, s.faults[i], i, specs);
    std::vector<std::string> errors;
    if (s.nemesis) {
        const sim::kernel::nemesis_options o = nemesis_options_of(s, nodes);
        errors = sim::kernel::validate(o, sim);
        for (auto& spec : sim::kernel::make_nemesis_plan(o, sim, s.seed).faults) specs.push_back(std::move(spec));
    }
    if (errors.empty()) {
        sim::kernel::fault_injector injector(sim);
        errors = injector.schedule(specs);
    }
    return errors;
}

}  // namespace meshsim::harness
