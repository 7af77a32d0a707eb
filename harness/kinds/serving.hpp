// What service kinds share while they serve: counting an endpoint's requests into
// the observations, the platform's service template configured from a scenario's
// station, calls on an edge counted into its stats, and the store layout the data
// checkers read after the run.
#pragma once

#include <cstdint>
#include <string>

#include "harness/kinds/service_kind.hpp"
#include "harness/scenario/model.hpp"
#include "harness/world/context.hpp"
#include "services/platform/client.hpp"
#include "services/platform/service.hpp"

namespace meshsim::harness {

// Who a call acts for, set by a service on the calls a request makes once it was
// authenticated (a stand-in for a signed token such as a JWT); clients cannot set it.
inline constexpr const char* principal_header = "x-meshsim-principal";

// The session a read endpoint looks up (a session workload's login's idempotency key).
inline constexpr const char* session_header = "x-meshsim-session";

// Where instances keep what the data checkers read (world::collect_data): a
// service's records under data/<key>, replica records under replica/<source>/<key>.
inline const std::string data_prefix = "data/";
inline const std::string replica_prefix = "replica/";

// Counts every request an endpoint answers into the run's observations: the
// endpoint's row and the serving instance's (obs.add_instance) row.
class endpoint_probe final : public svc::request_observer {
public:
    endpoint_probe(observations& obs, std::size_t stats, std::size_t instance)
        : obs_(obs), stats_(stats), instance_(instance) {}
    void arrived(sim::time_point at) override;
    void answered(sim::time_point arrived, sim::time_point at, std::uint16_t status) override;
    // The answer being made is partial: an optional call failed (counted as flow_stats::partial).
    void partial() { ++obs_.endpoint(stats_).partial; }

private:
    observations& obs_;
    std::size_t stats_;
    std::size_t instance_;
};

// The platform's service template configured as a scenario service's station:
// its concurrency limit and queue are the queueing station.
svc::service_config template_config(const service_config& cfg);

svc::response status(std::uint16_t code);

// One call on an edge, counted into the edge's stats (and the breaker state it leaves behind).
svc::call_outcome call_on_edge(world_context& world, sim::runtime& rt, svc::call_edge& edge, std::size_t edge_stats,
                               svc::request req, const svc::call_options& options);

// The queue-depth series of a service follows its instances' template queues.
void observe_queue(world_context& world, sim::runtime& rt, svc::service& server, std::size_t service);

// A kv store's records are kv/<key> (kv_prefix, with its paths in model.hpp).

// A kind that serves only endpoints of its own (a database's POST /records): reads
// the station keys and "service_time" (of every one of them), refuses "endpoints"
// and "api_keys" from the file (only services that name it call it), and adds `own`.
void read_own_endpoints(object_reader& r, service_config& s, kind_reader& load, std::vector<endpoint_config> own);
// Serves config.endpoints (those read_own_endpoints added), each with its handler
// (same order) and counted by its probe, on the platform's service template.
void serve_own_endpoints(instance_env& env, const std::vector<svc::endpoint_handler>& handlers);

// Which of `shards` instances holds a key (a store's instances are shards): stable across runs.
std::size_t shard_of(std::string_view key, std::size_t shards);

}  // namespace meshsim::harness
