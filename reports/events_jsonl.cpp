#include "reports/events_jsonl.hpp"

namespace meshsim::report {

namespace {

nlohmann::json to_json(const sim::trace_event& event, const std::string* node_name) {
    nlohmann::json j;
    j["t_ns"] = event.at.time_since_epoch().count();
    j["t"] = sim::format_time(event.at);
    j["kind"] = sim::to_string(event.kind);
    if (node_name != nullptr) {
        j["node"] = *node_name;
    } else if (event.node != sim::no_node) {
        j["node"] = event.node;
    }
    j["a"] = event.a;
    j["b"] = event.b;
    if (!event.detail.empty()) j["detail"] = event.detail;
    return j;
}

}  // namespace

nlohmann::json event_to_json(const sim::trace_event& event, const std::vector<std::string>& node_names) {
    return to_json(event, event.node < node_names.size() ? &node_names[event.node] : nullptr);
}

std::string event_line(const sim::trace_event& event, const std::string* node_name) {
    std::string line = to_json(event, node_name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    return line;
}

void write_events_jsonl(std::ostream& out, const std::vector<sim::trace_event>& events,
                        const std::vector<std::string>& node_names) {
    for (const auto& event : events) {
        out << event_line(event, event.node < node_names.size() ? &node_names[event.node] : nullptr);
    }
}

}  // namespace meshsim::report
