// The checker framework: each expectation in a scenario names a checker, which
// judges the run's observations after it ends. A result says what was expected,
// what was measured and when it first failed. A new checker plugs in by adding an
// entry to the registry in registry.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/scenario/model.hpp"
#include "harness/world/data_ledger.hpp"
#include "harness/world/observations.hpp"

namespace meshsim::harness {

// What a checker may read of a finished run.
struct run_view {
    const scenario& config;
    const observations& obs;
    const data_ledger& data;
    sim::time_point last_fault_end;  // time_zero when no fault was scheduled
    sim::time_point end;
};

struct check_result {
    std::string check;  // checker name
    std::string label;  // the expectation, in words
    bool passed = true;
    std::string expected;
    std::string measured;
    std::optional<sim::time_point> first_failed;
    nlohmann::json to_json() const;
};

using checker_fn = check_result (*)(const expectation_config&, const run_view&);

struct checker_info {
    std::string_view name;
    std::string_view description;
    checker_fn run;
};

// Every checker, in the order `meshsim list` prints them.
const std::vector<checker_info>& all_checkers();
std::vector<check_result> run_checkers(const run_view& run);

}  // namespace meshsim::harness
