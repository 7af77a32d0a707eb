// The value shapes several parts of a scenario share: duration distributions (a
// service time, a think time, a link's latency) and link settings (the network's
// defaults and overrides, a link fault). Read with the positioned reader.
#pragma once

#include "harness/scenario/reader.hpp"
#include "sim/distribution.hpp"
#include "sim/kernel/network.hpp"

namespace meshsim::harness {

// "5ms" (constant) or {"dist": "exponential", "mean": "5ms"}.
sim::duration_distribution read_distribution(const value_reader& v);
// The link keys present in r, over base; leaves r unfinished (its owner has keys too).
sim::kernel::link_config read_link(object_reader& r, sim::kernel::link_config base);

}  // namespace meshsim::harness
