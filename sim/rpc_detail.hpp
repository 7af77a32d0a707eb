// The detail text of rpc_attempt and rpc_serve events, one definition for both
// runtimes (docs/outputs.md; reports/ reads it back):
//   rpc_attempt: "<outcome> <reason> <correlation id> <to node name> <sent ns> <trace> <span> <parent> <METHOD> <path>"
//   rpc_serve:   "<reason> <correlation id> <from node name> <arrived ns> <started ns> <trace> <span> <parent> <METHOD>
//   <path>"
// "-" for an empty field; the path last, as it may hold spaces. Appended to a string
// the caller reuses, so the hot path (an event per attempt and per request served)
// builds no string and keeps no buffer on a fiber's stack.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/runtime.hpp"

namespace meshsim::sim {

// The times are the runtime's own (a simulated node's true time); negative ones are written 0.
void append_attempt_detail(std::string& out, const attempt_record& attempt, std::string_view to_name,
                           std::int64_t sent_ns);
void append_serve_detail(std::string& out, const serve_record& served, std::string_view from_name,
                         std::int64_t arrived_ns, std::int64_t started_ns);

}  // namespace meshsim::sim
