// The auth kind's client side: a synthetic service with "auth": {"service", "cache_ttl"}
// validates each request's API key (x-api-key) against that auth service, caching
// each answer for cache_ttl, so a revoked key stops working within the TTL.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/scenario/model.hpp"
#include "harness/world/context.hpp"
#include "services/platform/client.hpp"

namespace meshsim::harness {

// A synthetic service's own keys beyond the station's (service_config::params).
struct synthetic_params final : kind_params {
    std::string auth;                           // an auth service; empty: none
    sim::duration cache_ttl = sim::seconds(1);  // how long an answer of auth is reused
};

// One instance's cached view of its auth service.
class auth_client {
public:
    enum class verdict : std::uint8_t { valid, invalid, unavailable };

    auth_client(world_context& ctx, sim::runtime& rt, svc::rpc_client& client, const std::string& caller,
                const synthetic_params& params);
    // A cached answer younger than the TTL, else auth's answer (cached); unavailable
    // when auth could not be asked (the request is then refused: fail closed).
    verdict check(const std::string& key, const svc::call_scope& scope);

private:
    struct answer {
        bool valid;
        sim::time_point at;  // monotonic_now() when auth answered
    };
    world_context& ctx_;
    sim::runtime& rt_;
    sim::duration ttl_;
    std::size_t edge_stats_;
    svc::call_edge edge_;
    std::map<std::string, answer, std::less<>> cache_;
};

}  // namespace meshsim::harness
