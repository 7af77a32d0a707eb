// Faults of a service's instances as processes: crash, pause, slow CPU, wrong clock.
#include "harness/fault_kinds/fault_kind.hpp"
#include "harness/scenario/duration.hpp"

namespace meshsim::harness {

namespace k = sim::kernel;

namespace {

// A clock offset: a duration, or a negative one ("-2s": the clock reads behind), as
// a nemesis draws them.
sim::duration read_offset(object_reader& r) {
    const value_reader v = r.member("offset");
    if (v.is_string()) {
        const auto& text = v.json()->get_ref<const std::string&>();
        if (!text.empty() && text.front() == '-') {
            const auto parsed = parse_duration(std::string_view(text).substr(1));
            if (!parsed.value) {
                v.error("offset: " + parsed.error);
                return sim::duration{0};
            }
            return -*parsed.value;
        }
    }
    return r.optional<sim::duration>("offset", sim::duration{0});
}

// The target key of a fault on one node: false when the node is no service instance.
bool write_node(const std::string& node, const fault_node_names& names, nlohmann::json& entry) {
    const auto t = target_of({node}, names);
    if (t) write_fault_target(entry, *t);
    return t.has_value();
}

}  // namespace

fault_kind_info crash_fault_kind() {
    return {k::fault_kind::crash,
            "the instance crashes (volatile state lost); restarts at the end unless restart is false",
            [](object_reader& r, fault_reading& names, fault_target& target) {
                target = read_fault_target(r, names);
                const bool restart = r.optional<bool>("restart", true);
                return on_each_instance(target, [restart](const std::string& node) -> k::fault_params {
                    return k::crash_fault{node, restart};
                });
            },
            [](const k::fault_params& what, const fault_node_names& names, nlohmann::json& entry) {
                const auto& f = std::get<k::crash_fault>(what);
                if (!f.restart_at_end) entry["restart"] = false;
                return write_node(f.node, names, entry);
            }};
}

fault_kind_info pause_fault_kind() {
    return {k::fault_kind::pause, "stop the world: nothing of the instance runs, its timers fire late",
            [](object_reader& r, fault_reading& names, fault_target& target) {
                target = read_fault_target(r, names);
                return on_each_instance(
                    target, [](const std::string& node) -> k::fault_params { return k::pause_fault{node}; });
            },
            [](const k::fault_params& what, const fault_node_names& names, nlohmann::json& entry) {
                return write_node(std::get<k::pause_fault>(what).node, names, entry);
            }};
}

fault_kind_info slow_fault_kind() {
    return {k::fault_kind::slow, "service time (compute) multiplied by a factor",
            [](object_reader& r, fault_reading& names, fault_target& target) {
                target = read_fault_target(r, names);
                const double factor = r.required<double>("factor", {.min = 0, .min_exclusive = true, .max = 1000});
                return on_each_instance(target, [factor](const std::string& node) -> k::fault_params {
                    return k::slow_fault{node, factor};
                });
            },
            [](const k::fault_params& what, const fault_node_names& names, nlohmann::json& entry) {
                const auto& f = std::get<k::slow_fault>(what);
                entry["factor"] = f.factor;
                return write_node(f.node, names, entry);
            }};
}

fault_kind_info clock_fault_kind() {
    return {k::fault_kind::clock, "the instance's clock is offset and/or drifts",
            [](object_reader& r, fault_reading& names, fault_target& target) {
                target = read_fault_target(r, names);
                const sim::duration offset = read_offset(r);
                const double drift_ppm = r.optional<double>("drift_ppm", 0, {.min = -1e5, .max = 1e5});
                return on_each_instance(target, [offset, drift_ppm](const std::string& node) -> k::fault_params {
                    return k::clock_fault{node, offset, drift_ppm};
                });
            },
            [](const k::fault_params& what, const fault_node_names& names, nlohmann::json& entry) {
                const auto& f = std::get<k::clock_fault>(what);
                if (f.offset.count() != 0) entry["offset"] = sim::format_duration(f.offset);
                if (f.drift_ppm != 0) entry["drift_ppm"] = f.drift_ppm;
                return write_node(f.node, names, entry);
            }};
}

}  // namespace meshsim::harness
