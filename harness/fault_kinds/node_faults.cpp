// Faults of a service's instances as processes: crash, pause, slow CPU, wrong clock.
#include "harness/fault_kinds/fault_kind.hpp"

namespace meshsim::harness {

namespace k = sim::kernel;

fault_kind_info crash_fault_kind() {
    return {k::fault_kind::crash,
            "the instance crashes (volatile state lost); restarts at the end unless restart is false",
            [](object_reader& r, fault_reading& names, fault_target& target) {
                target = read_fault_target(r, names);
                const bool restart = r.optional<bool>("restart", true);
                return on_each_instance(target, [restart](const std::string& node) -> k::fault_params {
                    return k::crash_fault{node, restart};
                });
            }};
}

fault_kind_info pause_fault_kind() {
    return {k::fault_kind::pause, "stop the world: nothing of the instance runs, its timers fire late",
            [](object_reader& r, fault_reading& names, fault_target& target) {
                target = read_fault_target(r, names);
                return on_each_instance(
                    target, [](const std::string& node) -> k::fault_params { return k::pause_fault{node}; });
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
            }};
}

fault_kind_info clock_fault_kind() {
    return {k::fault_kind::clock, "the instance's clock is offset and/or drifts",
            [](object_reader& r, fault_reading& names, fault_target& target) {
                target = read_fault_target(r, names);
                const sim::duration offset = r.optional<sim::duration>("offset", sim::duration{0});
                const double drift_ppm = r.optional<double>("drift_ppm", 0, {.min = -1e5, .max = 1e5});
                return on_each_instance(target, [offset, drift_ppm](const std::string& node) -> k::fault_params {
                    return k::clock_fault{node, offset, drift_ppm};
                });
            }};
}

}  // namespace meshsim::harness
