// Shared by the platform tests: virtual instants written as offsets from time zero.
#pragma once

#include "sim/time.hpp"

namespace meshsim::svc::testing {

constexpr sim::time_point at(sim::duration since_start) { return sim::time_zero + since_start; }

}  // namespace meshsim::svc::testing
