// Service discovery: the registry service (self-registration, heartbeats, TTL
// expiry, lookup), the instance-side registration agent that heartbeats from a
// fiber, and the client-side discovery cache that keeps serving its last list
// when the registry cannot be reached. The registry is an rpc_server on its own
// node, so it crashes and partitions like any other service.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "services/platform/config_errors.hpp"
#include "services/platform/rpc.hpp"
#include "sim/message.hpp"
#include "sim/runtime.hpp"
#include "sim/time.hpp"

namespace meshsim::svc {

// Consul's well-known HTTP port; any port works if every party agrees.
inline constexpr sim::port_id registry_port = 8500;

// One registered instance of a service, as the registry and its clients see it.
struct instance_info {
    std::string service;
    std::string instance_id;  // unique within the service, stable across restarts
    sim::address address;
    std::string version;  // deployed version, e.g. "1.4.2"
    nlohmann::json metadata = nlohmann::json::object();

    friend bool operator==(const instance_info&, const instance_info&) = default;
};

// Addresses on the wire: {"node": n, "port": p}. Shared with services/messaging.
nlohmann::json address_to_json(sim::address a);
std::optional<sim::address> address_from_json(const nlohmann::json& j);

nlohmann::json to_json(const instance_info& info);
// Tolerant: unknown fields are ignored, missing optional ones take defaults.
std::optional<instance_info> instance_from_json(const nlohmann::json& j);

struct registry_config {
    // An instance not heard from for this long is removed (Consul check TTL,
    // Eureka's lease duration; Eureka defaults to 90 s, we use 30 s = 3 heartbeats).
    sim::duration ttl = sim::seconds{30};
    // How often the registry sweeps out expired instances. Lookups also filter
    // expired ones, so this only bounds how late the "expired" log line comes.
    sim::duration expiry_check_interval = sim::seconds{1};

    config_errors validate() const;
};

// The registry's state machine, without the network: registrations live in
// memory only (a restarted registry is empty until instances heartbeat again,
// get 404 and re-register, as with Eureka).
class registry_table {
public:
    explicit registry_table(registry_config config) : config_(config) {}

    void register_instance(const instance_info& info, sim::time_point now);
    // False when the instance is unknown (expired or never registered): the
    // instance must register again.
    bool heartbeat(const std::string& service, const std::string& instance_id, sim::time_point now);
    bool deregister(const std::string& service, const std::string& instance_id);
    // Live instances of `service`, in instance-id order.
    std::vector<instance_info> lookup(const std::string& service, sim::time_point now) const;
    // When the registry last heard from the instance (registration or heartbeat). The
    // registry_service passes its monotonic clock: a lease is a duration it times itself.
    std::optional<sim::time_point> last_heartbeat(const std::string& service, const std::string& instance_id) const;
    // Removes every instance whose last heartbeat is older than the TTL.
    std::vector<instance_info> expire(sim::time_point now);

private:
    struct entry {
        instance_info info;
        sim::time_point last_heartbeat;
    };
    bool alive(const entry& e, sim::time_point now) const { return now - e.last_heartbeat < config_.ttl; }

    registry_config config_;
    std::map<std::string, std::map<std::string, entry>> services_;  // service -> instance id -> entry
};

// The registry as a service. Routes (all api version 1):
//   POST   /registry/instances          body: instance_info   -> 200
//   PUT    /registry/heartbeat          body: {service, instance_id} -> 200, 404 unknown
//   DELETE /registry/instances          body: {service, instance_id} -> 200, 404 unknown
//   GET    /registry/instances          body: {service} -> 200 {instances: [...]}
class registry_service {
public:
    registry_service(sim::runtime& rt, registry_config config, sim::port_id port = registry_port);

    // Spawns the server loop and the expiry sweeper. The object must outlive them
    // (construct it in the node's boot fiber, which outlives what it spawns).
    void start();

    const registry_table& table() const { return table_; }

private:
    void add_routes();
    void sweep_forever();

    sim::runtime& rt_;
    registry_config config_;
    registry_table table_;
    rpc_server server_;
};

struct registration_config {
    // Time between heartbeats; keep it well below the registry's TTL.
    sim::duration heartbeat_interval = sim::seconds{10};
    // Per-call deadline for register and heartbeat calls.
    sim::duration call_timeout = sim::seconds{1};

    config_errors validate() const;
};

// Instance side: registers at start and heartbeats from its own fiber. A
// heartbeat answered 404 (the registry forgot us: restart or expiry) triggers an
// immediate re-registration; network failures are retried at the next beat.
class registration_agent {
public:
    registration_agent(rpc_client& client, sim::address registry, instance_info self, registration_config config);

    // Spawns the heartbeat fiber.
    void start();
    bool registered() const { return registered_; }

private:
    void beat_forever();
    bool try_register();
    void beat_once();

    rpc_client& client_;
    sim::address registry_;
    instance_info self_;
    registration_config config_;
    bool registered_ = false;
};

struct discovery_config {
    // How often each watched service's list is fetched again.
    sim::duration refresh_interval = sim::seconds{5};
    // Per-call deadline for a lookup.
    sim::duration call_timeout = sim::seconds{1};

    config_errors validate() const;
};

// Client side ("smart client"): caches the instance list per watched service and
// refreshes it periodically. When a refresh fails the cached list stays in use and
// the entry is marked stale (record_state "discovery/<service>" -> "stale"); so it
// does when the registry answers an empty list while the cache holds instances (a
// registry restarted empty, before the instances registered again).
class discovery_client {
public:
    discovery_client(rpc_client& client, sim::address registry, discovery_config config);

    // Adds a service to the refreshed set (fetched at the next refresh).
    void watch(const std::string& service);
    // Spawns the refresh fiber: refresh every watched service, then sleep.
    void start();
    // Fetches one service's list now. True on success; on failure the cache is kept.
    bool refresh(const std::string& service);

    // The cached list (empty if never fetched).
    const std::vector<instance_info>& instances(const std::string& service) const;
    // True when the last refresh failed (or none succeeded yet).
    bool stale(const std::string& service) const;
    // On the monotonic clock (runtime::monotonic_now).
    std::optional<sim::time_point> last_success(const std::string& service) const;
    // Changes exactly when the cached list of `service` changes (0 before the first
    // non-empty fetch), so a call edge can follow the list without comparing it.
    std::uint64_t generation(const std::string& service) const;

private:
    struct cache_entry {
        std::vector<instance_info> instances;
        std::uint64_t generation = 0;
        std::optional<sim::time_point> last_success;
        bool stale = true;
        bool reported = false;  // the first refresh always records its state
    };
    void refresh_forever();
    void mark(const std::string& service, cache_entry& entry, bool stale);

    rpc_client& client_;
    sim::address registry_;
    discovery_config config_;
    std::map<std::string, cache_entry> cache_;
};

}  // namespace meshsim::svc
