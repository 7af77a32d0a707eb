#include <algorithm>

#include "harness/kinds/kinds.hpp"
#include "harness/kinds/service_kind.hpp"

namespace meshsim::harness {

const std::vector<service_kind>& all_service_kinds() {
    static const std::vector<service_kind> kinds = {
        {"synthetic",
         "the service template as a queueing station: instances x concurrency, FIFO/LIFO queue (CoDel, "
         "criticality), API keys, rate limits; per endpoint service time, calls, writes or replica records",
         "concurrency, queue, endpoints, api_keys, rate_limit", read_synthetic, run_synthetic},
        // operations
        {"registry",
         "service discovery: instances of services with a \"discovery\" key register and heartbeat; entries "
         "expire after the TTL; callers resolve through it from a cached list",
         "ttl, expiry_check", read_registry, run_registry},
        {"autoscaler",
         "adds and removes instances of a stateless service by utilisation (requests in the system per slot); "
         "callers follow through the mesh's pool",
         "service, min, initial, scale_up_at, scale_down_at, sample, interval, cooldown, startup, drain",
         read_autoscaler, run_autoscaler},
    };
    return kinds;
}

const service_kind* find_service_kind(std::string_view name) {
    const auto& all = all_service_kinds();
    const auto it = std::find_if(all.begin(), all.end(), [&](const service_kind& k) { return k.name == name; });
    return it == all.end() ? nullptr : &*it;
}

std::vector<std::string_view> service_kind_names() {
    std::vector<std::string_view> names;
    for (const service_kind& k : all_service_kinds()) names.push_back(k.name);
    return names;
}

}  // namespace meshsim::harness
