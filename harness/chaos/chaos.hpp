// `meshsim chaos`: swarm testing of a scenario's fault schedule. The scenario keeps its
// services, workloads and expectations; its own faults and nemesis are dropped, and
// each run draws a schedule of scenario `faults` entries from the named stream
// "chaos" of its seed (a random subset of the fault kinds, random targets, times,
// lengths and parameters). Runs go through sweep's threaded runner. Each failing run
// is shrunk greedily (fewer faults, shorter, milder, later, fewer instances, a
// shorter run) while it still fails the same expectation, and written as a standalone
// scenario file. Outputs and schema: docs/chaos.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshsim::harness {

inline constexpr std::uint64_t max_chaos_runs = 100'000;
inline constexpr int max_shrink_steps = 200;
inline constexpr int default_chaos_faults = 5;  // drawn per run, at most (--max-faults)
inline constexpr int max_chaos_faults = 20;     // the largest --max-faults

struct chaos_args {
    std::string file;
    std::string runs;
    std::optional<std::string> seed;        // default 1
    std::optional<std::string> jobs;        // default: the number of cores
    std::optional<std::string> kinds;       // "crash,pause": the kinds drawn (default: every drawable kind)
    std::optional<std::string> max_faults;  // per run, 1 to max_chaos_faults
    std::vector<std::string> sets;
    std::string out_dir = "meshsim-chaos";
    bool quiet = false;
};

// What a target may be: a service and its number of instances.
struct chaos_target {
    std::string service;
    std::uint32_t instances = 1;
};

// The bounds of the draw.
struct chaos_bounds {
    std::vector<std::string> kinds;  // empty: every kind chaos draws
    int max_faults = default_chaos_faults;
};

// The fault kinds chaos can draw (names of the fault-kind registry).
const std::vector<std::string>& chaos_kinds();

// The faults run SEED draws (scenario `faults` entries) for a run of RUN_NS nanoseconds.
nlohmann::json draw_chaos_faults(std::uint64_t seed, const std::vector<chaos_target>& targets, std::int64_t run_ns,
                                 const chaos_bounds& bounds = {});

int chaos_command(const chaos_args& args);

}  // namespace meshsim::harness
