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
        // The platform group.
        {"gateway",
         "an aggregating front door: each endpoint calls its parts in parallel; a failed optional part gives a "
         "partial 200 (counted), a failed required one a 502",
         "concurrency, queue, endpoints (each with calls), api_keys, rate_limit", read_gateway, run_synthetic},
        {"database",
         "a service-wide durable store: synthetic writes naming it keep their records and dedupe keys there "
         "(synced before the answer); instances are shards by key; POST /records is a queueing station",
         "concurrency, queue, service_time, rate_limit", read_database, run_database},
        {"kv",
         "a versioned key-value store: GET /get gives value and version, PUT /put with if_version is a "
         "compare-and-set (409 on a stale version); workloads with \"contend\" are its read-modify-write clients",
         "concurrency, queue, service_time, rate_limit", read_kv, run_kv},
        {"auth",
         "issues API keys and revokes them on a schedule; synthetic services with \"auth\" validate keys "
         "against it through a cache (cache_ttl)",
         "keys, revoke, concurrency, queue, service_time, rate_limit", read_auth, run_auth},
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
