// Istio-style faults on the requests a service serves (its sidecar's view): abort
// with a status, or delay, on a fraction of them, on one endpoint or every path.
#include "harness/fault_kinds/fault_kind.hpp"

namespace meshsim::harness {

namespace k = sim::kernel;

namespace {

// The keys both kinds share: the target, "endpoint" ("" = every path) and "probability".
struct request_rule {
    fault_target target;
    std::string endpoint;
    double probability = 1;
};

request_rule read_request_rule(object_reader& r, fault_reading& names) {
    request_rule rule;
    rule.target = read_fault_target(r, names);
    rule.endpoint = r.optional<std::string>("endpoint", "", {.non_empty = true});
    if (!rule.endpoint.empty()) names.endpoint_named(r.member("endpoint"), rule.target.service, rule.endpoint);
    rule.probability = r.optional<double>("probability", 1.0, {.min = 0, .min_exclusive = true, .max = 1});
    return rule;
}

// The keys both kinds share, written back.
bool write_request_rule(const std::string& node, const std::string& path, double probability,
                        const fault_node_names& names, nlohmann::json& entry) {
    const auto t = target_of({node}, names);
    if (t) write_fault_target(entry, *t);
    if (!path.empty()) entry["endpoint"] = path;
    if (probability != 1) entry["probability"] = probability;
    return t.has_value();
}

}  // namespace

fault_kind_info abort_fault_kind() {
    return {k::fault_kind::abort, "Istio-style: answer a status on a fraction of requests to a service/endpoint",
            [](object_reader& r, fault_reading& names, fault_target& target) {
                const request_rule rule = read_request_rule(r, names);
                target = rule.target;
                const auto status = r.optional<std::uint16_t>("status", 503, {.min = 400, .max = 599});
                return on_each_instance(target, [rule, status](const std::string& node, const fault_nodes& nodes) {
                    return k::abort_fault{node, nodes.service_port(), rule.endpoint, rule.probability, status};
                });
            },
            [](const k::fault_params& what, const fault_node_names& names, nlohmann::json& entry) {
                const auto& f = std::get<k::abort_fault>(what);
                if (f.status != 503) entry["status"] = f.status;
                return write_request_rule(f.node, f.path, f.probability, names, entry);
            }};
}

fault_kind_info delay_fault_kind() {
    return {k::fault_kind::delay, "Istio-style: add a delay on a fraction of requests to a service/endpoint",
            [](object_reader& r, fault_reading& names, fault_target& target) {
                const request_rule rule = read_request_rule(r, names);
                target = rule.target;
                const auto delay = r.required<sim::duration>("delay", {.min = sim::nanoseconds(1)});
                return on_each_instance(target, [rule, delay](const std::string& node, const fault_nodes& nodes) {
                    return k::delay_fault{node, nodes.service_port(), rule.endpoint, rule.probability, delay};
                });
            },
            [](const k::fault_params& what, const fault_node_names& names, nlohmann::json& entry) {
                const auto& f = std::get<k::delay_fault>(what);
                entry["delay"] = sim::format_duration(f.delay);
                return write_request_rule(f.node, f.path, f.probability, names, entry);
            }};
}

}  // namespace meshsim::harness
