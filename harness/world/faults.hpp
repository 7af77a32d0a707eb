// A scenario's faults as kernel fault specs: each scheduled fault placed on the
// instances its service runs as (by its kind, harness/fault_kinds/), then the seeded
// nemesis's plan over the chosen services; all scheduled on the simulation at once.
#pragma once

#include <string>
#include <vector>

#include "harness/scenario/model.hpp"
#include "sim/kernel/faults.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness {

// Every node of the scenario's services exists in sim. Fills specs with the faults
// as scheduled (nemesis included) and schedules them, unless the kernel rejects one:
// then nothing is scheduled and the errors are returned.
std::vector<std::string> schedule_faults(const scenario& s, sim::kernel::simulation& sim,
                                         std::vector<sim::kernel::fault_spec>& specs);

}  // namespace meshsim::harness
