#include "harness/world/faults.hpp"

#include <map>

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

// The inverse: which service instance a node is.
class scenario_node_names final : public fault_node_names {
public:
    explicit scenario_node_names(const scenario& s) {
        for (const service_config& svc_config : s.services) {
            counts_[svc_config.name] = svc_config.instances;
            for (std::uint32_t i = 1; i <= svc_config.instances; ++i)
                nodes_[instance_name(svc_config.name, i)] = {svc_config.name, i};
        }
    }
    fault_target instance_of(const std::string& node) const override {
        const auto it = nodes_.find(node);
        return it == nodes_.end() ? fault_target{} : it->second;
    }
    std::uint32_t instance_count(const std::string& service) const override {
        const auto it = counts_.find(service);
        return it == counts_.end() ? 0 : it->second;
    }

private:
    std::map<std::string, fault_target> nodes_;
    std::map<std::string, std::uint32_t> counts_;
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

nlohmann::json fault_entries(const scenario& s, const std::vector<sim::kernel::fault_spec>& specs,
                             const std::vector<fault_occurrence>& occurrences) {
    const scenario_node_names names(s);
    std::map<std::string, const sim::kernel::fault_spec*> by_label;  // labels are unique (specs_of, nemesis)
    for (const auto& spec : specs) by_label.emplace(spec.name, &spec);
    const auto ns = [](sim::time_point t) { return (t - sim::time_zero).count(); };
    nlohmann::json out = nlohmann::json::array();
    for (const fault_occurrence& o : occurrences) {
        nlohmann::json entry = nlohmann::json::object();
        const auto it = by_label.find(o.name);
        if (it == by_label.end()) {
            entry["placeable"] = false;
        } else {
            const sim::kernel::fault_spec& spec = *it->second;
            const fault_kind_info* kind = find_fault_kind(sim::kernel::to_string(spec.kind()));
            entry["kind"] = sim::kernel::to_string(spec.kind());
            entry["at"] = sim::format_duration(o.start - sim::time_zero);
            if (spec.length.count() > 0) entry["for"] = sim::format_duration(spec.length);
            if (kind == nullptr || !kind->write(spec.what, names, entry)) entry["placeable"] = false;
        }
        entry["id"] = o.id;
        entry["start_ns"] = ns(o.start);
        entry["end_ns"] = o.end ? nlohmann::json(ns(*o.end)) : nlohmann::json(nullptr);
        out.push_back(std::move(entry));
    }
    return out;
}

}  // namespace meshsim::harness
