// The rate of an open-loop workload over time: a base rate changed by steps,
// ramps and spikes (see rate_change). Poisson arrivals with a varying rate are
// drawn by thinning against the peak rate, which is exact for any schedule.
#pragma once

#include "harness/scenario/model.hpp"

namespace meshsim::harness {

class rate_schedule {
public:
    explicit rate_schedule(const open_loop_config& config) : config_(config) {}

    // Requests per second at `t` (time since the start of the run).
    double rate_at(sim::duration t) const;
    // The highest rate the schedule ever reaches.
    double peak() const;

private:
    open_loop_config config_;
};

}  // namespace meshsim::harness
