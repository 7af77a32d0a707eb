// Scenario files -> harness::scenario. The one place a scenario file is parsed
// and validated: every problem (syntax, unknown keys, types, ranges, unknown
// references, impossible combinations) is reported at once with its position;
// a scenario is returned only when there were none.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "harness/scenario/diagnostics.hpp"
#include "harness/scenario/json_source.hpp"
#include "harness/scenario/model.hpp"

namespace meshsim::harness {

struct load_options {
    // Run for this long instead of the file's duration (`meshsim run --until`): every
    // check that depends on the run's length (schedules, actions, workloads that would
    // start after the end, vacuous expectations) judges the run that will happen. A
    // warmup not shorter than it is dropped, as the runner does.
    std::optional<sim::duration> run_for;
};

std::optional<scenario> load_scenario_text(std::string_view text, std::string file, diagnostics& out,
                                           const load_options& options = {});
// A parsed (and perhaps edited: `--set`) source, validated as a file is.
std::optional<scenario> load_scenario_source(const json_source& source, diagnostics& out,
                                             const load_options& options = {});
std::optional<scenario> load_scenario_file(const std::filesystem::path& path, diagnostics& out,
                                           const load_options& options = {});

}  // namespace meshsim::harness
