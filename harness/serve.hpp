// meshsim serve: a scenario's services on the real runtime (runtime/host.hpp):
// every instance on a loopback TCP port with an HTTP/1.1 edge, the workloads as
// real load generators, the scheduled faults applied in real time, and the same
// checkers and summary.json (marked real-time: no trace hash). docs/real-runtime.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/scenario/model.hpp"
#include "sim/trace.hpp"

namespace meshsim::harness {

struct serve_options {
    std::uint16_t base_port = 0;  // 0: ports the system picks; else instances from here, then their HTTP edges
    bool workloads = true;
    bool http = true;
    std::optional<sim::duration> until;  // overrides the scenario's duration
    std::string data_dir;                // the stores' files (created when missing)
    bool handle_signals = true;          // SIGINT/SIGTERM end the run early (the summary is still made)
    // Before anything runs: each fault or feature real mode does not apply (as in not_applied).
    std::function<void(const std::string& note)> on_note;
    // Once every port is bound, before anything runs: the port map.
    std::function<void(const nlohmann::json& ports)> on_ready;
    // Events as they happen, of the kinds in event_kinds (none: none asked), with real
    // timestamps (time since the start): node lifecycle, faults, and the nodes' log,
    // state, rpc_attempt and rpc_serve events in the simulation's formats. On the
    // host's thread. node_name: the event's node, nullptr for none.
    std::function<void(const sim::trace_event&, const std::string* node_name)> on_event;
    sim::event_kind_mask event_kinds = 0;
    // Called with a function that stops the run from any thread (tests).
    std::function<void(std::function<void()> stop)> on_stop_handle;
};

struct serve_result {
    nlohmann::json summary;
    bool passed = false;
    bool interrupted = false;               // a signal ended it early
    std::vector<std::string> setup_errors;  // bad input (exit 2): nothing ran, nothing listens
    std::vector<std::string> not_applied;   // faults and features real mode does not apply
};

serve_result serve_scenario(scenario s, const serve_options& options);

// "api-1  127.0.0.1:9000  http://127.0.0.1:9002" lines for a person.
std::string port_map_text(const nlohmann::json& ports);

}  // namespace meshsim::harness
