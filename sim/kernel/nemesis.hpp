// A seeded nemesis (Jepsen's term): turns (options, seed) into a list of plain
// fault_specs for the fault_injector, so a generated schedule can be printed,
// saved and replayed like a hand-written one. Modes: flip-flop (one fault at a
// time, on then off), staggered (faults start at jittered intervals and may
// overlap), swarm (staggered, over a random subset of the kinds chosen per seed).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/kernel/faults.hpp"

namespace meshsim::sim::kernel {

enum class nemesis_mode : std::uint8_t { flip_flop, staggered, swarm };
std::string_view to_string(nemesis_mode m);

struct nemesis_options {
    nemesis_mode mode = nemesis_mode::flip_flop;
    time_point start = time_zero + seconds(1);  // no fault starts before this
    time_point stop = time_zero + seconds(60);  // every fault has ended by this
    duration fault_length = seconds(5);         // how long each fault lasts
    // flip_flop: quiet time between one fault's end and the next one's start.
    // staggered / swarm: mean time between starts (each gap uniform in [0.5, 1.5] of it).
    duration interval = seconds(5);
    std::vector<fault_kind> kinds{all_fault_kinds().begin(), all_fault_kinds().end()};  // kinds it may use
    std::vector<std::string> nodes{};                                                   // targets; empty = every node
};

struct nemesis_plan {
    std::vector<fault_kind> kinds{};  // the kinds in play (swarm: this seed's subset)
    std::vector<fault_spec> faults{};
};

// Problems with the options, each naming the parameter; empty when valid.
std::vector<std::string> validate(const nemesis_options& options, const simulation& sim);
// Deterministic in (options, seed, node names). Invalid options give an empty plan.
nemesis_plan make_nemesis_plan(const nemesis_options& options, const simulation& sim, std::uint64_t seed);

}  // namespace meshsim::sim::kernel
