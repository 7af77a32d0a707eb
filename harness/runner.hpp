// Runs a loaded scenario end to end: builds the world, runs it to the end (or
// --until), judges the expectations, and derives summary.json. Used by the CLI
// and by the tests, so both see the same run.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/scenario/model.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness {

struct run_options {
    std::optional<std::uint64_t> seed;   // overrides the scenario's
    std::optional<sim::duration> until;  // overrides the scenario's duration
    bool keep_events = true;             // false: hash only (the events are not kept in memory)
    std::string reproduce_prefix = "meshsim run";
    // Shell words appended to the reproduce command as they are (`--set` flags, quoted).
    std::string reproduce_suffix;
    // Called every virtual `bucket` with the simulation (progress lines).
    std::function<void(const sim::kernel::simulation&)> on_progress;
    // Called with every trace event as it is recorded, with the name of its node
    // (nullptr: none); events.jsonl streams to disk this way.
    std::function<void(const sim::trace_event&, const std::string* node_name)> on_event;
    // The kinds on_event is handed (the hash is over every event regardless).
    sim::event_kind_mask event_kinds = sim::every_event_kind;
    // Asked every virtual `bucket`: true ends the run there, without a summary
    // (an output can no longer be written: no point running on).
    std::function<bool()> stop_requested;
    // Not 0: keep the trace hash every this many events (a power of two) and put the
    // recording `meshsim replay` reads into the summary ("recording", docs/outputs.md).
    std::uint64_t checkpoint_every = 0;
    std::vector<std::string> set_typed;       // the --set flags, as typed, for the recording
    std::optional<std::string> events_level;  // the events.jsonl beside the summary holds these kinds
};

struct run_result {
    nlohmann::json summary;
    bool passed = false;
    bool stopped = false;                          // stop_requested ended it: no summary
    std::vector<std::string> setup_errors;         // faults the kernel rejected: bad input
    std::unique_ptr<sim::kernel::simulation> sim;  // for the kept events
};

// A run over the limits of harness/scenario/limits.hpp (an --until longer than the file
// allows, or more calls than fit in memory while events are kept) comes back as
// setup_errors, before the world is built (result.sim is then null).
run_result run_scenario(scenario s, const run_options& options);

// Why s cannot run until `until` (each limit it exceeds, as "--until 1000000h: ..."); empty if it can.
std::vector<std::string> until_problems(const scenario& s, sim::duration until, bool keeps_events);

// The command line that replays a run of S (with S's seed) as a POSIX shell reads
// it: the file name quoted, so that pasting it runs this scenario and nothing else;
// `--pin HASH@VERSION` makes `meshsim run` warn when the file or meshsim has changed since.
std::string reproduce_command(const scenario& s, const run_options& options);

// " --pin HASH@VERSION": S's content hash and this meshsim's version.
std::string pin_words(std::uint64_t scenario_hash);

}  // namespace meshsim::harness
