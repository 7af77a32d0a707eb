// The flagship scenario, run by `meshsim run` without a file: the article's help
// desk (a gateway in front of ticketing, reporting fed through an outbox, async
// notification workers) under a slow dependency, a crash and a partition. It is the
// same text as scenarios/flagship.json (a test keeps them equal), built into the
// binary so `meshsim run` works from any directory.
#pragma once

#include <string_view>

namespace meshsim::harness {

std::string_view flagship_scenario_text();

}  // namespace meshsim::harness
