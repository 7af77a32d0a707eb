// What the world asks of the autoscaler kind (harness/kinds/autoscaler.cpp) while it
// builds the nodes: which instances of a scaled service start held back, and the
// pools the scaled services start with.
#pragma once

#include <cstdint>
#include <string>

#include "harness/scenario/model.hpp"
#include "harness/world/context.hpp"

namespace meshsim::harness {

// True when instance (1-based) of s is beyond its autoscaler's `initial`: its node
// exists but is not started.
bool held_back(const scenario& sc, const service_config& s, std::uint32_t instance);
// The autoscaler service that scales `service`; "" when none does.
std::string scaler_of(const scenario& sc, const std::string& service);
// Each scaled service's pool: its first `initial` instances.
void prepare_autoscalers(world_context& ctx);

}  // namespace meshsim::harness
