// Shared vocabulary for validating platform configs: each config's validate()
// returns one readable line per bad parameter, naming it and the value it got.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/time.hpp"

namespace meshsim::svc {

using config_errors = std::vector<std::string>;

// Shortest round-trip text for a number: "120", "0.5", "1e+20".
std::string format_number(double value);

// Appends "<name> must be <rule>, got <value>" when `ok` is false.
void require(config_errors& errors, bool ok, std::string_view name, std::string_view rule, double value);
void require(config_errors& errors, bool ok, std::string_view name, std::string_view rule, sim::duration value);

}  // namespace meshsim::svc
