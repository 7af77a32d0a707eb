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
#include "harness/scenario/model.hpp"

namespace meshsim::harness {

std::optional<scenario> load_scenario_text(std::string_view text, std::string file, diagnostics& out);
std::optional<scenario> load_scenario_file(const std::filesystem::path& path, diagnostics& out);

}  // namespace meshsim::harness
