// What every running instance of a scenario can see of the world it runs in: the
// scenario, the simulation, the observations and data ledger the checkers judge,
// and where each service's instances are. Built once by the world (world.cpp);
// service kinds (harness/kinds/) read it while their instances run.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "harness/scenario/model.hpp"
#include "harness/workload/generator.hpp"
#include "harness/world/data_ledger.hpp"
#include "harness/world/observations.hpp"
#include "harness/world/pools.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness {

inline constexpr sim::port_id service_port = 80;

// Node name of instance i (1-based) of a service: "inventory-2".
std::string instance_name(const std::string& service, std::uint32_t i);
std::string workload_node_name(const std::string& workload);

struct world_context {
    const scenario& config;
    sim::kernel::simulation& sim;
    observations obs;
    std::map<std::string, std::vector<sim::address>, std::less<>> instances;  // by service, at service_port
    std::map<std::string, std::size_t, std::less<>> service_index;
    // Endpoint stats index by (service, path, version).
    std::map<std::tuple<std::string, std::string, int>, std::size_t> endpoint_index;
    std::map<std::pair<std::string, std::string>, std::size_t> edge_index;
    std::vector<std::int64_t> queued;  // per service, over all instances
    std::vector<workload_plan> workload_plans;
    data_ledger data;
    endpoint_pools pools;  // set by deploys and autoscalers; callers follow them

    world_context(const scenario& s, sim::kernel::simulation& w);

    // True time, as observations record it: the simulation's clock, or the real
    // runtime's (meshsim serve sets real_clock; `sim` then only names the nodes).
    std::function<sim::time_point()> real_clock;
    sim::time_point true_now() const { return real_clock ? real_clock() : sim.now(); }

    const std::vector<sim::address>& instances_of(std::string_view service) const;
    std::size_t endpoint_stats(const std::string& service, const std::string& path, int version) const;
    std::size_t edge_stats(const std::string& from, const std::string& to) const;
    // The observations' instance row of a service instance's node.
    std::size_t instance_row(sim::node_id node) const { return instance_rows.at(node); }
    std::map<sim::node_id, std::size_t> instance_rows;
};

}  // namespace meshsim::harness
