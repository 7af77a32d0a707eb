// Scenario -> a running simulation: one node per service instance, running its
// service kind (harness/kinds/), one client node per workload, the network defaults
// and overrides, and the faults scheduled through sim::kernel::fault_injector.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/scenario/model.hpp"
#include "harness/workload/generator.hpp"
#include "harness/world/context.hpp"
#include "harness/world/data_ledger.hpp"
#include "harness/world/observations.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness {

// The observations' rows of every service, endpoint and edge (world's first step;
// meshsim serve builds its real world with it too).
void register_stats(world_context& ctx);
// A workload's plan: its target's instances (ctx.instances filled), its observations
// row (added here), its stop time and the endpoint's method.
workload_plan plan_workload(world_context& ctx, const scenario& s, const workload_config& w);
// After a run: what every instance's store holds, into ctx.data (the checkers' ledger).
void collect_data(world_context& ctx, const std::function<const sim::store&(sim::node_id)>& store_of);

class world {
public:
    // Builds every node and schedules the faults; nothing runs until run().
    // Faults the kernel rejects are in fault_errors() and nothing is scheduled then.
    world(const scenario& s, sim::kernel::simulation& sim);
    ~world();
    world(const world&) = delete;
    world& operator=(const world&) = delete;

    const std::vector<std::string>& fault_errors() const { return fault_errors_; }
    // The faults as scheduled (nemesis included), for the report.
    const std::vector<sim::kernel::fault_spec>& faults() const { return fault_specs_; }
    // When the last scheduled fault ends (time_zero when there is none).
    sim::time_point last_fault_end() const;

    observations& obs();
    const observations& obs() const;
    // After the run, before shutdown: reads what every instance's store holds
    // (records, replica copies) into the data ledger the checkers judge.
    void collect_data();
    const data_ledger& data() const;
    const scenario& scenario_config() const;

private:
    std::unique_ptr<world_context> ctx_;
    std::vector<std::string> fault_errors_;
    std::vector<sim::kernel::fault_spec> fault_specs_;
};

}  // namespace meshsim::harness
