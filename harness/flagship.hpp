// The flagship scenario, run by `meshsim run` without a file: a checkout API in
// front of three inventory instances, one of which crashes mid-run. It is the
// same text as scenarios/flagship.json (a test keeps them equal), built into the
// binary so `meshsim run` works from any directory.
#pragma once

#include <string_view>

namespace meshsim::harness {

std::string_view flagship_scenario_text();

}  // namespace meshsim::harness
