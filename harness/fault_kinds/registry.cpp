// The one list of fault kinds. A kind is its kernel struct (sim/kernel/faults.hpp),
// its reader and translation in this folder, and one line here.
#include <algorithm>

#include "harness/fault_kinds/fault_kind.hpp"

namespace meshsim::harness {

// Defined in node_faults.cpp, network_faults.cpp and request_faults.cpp.
fault_kind_info crash_fault_kind();
fault_kind_info pause_fault_kind();
fault_kind_info slow_fault_kind();
fault_kind_info clock_fault_kind();
fault_kind_info link_fault_kind();
fault_kind_info partition_fault_kind();
fault_kind_info abort_fault_kind();
fault_kind_info delay_fault_kind();

const std::vector<fault_kind_info>& all_fault_kinds() {
    static const std::vector<fault_kind_info> kinds = {
        crash_fault_kind(), pause_fault_kind(),     slow_fault_kind(),  clock_fault_kind(),
        link_fault_kind(),  partition_fault_kind(), abort_fault_kind(), delay_fault_kind(),
    };
    return kinds;
}

const std::vector<std::string_view>& fault_kind_names() {
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> n;
        for (const fault_kind_info& k : all_fault_kinds()) n.push_back(k.name());
        return n;
    }();
    return names;
}

const fault_kind_info* find_fault_kind(std::string_view name) {
    const auto& all = all_fault_kinds();
    const auto it = std::find_if(all.begin(), all.end(), [&](const fault_kind_info& k) { return k.name() == name; });
    return it == all.end() ? nullptr : &*it;
}

std::string renamed_fault_kind(std::string_view old_name) {
    if (old_name == "slowness") return "the fault kind is \"slow\" (\"slowness\" was its old name in nemesis kinds)";
    if (old_name == "service") {
        return "the fault kinds are \"abort\" and \"delay\" (\"service\", both at once, was their old name in "
               "nemesis kinds)";
    }
    return "";
}

std::vector<std::string> fault_nodes::of(const std::vector<std::string>& services) const {
    std::vector<std::string> names;
    for (const std::string& s : services) {
        for (std::string& n : of(s, 0)) names.push_back(std::move(n));
    }
    return names;
}

void write_fault_target(nlohmann::json& entry, const fault_target& t) {
    entry["service"] = t.service;
    if (t.instance != 0) entry["instance"] = t.instance;
}

std::optional<fault_target> target_of(const std::vector<std::string>& nodes, const fault_node_names& names) {
    if (nodes.empty()) return std::nullopt;
    fault_target first = names.instance_of(nodes.front());
    if (first.service.empty()) return std::nullopt;
    if (nodes.size() == 1) return first;
    const auto services = services_of(nodes, names);
    if (!services || services->size() != 1) return std::nullopt;
    return fault_target{services->front(), 0};
}

std::optional<std::vector<std::string>> services_of(const std::vector<std::string>& nodes,
                                                    const fault_node_names& names) {
    std::vector<std::string> services;
    std::vector<std::vector<std::uint32_t>> seen;  // parallel: the instances named
    for (const std::string& node : nodes) {
        const fault_target t = names.instance_of(node);
        if (t.service.empty()) return std::nullopt;
        const auto it = std::find(services.begin(), services.end(), t.service);
        const auto i = static_cast<std::size_t>(it - services.begin());
        if (it == services.end()) {
            services.push_back(t.service);
            seen.emplace_back();
        }
        if (std::find(seen[i].begin(), seen[i].end(), t.instance) == seen[i].end()) seen[i].push_back(t.instance);
    }
    for (std::size_t i = 0; i < services.size(); ++i) {
        if (seen[i].size() != names.instance_count(services[i])) return std::nullopt;
    }
    return services;
}

fault_target read_fault_target(object_reader& r, fault_reading& names, std::uint32_t default_instance) {
    fault_target t;
    t.service = r.required<std::string>("service", {.non_empty = true});
    names.service_named(r.member("service"), t.service);
    t.instance = r.optional<std::uint32_t>("instance", default_instance, {.min = 1});
    return t;
}

}  // namespace meshsim::harness
