// The detail text of rpc_attempt and rpc_serve events, one definition for both
// runtimes (docs/outputs.md; reports/ reads it back):
//   rpc_attempt: "<outcome> <reason> <correlation id> <to node name> <sent ns> <trace> <span> <parent> <METHOD> <path>"
//   rpc_serve:   "<reason> <correlation id> <from node name> <arrived ns> <started ns> <trace> <span> <parent> <METHOD>
//   <path>"
// "-" for an empty field; in the correlation id, node name and method a space is
// written %20 and a '%' %25, so that only the last field, the path, may hold spaces.
//
// Written into `buffer`, which the caller keeps and reuses: it grows to fit and never
// shrinks, and the detail is the returned view of its start. So the hot path (an event
// per attempt and per request served) builds no string and keeps no buffer on the
// recording fiber's stack.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/runtime.hpp"

namespace meshsim::sim {

// The times are the runtime's own (a simulated node's true time); negative ones are written 0.
std::string_view write_attempt_detail(std::string& buffer, const attempt_record& attempt, std::string_view to_name,
                                      std::int64_t sent_ns);
std::string_view write_serve_detail(std::string& buffer, const serve_record& served, std::string_view from_name,
                                    std::int64_t arrived_ns, std::int64_t started_ns);

}  // namespace meshsim::sim
