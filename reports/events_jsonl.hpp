// events.jsonl: one JSON object per recorded trace event, in recording order.
// It is the run's source of truth; every other output is derived from it.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/trace.hpp"

namespace meshsim::report {

// {"t_ns":..., "t":"1.5s", "kind":"msg_send", "node":"api", "a":..., "b":..., "detail":"..."}
// node_names[i] names node i; a node without a name is written as its number.
nlohmann::json event_to_json(const sim::trace_event& event, const std::vector<std::string>& node_names);

// The same as one line of events.jsonl, '\n' included, for a writer that streams
// events as they are recorded: node_name is the event's node's name, or nullptr.
// Text that is not valid UTF-8 is written with U+FFFD in its place.
std::string event_line(const sim::trace_event& event, const std::string* node_name);

void write_events_jsonl(std::ostream& out, const std::vector<sim::trace_event>& events,
                        const std::vector<std::string>& node_names);

}  // namespace meshsim::report
