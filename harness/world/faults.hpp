// A scenario's faults as kernel fault specs: each scheduled fault placed on the
// instances its service runs as (by its kind, harness/fault_kinds/), then the seeded
// nemesis's plan over the chosen services; all scheduled on the simulation at once.
// And back: the faults a run started, as scenario fault entries (summary.json).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/scenario/model.hpp"
#include "harness/world/observations.hpp"
#include "sim/kernel/faults.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness {

// Every node of the scenario's services exists in sim. Fills specs with the faults
// as scheduled (nemesis included) and schedules them, unless the kernel rejects one:
// then nothing is scheduled and the errors are returned.
std::vector<std::string> schedule_faults(const scenario& s, sim::kernel::simulation& sim,
                                         std::vector<sim::kernel::fault_spec>& specs);

// Each fault occurrence of the run as the scenario `faults` entry that schedules it
// alone (kind, at, for and the kind's keys, service + instance), plus "id" (the
// kernel's, as in the fault events), "start_ns" and "end_ns" (null while it lasted
// to the end). An occurrence no scenario entry can place (nodes that are no whole
// target) says "placeable": false. specs: as schedule_faults filled them.
nlohmann::json fault_entries(const scenario& s, const std::vector<sim::kernel::fault_spec>& specs,
                             const std::vector<fault_occurrence>& occurrences);

}  // namespace meshsim::harness
