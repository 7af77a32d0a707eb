// What `meshsim replay` needs to re-run a run and check it: the scenario (file, content
// hash, --set flags), the seed and --until, meshsim's version, the trace hash and event
// count, and the trace hash after every `checkpoint_every` events, so that two runs that
// differ are compared interval by interval. `meshsim run` writes it into summary.json
// ("recording"), `meshsim chaos` beside each chaos-N.json (chaos-N.replay.json).
// Schema: docs/outputs.md, "The recording".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshsim::harness {

inline constexpr std::string_view recording_schema = "meshsim.recording/1";
// A 20 M-event run keeps about 4,900 checkpoints (about 100 KB of summary.json).
inline constexpr std::uint64_t default_checkpoint_every = 4096;
inline constexpr std::uint64_t max_checkpoint_every = std::uint64_t{1} << 40;

struct recording {
    std::string scenario_file;  // as typed ("" the built-in flagship, "-" standard input)
    std::string scenario_hash;  // 16 hex digits, of the scenario as loaded (--set applied)
    std::uint64_t seed = 0;
    std::optional<std::int64_t> until_ns;  // --until, if given
    std::vector<std::string> set;          // --set flags, as typed
    std::string meshsim_version;
    std::string trace_hash;  // 16 hex digits
    std::uint64_t events = 0;
    std::optional<std::string> events_level;  // the kinds the events.jsonl beside it holds
    std::uint64_t checkpoint_every = default_checkpoint_every;
    std::vector<std::uint64_t> checkpoints;  // [i]: the trace hash after (i + 1) * checkpoint_every events
};

nlohmann::json to_json(const recording& r);  // with "schema"
// nullopt with `error` naming the first bad field ("checkpoints[3]: expected 16 hex digits, got ...").
std::optional<recording> recording_from_json(const nlohmann::json& j, std::string& error);

// 16 lowercase hex digits -> the number; nullopt otherwise.
std::optional<std::uint64_t> parse_hash(std::string_view text);

}  // namespace meshsim::harness
