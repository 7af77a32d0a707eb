// A scenario's network on the simulation: the default link, then each override
// between two services' instances ("*" = every node), in the file's order.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "harness/scenario/model.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness {

using instance_addresses = std::map<std::string, std::vector<sim::address>, std::less<>>;  // by service

void configure_network(const network_config& network, const instance_addresses& instances,
                       sim::kernel::simulation& sim);

}  // namespace meshsim::harness
