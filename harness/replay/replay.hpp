// `meshsim replay DIR_OR_FILE`: re-runs a recorded run (the --out directory of `meshsim
// run`, its summary.json, or a chaos-N.json with its chaos-N.replay.json) and checks that
// it makes the same trace. On a difference it names the first checkpoint interval that
// differs and, when the recording's events.jsonl holds it, the first event that differs
// (else the replayed events of that interval). Exit 0 same trace, 1 a different trace,
// 2 bad input (no recording, a corrupt one, the scenario gone, another meshsim version).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "harness/replay/recording.hpp"

namespace meshsim::harness {

struct replay_args {
    std::string target;        // a --out directory, a summary.json, a recording, or a chaos-N.json
    bool any_version = false;  // replay a recording of another meshsim version
};

int replay_command(const replay_args& args);

// The recording of a run of the scenario file FILE with SEED, its scenario_file the
// file's name alone (`meshsim chaos` writes it beside the file as NAME.replay.json);
// nullopt with `error` set when the file does not load or run.
std::optional<recording> record_run(const std::filesystem::path& file, std::uint64_t seed, std::string& error);

// chaos-1.json -> chaos-1.replay.json (beside it).
std::filesystem::path recording_beside(const std::filesystem::path& scenario_file);

}  // namespace meshsim::harness
