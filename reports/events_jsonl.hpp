// events.jsonl: one JSON object per recorded trace event, in recording order, with
// the named fields of its kind (docs/outputs.md, "events.jsonl"). The trace keeps each
// event in its canonical form (time, kind, node, a, b, detail: what the hash is over);
// this file decodes that form into the named fields, for the file and for the report
// builders, which take the same objects.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/trace.hpp"

namespace meshsim::report {

// `meshsim run --events LEVEL`: which kinds events.jsonl holds (the hash is over all).
enum class event_level : std::uint8_t {
    none,      // no events.jsonl
    summary,   // node lifecycle, faults, state changes, logs, metrics, custom, fiber exceptions
    requests,  // summary + rpc_attempt + rpc_serve (the default)
    all,       // every event (messages, fibers, timers too)
};
inline constexpr std::string_view event_level_names = "none, summary, requests, all";
std::optional<event_level> parse_event_level(std::string_view text);
std::string_view to_string(event_level level);
// The kinds written at `level`.
sim::event_kind_mask kinds_written(event_level level);
bool is_written(sim::event_kind kind, event_level level);

// {"t_ns":..., "t":"1.5s", "kind":"rpc_attempt", "node":"api-1", ...the kind's named fields}.
// node_name names the event's node (nullptr: the node's number is written, if it has one).
// A detail that does not decode (an event recorded by hand in a test) is written as
// "a", "b" and "detail" instead.
nlohmann::json event_to_json(const sim::trace_event& event, const std::string* node_name);
// node_names[i] names node i; a node without a name is written as its number.
nlohmann::json event_to_json(const sim::trace_event& event, const std::vector<std::string>& node_names);

// The same as one line of events.jsonl, '\n' included, for a writer that streams
// events as they are recorded. Text that is not valid UTF-8 is written with U+FFFD in its place.
std::string event_line(const sim::trace_event& event, const std::string* node_name);
std::string event_line(const nlohmann::json& event);
// event_line(event, node_name) appended to `out`, written directly (no JSON value, no
// allocation for the frequent kinds): what a run writes per event. The bytes are
// dump()'s of event_to_json(), keys in its order (a test compares every kind).
void append_event_line(std::string& out, const sim::trace_event& event, const std::string* node_name);

void write_events_jsonl(std::ostream& out, const std::vector<sim::trace_event>& events,
                        const std::vector<std::string>& node_names);

// The canonical details of the RPC events, decoded (docs/outputs.md gives the format).
struct rpc_attempt_fields {
    std::string outcome, reason, correlation, to, trace, span, parent, method, path;
    std::int64_t sent_ns = 0;
};
struct rpc_serve_fields {
    std::string reason, correlation, from, trace, span, parent, method, path;
    std::int64_t arrived_ns = 0, started_ns = 0;
};
std::optional<rpc_attempt_fields> decode_rpc_attempt(std::string_view detail);
std::optional<rpc_serve_fields> decode_rpc_serve(std::string_view detail);
// A state event's detail "<component>=<state>[ key=value...]": component, state and
// each field (numbers as numbers).
std::optional<nlohmann::json> decode_state(std::string_view detail);

}  // namespace meshsim::report
