// Service discovery from scenario files: the `registry` kind (the platform's
// registry_service: registrations with heartbeats, TTL expiry, lookups) and a
// service's "discovery" key, with which its instances register themselves and its
// callers resolve its instances through the registry, from a cached list they
// refresh every `cache` and keep using while the registry cannot be reached.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "harness/kinds/service_kind.hpp"
#include "services/platform/client.hpp"
#include "services/platform/registry.hpp"
#include "services/platform/service.hpp"

namespace meshsim::harness {

struct registry_params final : kind_params {
    sim::duration ttl = sim::seconds(3);  // an instance not heard from for this long is removed
    sim::duration expiry_check = sim::milliseconds(500);
};

// A service's "discovery" key (any kind); called by the loader before the kind's keys.
void read_discovery(object_reader& r, service_config& s, kind_reader& load);

// The template's self-registration for an instance of a service with "discovery"
// (unchanged for a service without it).
svc::service_config with_registration(svc::service_config t, const world_context& world, const service_config& s);

// The call edges of one caller instance: an edge to a service with "discovery"
// follows the registry through a cached list (one discovery client per callee,
// refreshed every callee's `cache`); until the first lookup lists an instance it
// uses the configured instances as a seed list. Edges to other services use the
// mesh's pool of the callee (world_context::pools: deploys, autoscalers), else the
// configured instances. Must outlive the edges it makes.
class caller_edges {
public:
    caller_edges(sim::runtime& rt, world_context& world);
    std::unique_ptr<svc::call_edge> edge(svc::rpc_client& client, const std::string& caller, const std::string& callee);
    // Before each call on a pool-following edge: takes the callee's pool if it changed.
    void follow(svc::call_edge& edge, const std::string& callee);

private:
    sim::runtime& rt_;
    world_context& world_;
    std::unique_ptr<svc::rpc_client> lookups_;  // made at the first followed edge
    std::map<std::string, std::unique_ptr<svc::discovery_client>, std::less<>> followed_;  // by callee
    std::map<std::string, std::uint64_t, std::less<>> pool_generation_;  // by callee: the pool last taken
};

}  // namespace meshsim::harness
