// `meshsim sweep` and `meshsim merge` as commands: arguments as typed, checked here
// (exit 2 with one clear line), the work in sweep.hpp, the outputs sweep.json and
// junit.xml. Exit codes: 0 every seed passed, 1 a seed failed an expectation,
// 2 bad input, 3 an internal error (a seed broke an invariant of meshsim; out of memory).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/output_dir.hpp"

namespace meshsim::harness {

struct sweep_args {
    std::string file;
    std::string seeds;                 // "A..B"
    std::optional<std::string> shard;  // "I/N"
    std::optional<std::string> jobs;   // default: the number of cores
    std::optional<std::string> until;
    std::vector<std::string> sets;  // --set path=value, as typed
    std::string out_dir = "meshsim-sweep";
    bool quiet = false;  // no progress line
};

struct merge_args {
    std::vector<std::string> inputs;  // shard directories (or their sweep.json files)
    std::string out_dir = "meshsim-sweep";
    bool partial = false;  // seeds missing from the range: a warning, not an error
};

int sweep_command(const sweep_args& args);
int merge_command(const merge_args& args);

// Writes SWEEP (a sweep.json object) and its junit.xml, prints the totals and each
// failing seed with its reproduce command, and returns the exit code they call for.
int sweep_report(output_file& sweep_file, output_file& junit_file, const nlohmann::json& sweep);

}  // namespace meshsim::harness
