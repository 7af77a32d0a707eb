// Scheduled actions beside the faults: what an operator changes during a run.
// Each action kind is registered once (all_action_kinds) with its name, its keys,
// how it reads them from an entry of the scenario's "actions" list, and how the
// world schedules it:
//   flag            a feature flag rolled out by percentage over time; endpoints with
//                   a "flag" key read it at request time and behave differently when on
//   rolling_restart restarts a service's instances one at a time, each drained first
//                   (taken out of the mesh's pool until its in-flight requests finish)
//   blue_green      two fleets (first half blue, second half green): callers switch
//                   from blue to green at once; blue drains, then stops
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "harness/kinds/service_kind.hpp"
#include "harness/scenario/model.hpp"
#include "harness/world/context.hpp"

namespace meshsim::harness {

struct action_kind {
    std::string_view name;
    std::string_view description;  // one line, for `meshsim list`
    std::string_view keys;
    void (*read)(object_reader& r, action_config& a, kind_reader& load);
    // Schedules the action's steps on ctx.sim (called while the world is built).
    void (*schedule)(const action_config& a, world_context& ctx);
};

const std::vector<action_kind>& all_action_kinds();

// The scenario's "actions" list (the loader calls it with the root object).
void read_actions(object_reader& root, scenario& s, kind_reader& load);
// An endpoint's "flag" key (the loader calls it with the endpoint object).
void read_flag_variant(object_reader& r, endpoint_config& e, kind_reader& load);
// A service whose instances deploys or an autoscaler change: its callers must follow
// the mesh's pool (harness/world/pools.hpp), so no workload may call it directly (a
// workload's client keeps the configured instances) and it may not use "discovery".
void check_pool_target(kind_reader& load, value_reader service_at, const std::string& service);
// Schedules every action of the scenario (the world calls it once its nodes exist).
void schedule_actions(world_context& ctx);

// The flag's rollout percentage at `now` (0 before its first step).
double flag_percent(const scenario& s, std::string_view flag, sim::time_point now);
// Serves the part of an endpoint with a "flag" that depends on it: draws whether the
// flag is on for this request (at its percentage now), spends the variant's extra
// time when it is, and draws the error of whichever behaviour applies. The status to
// answer with when the request fails, else nothing.
std::optional<std::uint16_t> serve_flagged(sim::runtime& rt, const scenario& s, const endpoint_config& e);

}  // namespace meshsim::harness
