// summary.json and the human text summary of a finished scenario run, derived
// from the observations and checker results (schema: docs/outputs.md).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/checkers/checker.hpp"
#include "harness/scenario/model.hpp"
#include "harness/world/data_ledger.hpp"
#include "harness/world/observations.hpp"

namespace meshsim::harness {

struct run_identity {
    std::string scenario_name;
    std::string scenario_file;
    std::uint64_t scenario_hash = 0;
    std::uint64_t seed = 0;
    std::uint64_t trace_hash = 0;
    std::uint64_t events = 0;
    sim::time_point virtual_end;
    // The one command line that replays this run exactly.
    std::string reproduce;
};

// faults: the run's fault occurrences as scenario fault entries (fault_entries(), world/faults.hpp).
nlohmann::json make_summary(const run_identity& id, const observations& obs, const data_ledger& data,
                            const std::vector<check_result>& checks, const nlohmann::json& faults);
// Each edge of summary["edges"] whose policy has a circuit breaker gets its settings as
// "breaker" (so a report can say why it opened without the scenario file).
void add_breaker_settings(nlohmann::json& summary, const scenario& s);
// A few lines for a person, ending with the verdict (and, on failure, the command).
std::string text_summary(const nlohmann::json& summary);

}  // namespace meshsim::harness
