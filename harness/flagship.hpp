// The flagship world, run by `meshsim run` without a file: a checkout API in
// front of three inventory instances, Poisson traffic from a client, and one
// inventory instance crashing mid-run. The API retries with jittered backoff on
// another instance; the expectation is that clients barely notice.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/kernel/simulation.hpp"

namespace meshsim::harness {

struct flagship_options {
    std::uint64_t seed = 1;
    sim::duration duration = sim::seconds(10);
    double request_rate_per_s = 200;
    sim::duration crash_at = sim::seconds(3);
    sim::duration restart_at = sim::seconds(6);
    double success_ratio_min = 0.99;
};

struct flagship_result {
    std::uint64_t requests = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::uint64_t attempts_at_inventory = 0;
    double success_ratio = 0;
    bool passed = false;
    std::string verdict_reason;
    nlohmann::json to_json() const;
};

// Builds the world in `world`, runs it for options.duration, and judges it.
flagship_result run_flagship(sim::kernel::simulation& world, const flagship_options& options);

}  // namespace meshsim::harness
