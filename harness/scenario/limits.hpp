// What a run of a scenario may cost, estimated before it runs: time series buckets,
// closed-loop users, fault occurrences, open-loop calls. A scenario (or a --until) over
// a limit is bad input, reported where the file sets the value, instead of a run that
// exhausts memory or runs for hours. docs/scenario-format.md ("Limits") states each limit
// and the measurement behind it; the loader and the runner call the same check.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/scenario/model.hpp"
#include "sim/time.hpp"

namespace meshsim::harness {

// Measured on the Release build (docs/scenario-format.md, Limits, has the numbers).
struct run_limits {
    // The longest run (the file's "duration" or --until).
    static constexpr sim::duration max_run_duration = std::chrono::hours(24 * 365);
    // Time-series buckets per run: duration / bucket, rounded up.
    static constexpr std::uint64_t max_buckets = 100'000;
    // Buckets times series (one per endpoint, call edge and workload): about 1.5 KB of
    // memory and 175 bytes of summary.json each.
    static constexpr std::uint64_t max_series_buckets = 500'000;
    // Closed-loop users over all workloads: about 28 KB of memory each, and two 256 KiB
    // fiber stacks of address space (the user's and its request's).
    static constexpr std::uint64_t max_closed_loop_users = 5'000;
    // Fibers that loop for the whole run in kinds' instances (a worker's instances x
    // concurrency, a contend workload's clients): the same bound as closed-loop users.
    static constexpr std::uint64_t max_looping_fibers = 5'000;
    // A contend workload's cost grows with clients x updates (each conflict is a retry).
    static constexpr std::uint64_t max_contend_work = 10'000'000;
    // Partitions of a broker (its instances): consumers poll every one.
    static constexpr std::uint32_t max_broker_partitions = 1'000;
    // Scheduled fault occurrences (repeats times targeted instances) plus nemesis faults.
    static constexpr std::uint64_t max_fault_occurrences = 100'000;
    // Calls the open-loop workloads make at their highest rate, with every downstream
    // call their endpoints make (weighted by probability; retries not counted): about
    // 10 us of CPU each.
    static constexpr double max_open_loop_calls = 1e8;
    // The same when the run keeps its events for events.jsonl: about 1 KB of memory
    // at the peak (ten 64-byte events in a vector that doubles) and 1 KB of events.jsonl
    // each; 2e6 calls ran in 2.1 GB under a 4 GiB address-space limit.
    static constexpr double max_open_loop_calls_with_events = 2e6;
    // Poisson arrivals under a schedule are drawn at the peak rate and thinned to the
    // rate of the moment: about 13 ns per draw (1e9 draws: 13 s).
    static constexpr double max_poisson_draws = 1e10;
};

// A limit exceeded: where the file sets the value that exceeds it (a JSON pointer) and why.
struct limit_problem {
    std::string pointer;
    std::string message;
    std::string fallback_pointer = {};  // where to point when the file does not set pointer
};

// Every limit s exceeds when it runs for run_length (its own duration, or --until);
// keeps_events: the run keeps every event (a run writing events.jsonl), which lowers
// the limit on calls. A scenario whose values were reported as wrong may give none for them.
std::vector<limit_problem> check_run_limits(const scenario& s, sim::duration run_length, bool keeps_events = false);

}  // namespace meshsim::harness
