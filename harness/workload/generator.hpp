// The process of a workload's client node: open loop (Poisson or constant
// arrivals following a rate schedule, one fiber per request, never waiting for
// answers) or closed loop (N users, each calling, then thinking). Requests go
// through the platform's call_edge with the workload's client policy. A session
// workload's request is a login and the reads that follow it (model.hpp, session_config).
#pragma once

#include <vector>

#include "harness/scenario/model.hpp"
#include "harness/world/observations.hpp"
#include "sim/runtime.hpp"

namespace meshsim::harness {

struct workload_plan {
    const workload_config* config = nullptr;
    std::string method;
    bool write = false;                   // the endpoint is a write: each request carries its own idempotency key
    std::string session_method;           // of the session's read endpoint (config->session)
    std::vector<sim::address> instances;  // of the target service
    std::size_t stats_index = 0;          // in observations::workloads()
    sim::time_point stop;
};

// Runs in the client node's boot fiber; returns once generation stops (the
// request fibers it spawned finish on their own).
void run_workload(sim::runtime& rt, const workload_plan& plan, observations& obs);

}  // namespace meshsim::harness
