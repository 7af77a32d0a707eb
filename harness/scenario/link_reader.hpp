// The value shapes several parts of a scenario share: duration distributions (a
// service time, a think time, a link's latency) and link settings (the network's
// defaults and overrides, a link fault). Read with the positioned reader.
#pragma once

#include <nlohmann/json.hpp>

#include "harness/scenario/reader.hpp"
#include "sim/distribution.hpp"
#include "sim/kernel/network.hpp"

namespace meshsim::harness {

// "5ms" (constant) or {"dist": "exponential", "mean": "5ms"}.
sim::duration_distribution read_distribution(const value_reader& v);
// The link keys present in r, over base; leaves r unfinished (its owner has keys too).
sim::kernel::link_config read_link(object_reader& r, sim::kernel::link_config base);

// The inverses, for writing scenario entries: what read_distribution reads as d, and
// the link keys (those that differ from base) that read_link over base reads as l.
nlohmann::json write_distribution(const sim::duration_distribution& d);
void write_link(nlohmann::json& entry, const sim::kernel::link_config& l, const sim::kernel::link_config& base);

}  // namespace meshsim::harness
