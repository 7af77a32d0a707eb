#include "services/platform/ids.hpp"

#include <cstdio>
#include <string_view>

namespace meshsim::svc {

namespace {
std::string hex_id(sim::runtime& rt, std::string_view stream) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(rt.random(stream).next_u64()));
    return text;
}
}  // namespace

std::string new_correlation_id(sim::runtime& rt) { return hex_id(rt, "svc/correlation-id"); }

std::string new_idempotency_key(sim::runtime& rt) { return hex_id(rt, "svc/idempotency-key"); }

}  // namespace meshsim::svc
