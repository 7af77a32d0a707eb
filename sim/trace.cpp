#include "sim/trace.hpp"

#include <cstdio>

#include "sim/random.hpp"

namespace meshsim::sim {

std::string_view to_string(event_kind kind) {
    switch (kind) {
        case event_kind::node_start: return "node_start";
        case event_kind::node_crash: return "node_crash";
        case event_kind::node_restart: return "node_restart";
        case event_kind::node_pause: return "node_pause";
        case event_kind::node_resume: return "node_resume";
        case event_kind::fiber_start: return "fiber_start";
        case event_kind::fiber_end: return "fiber_end";
        case event_kind::fiber_killed: return "fiber_killed";
        case event_kind::fiber_exception: return "fiber_exception";
        case event_kind::timer_fire: return "timer_fire";
        case event_kind::msg_send: return "msg_send";
        case event_kind::msg_deliver: return "msg_deliver";
        case event_kind::msg_drop: return "msg_drop";
        case event_kind::fault_start: return "fault_start";
        case event_kind::fault_end: return "fault_end";
        case event_kind::log: return "log";
        case event_kind::metric: return "metric";
        case event_kind::state: return "state";
        case event_kind::custom: return "custom";
        case event_kind::rpc_attempt: return "rpc_attempt";
        case event_kind::rpc_serve: return "rpc_serve";
    }
    return "unknown";
}

void trace_recorder::keep(time_point at, event_kind kind, node_id node, std::uint64_t a, std::uint64_t b,
                          std::string_view detail) {
    events_.push_back({at, kind, node, a, b, std::string(detail)});
}

std::string format_hash(std::uint64_t hash) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
    return buf;
}

}  // namespace meshsim::sim
