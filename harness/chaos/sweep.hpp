// `meshsim sweep`: one scenario over a range of seeds, in parallel threads (one
// simulation per thread; every run deterministic, so the results do not depend on the
// number of threads or on how the range is sharded), and sweep.json, the results a
// shard writes and `meshsim merge` combines. Schema: docs/chaos.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/scenario/model.hpp"

namespace meshsim::harness {

inline constexpr std::uint64_t max_sweep_seeds = 1'000'000;  // in one --seeds range
inline constexpr std::uint64_t max_shards = 100'000;
inline constexpr unsigned max_sweep_jobs = 256;
inline constexpr std::string_view sweep_schema = "meshsim.sweep/1";

struct seed_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
    std::uint64_t count() const { return last - first + 1; }
};

// "A..B" (A <= B, at most max_sweep_seeds seeds) or one seed "A"; nullopt with `error`.
std::optional<seed_range> parse_seed_range(std::string_view text, std::string& error);

// Shard I of N (1-based): the seeds whose index in the range (seed - first) is I-1 mod N.
struct shard_spec {
    std::uint64_t index = 1;
    std::uint64_t count = 1;
};

// "I/N" with 1 <= I <= N <= max_shards; nullopt with `error`.
std::optional<shard_spec> parse_shard(std::string_view text, std::string& error);

// The seeds of RANGE that SHARD runs, in order.
std::vector<std::uint64_t> shard_seeds(const seed_range& range, const shard_spec& shard);

struct failed_check {
    std::string check;  // checker name
    std::string label;  // the expectation in words
    std::string expected;
    std::string measured;
};

struct seed_result {
    std::uint64_t seed = 0;
    std::string verdict;     // "pass", "fail" (an expectation failed) or "error" (meshsim broke: exit 3)
    std::string trace_hash;  // "" for an error
    std::vector<failed_check> failed;
    std::string error;  // for "error": what broke
    std::string reproduce;
    double wall_s = 0;  // the only field that differs between equal sweeps
};

struct sweep_options {
    std::optional<sim::duration> until;
    std::string reproduce_suffix;  // --set words for the reproduce commands
    unsigned jobs = 1;
    // When set, the scenario each seed runs (`meshsim chaos`: the seed's own faults);
    // else every seed runs the scenario given.
    std::function<scenario(std::uint64_t seed)> scenario_for;
    // Called on the calling thread, about 5 times a second and at the end.
    std::function<void(std::size_t done, std::size_t failed, std::size_t total)> on_progress;
};

struct sweep_outcome {
    std::vector<seed_result> results;       // in the order of the seeds given
    std::vector<std::string> setup_errors;  // the scenario cannot run (bad input): no results
};

// Runs S once per seed of SEEDS on up to options.jobs threads. Out of memory in any
// run ends the sweep with std::bad_alloc, rethrown here.
sweep_outcome run_sweep(const scenario& s, const std::vector<std::uint64_t>& seeds, const sweep_options& options);

// What every sweep.json of one sweep shares (a shard or a merge of shards).
struct sweep_identity {
    std::string scenario;       // name
    std::string scenario_file;  // as given ("" for the flagship)
    std::string scenario_hash;  // of the scenario with --set applied
    std::string meshsim_version;
    std::vector<std::string> set;  // the --set flags as typed
    std::optional<std::string> until;
    seed_range seeds;
};

// sweep.json. SHARD nullopt: a merge with shards missing (then `missing` counts the seeds).
nlohmann::json sweep_json(const sweep_identity& id, const std::optional<shard_spec>& shard,
                          const std::vector<seed_result>& results, std::uint64_t missing = 0);

// One line per failed check, "label: expected X, measured Y".
std::string failed_check_text(const failed_check& c);

}  // namespace meshsim::harness
