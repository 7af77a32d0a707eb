// The IDs a call carries, made here and nowhere else: correlation IDs (every call
// and log line of one request shares one; a request that enters the mesh without
// one gets one) and generated idempotency keys. Each kind draws from its own named
// stream of the node's process, so making one never shifts another draw.
#pragma once

#include <string>

#include "sim/runtime.hpp"

namespace meshsim::svc {

// A fresh correlation ID: 16 lowercase hex digits.
std::string new_correlation_id(sim::runtime& rt);

// A fresh idempotency key, for calls that ask for one: 16 lowercase hex digits.
std::string new_idempotency_key(sim::runtime& rt);

}  // namespace meshsim::svc
