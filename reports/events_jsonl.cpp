#include "reports/events_jsonl.hpp"

namespace meshsim::report {

nlohmann::json event_to_json(const sim::trace_event& event, const std::vector<std::string>& node_names) {
    nlohmann::json j;
    j["t_ns"] = event.at.time_since_epoch().count();
    j["t"] = sim::format_time(event.at);
    j["kind"] = sim::to_string(event.kind);
    if (event.node < node_names.size()) {
        j["node"] = node_names[event.node];
    } else if (event.node != sim::no_node) {
        j["node"] = event.node;
    }
    j["a"] = event.a;
    j["b"] = event.b;
    if (!event.detail.empty()) j["detail"] = event.detail;
    return j;
}

void write_events_jsonl(std::ostream& out, const std::vector<sim::trace_event>& events,
                        const std::vector<std::string>& node_names) {
    for (const auto& event : events) out << event_to_json(event, node_names).dump() << '\n';
}

}  // namespace meshsim::report
