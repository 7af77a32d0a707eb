// A scenario as plain structs: what the loader produces from a scenario file and
// the world builder consumes. Every field says its unit; defaults here are the
// defaults of the file format (docs/scenario-format.md documents each key).
// Client policies reuse the platform's own config structs, so a scenario edge
// configures exactly what the platform code implements.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "services/platform/adaptive_throttle.hpp"
#include "services/platform/circuit_breaker.hpp"
#include "services/platform/client.hpp"
#include "services/platform/load_balancer.hpp"
#include "services/platform/planted_bug.hpp"
#include "services/platform/rate_limiter.hpp"
#include "services/platform/retry_budget.hpp"
#include "services/platform/retry_policy.hpp"
#include "services/platform/retry_throttle.hpp"
#include "services/platform/service.hpp"
#include "sim/distribution.hpp"
#include "sim/kernel/faults.hpp"
#include "sim/kernel/nemesis.hpp"
#include "sim/kernel/network.hpp"
#include "sim/time.hpp"

namespace meshsim::harness {

// --- services ---------------------------------------------------------------------

// One instance's admission is the platform's service template (svc::service_config):
// `concurrency` requests in service at once, up to `queue.capacity` waiting; a
// request that finds the queue full, or waits longer than `queue.timeout`, is
// answered 503 without being served. A scenario's defaults differ from the
// template's (scenario_station_defaults()): one server, a queue of 1000 with no timeout.
svc::service_config scenario_station_defaults();

// A downstream call an endpoint makes while serving a request.
struct downstream_call {
    std::string service;
    std::string endpoint;  // path
    int version = 1;
    double probability = 1.0;  // made on this fraction of requests
    // A failed required call fails the request (502); an optional one is ignored.
    bool required = true;
    std::string api_key;  // sent as x-api-key; empty: none
};

enum class fanout_mode : std::uint8_t { sequential, parallel };

// --- data: writes, their events, replicas (what the safety and liveness checkers judge)

// When a write is made durable: before the answer (sync, then 200), or by a
// background flush every sync_interval (answer first: a crash in between loses an
// acknowledged write).
enum class write_sync : std::uint8_t { before_ack, periodic };
// How a write's event reaches the replicas: a transactional outbox (record and
// event committed together, a relay publishes until accepted) or a dual write
// (store, then call each replica once from the request: a failed call loses the event).
enum class publish_mode : std::uint8_t { outbox, dual_write };

struct publish_target {
    std::string service;
    std::string endpoint;  // a "replica" endpoint of that service, or a broker's "/broker/publish"
    int version = 1;
    std::string api_key;  // sent as x-api-key; empty: none
    std::string topic;    // a broker's topic the event is appended to; empty: not a broker
};

// A write endpoint stores one record per logical request, keyed by the request's
// idempotency key (clients send one on every write; retries repeat it).
struct write_config {
    write_sync sync = write_sync::before_ack;
    sim::duration sync_interval = sim::milliseconds(100);
    // Skip the write (and its effect) when the key was written before: the
    // instance keeps the keys it saw in its own store, next to the records.
    bool dedupe = false;
    // A database service that keeps the records and the dedupe keys instead of the
    // instance's own store (shared by every instance); empty: the instance's store.
    std::string database;
    publish_mode publish = publish_mode::outbox;
    std::vector<publish_target> publish_to;
    // Fields each of the endpoint's events carries beside the ones every event has
    // (source, key, endpoint): an additive change to the event's schema.
    std::vector<std::string> event_fields;
};

// A read endpoint answers whether the record a write endpoint of the same service
// keeps under the request's session exists, wherever that endpoint keeps it (its
// database, else the serving instance's own store, unsynced writes included: its
// memory). The session is the login's idempotency key, carried in session_header
// (harness/kinds/serving.hpp): 200 found, 404 not found, 400 without a session.
struct read_config {
    std::string from;  // the path of a write endpoint of the same service
    int version = 1;   // of that endpoint
};

// How a replica endpoint reads an event: a tolerant reader ignores fields it does not
// know (Fowler's TolerantReader); a strict one refuses the event (400), as a schema
// with no additional properties or Jackson's default FAIL_ON_UNKNOWN_PROPERTIES does.
enum class event_reader : std::uint8_t { tolerant, strict };

// An endpoint's behaviour while a feature flag is on for the request (the flag's
// rollout percentage, read at request time: harness/world/actions.cpp).
struct flag_variant {
    std::string flag;                  // a "flag" action's name
    std::optional<double> error_rate;  // instead of the endpoint's
    std::uint16_t error_status = 500;
    std::optional<sim::duration_distribution> extra_time;  // spent after the service time
};

struct endpoint_config {
    std::string path;
    int version = 1;
    std::string method = "GET";
    sim::duration_distribution service_time = sim::duration_distribution::constant(sim::milliseconds(1));
    // Fraction of requests answered with error_status after the service time.
    double error_rate = 0;
    std::uint16_t error_status = 500;
    fanout_mode fanout = fanout_mode::sequential;
    std::vector<downstream_call> calls;
    // Drop a request whose propagated deadline passed while it waited (504).
    bool honour_deadline = false;
    std::optional<write_config> write;
    std::optional<read_config> read;
    // Stores every event it receives as a replica record (synced before it answers).
    bool replica = false;
    event_reader reader = event_reader::tolerant;  // only for a replica endpoint
    // An endpoint of a kind's own protocol (a broker's publish, a kv's get and put, a
    // database's records, an auth's validate): reached through the key that names its
    // service (publish_to with a topic, write.database, contend, auth), never by a call
    // or a plain workload.
    bool internal = false;
    std::optional<flag_variant> flag;
};

// Self-registration with a registry service (harness/kinds/discovery.cpp): each
// instance registers and heartbeats; callers resolve its instances through the
// registry, keeping a cached list they refresh every `cache` (and keep using while
// the registry cannot be reached).
struct discovery_settings {
    std::string registry;  // a service of kind "registry"
    sim::duration heartbeat = sim::seconds(1);
    sim::duration cache = sim::seconds(5);
    sim::duration call_timeout = sim::milliseconds(200);  // of register, heartbeat and lookup calls
};

// A service kind's own parameters (harness/kinds/): each kind derives its struct.
struct kind_params {
    virtual ~kind_params() = default;
};

// What a service's processes time durations with (breaker timers, cache TTLs, the
// leases a registry grants): the monotonic clock, as real runtimes do, or the wall
// clock (clock faults and all), the mistake "timers": "wall_clock" shows.
enum class timer_clock : std::uint8_t { monotonic, wall_clock };

struct service_config {
    std::string name;
    std::string kind = "synthetic";             // a registered service kind (harness/kinds/registry.cpp)
    std::shared_ptr<const kind_params> params;  // the kind's own keys; null for kinds without any
    // Services this kind's instances call besides its endpoints' calls (a consumer's
    // broker, a worker's queue): each such edge gets its policy (edges, default_edge) and stats.
    std::vector<std::string> talks_to;
    // The kind applies effects the data checkers judge without write endpoints (a
    // consumer's events, a worker's jobs): no_duplicate_effects may name it.
    bool applies_effects = false;
    // Services whose endpoints this kind delivers the events it receives to (a
    // webhook's subscribers): a replica fed through it counts as fed by its publishers.
    std::vector<std::string> forwards_to;
    std::uint32_t instances = 1;
    // Admission (concurrency, queue, CoDel, criticality shedding, rate limit per consumer):
    // the keys a kind reads with read_station_keys; name and port are the world's.
    svc::service_config station = scenario_station_defaults();
    std::vector<endpoint_config> endpoints;
    // Accepted API keys; empty: no authentication. Unknown key 401.
    std::vector<std::string> api_keys;
    std::optional<discovery_settings> discovery;  // "discovery": registered, callers resolve through it
    timer_clock timers = timer_clock::monotonic;  // "timers"
};

// --- call edges -------------------------------------------------------------------

// The client policy of a call edge is the platform's own svc::edge_policy. In a
// scenario file a component (retry budget, breaker, bulkhead, ...) is on only when
// its key is present: scenario_edge_defaults() switches them all off.
using edge_policy = svc::edge_policy;
edge_policy scenario_edge_defaults();

struct edge_config {
    std::string from;  // a service name
    std::string to;
    edge_policy policy;
};

// --- workloads --------------------------------------------------------------------

enum class arrival_process : std::uint8_t { poisson, constant };
enum class rate_change_kind : std::uint8_t { step, ramp, spike };

// A change of an open loop's rate. step: from `at` on, the rate is rate_per_s.
// ramp: linear from the rate at `at` to rate_per_s at `at + length`. spike:
// rate_per_s during [at, at + length), then the rate from before.
struct rate_change {
    rate_change_kind kind = rate_change_kind::step;
    sim::duration at{0};
    sim::duration length{0};
    double rate_per_s = 0;
};

struct open_loop_config {
    arrival_process arrivals = arrival_process::poisson;
    double rate_per_s = 0;
    std::vector<rate_change> schedule;  // by `at`
};

struct closed_loop_config {
    std::uint32_t users = 1;
    sim::duration_distribution think_time = sim::duration_distribution::constant(sim::duration{0});
};

// The read-modify-write clients of a kv store (kind "kv"): each of `clients` makes
// `updates` increments of `key`, one after another: GET /get, then PUT /put of
// value + 1 with "if_version" (compare-and-set); a 409 Conflict waits the client
// policy's retry backoff and starts the update over, until it succeeds. Without
// compare_and_set the PUT is blind (last writer wins), so updates can be lost.
struct contend_config {
    std::string key;
    std::uint32_t clients = 1;
    std::uint32_t updates = 1;
    bool compare_and_set = true;
};

// A kv store's endpoints and records (kv/<key> = {"value", "version"}).
inline const std::string kv_get_path = "/get";
inline const std::string kv_put_path = "/put";
inline const std::string kv_prefix = "kv/";

// A database's lookup of one record: GET /records/lookup {"table", "key"} -> 200 or
// 404, served only by a database some read endpoint reads from (the loader adds it).
inline const std::string database_lookup_path = "/records/lookup";

// A workload whose requests are sessions: each request (a write: the login) is
// followed, once it succeeded, by `reads` calls of a read endpoint of the same
// service carrying the login's idempotency key as the session, `think_time` apart
// (and after the login). One session is one request of the workload: it succeeds
// when the login and every read succeed; its latency is the whole session's; its
// attempts are every call's.
struct session_config {
    std::string endpoint;  // a read endpoint of the workload's service
    int version = 1;
    std::uint32_t reads = 1;
    sim::duration_distribution think_time = sim::duration_distribution::constant(sim::duration{0});
};

struct workload_config {
    std::string name;
    std::string service;
    std::string endpoint;
    int version = 1;
    std::string api_key;      // empty: none sent
    std::string criticality;  // x-criticality (SRE book); empty: none sent (counts as CRITICAL)
    sim::duration start{0};
    std::optional<sim::duration> stop;  // default: the scenario's duration
    std::optional<open_loop_config> open;
    std::optional<closed_loop_config> closed;
    std::optional<contend_config> contend;  // endpoint: the kv's PUT /put
    std::optional<session_config> session;  // open or closed workloads of a write endpoint
    edge_policy client = scenario_edge_defaults();
};

// --- network and faults -----------------------------------------------------------

struct link_override {
    std::string from;  // service names; "*" = every service
    std::string to;
    sim::kernel::link_config link;
};

struct network_config {
    sim::kernel::link_config defaults = {.latency = sim::duration_distribution::constant(sim::microseconds(500))};
    std::vector<link_override> links;
};

// What a fault kind read of one scenario fault (harness/fault_kinds/fault_kind.hpp).
class fault_parameters;

// One scheduled fault: its timing, its kind and what the kind read. Without `length`
// a fault lasts until the run ends.
struct fault_config {
    std::string kind;  // a registered fault kind's name
    sim::duration at{0};
    sim::duration length{0};        // 0: until the run ends
    sim::duration repeat_every{0};  // 0: once
    std::optional<sim::duration> repeat_until;
    // The service it targets (every instance, or one: 1-based) as its kind read it;
    // "" when the kind names no single service (most partitions).
    std::string service;
    std::uint32_t instance = 0;                          // 0: every instance
    std::shared_ptr<const fault_parameters> parameters;  // null only in a file with errors
};

// A seeded nemesis over the given services' instances (empty: every service).
struct nemesis_config {
    sim::kernel::nemesis_mode mode = sim::kernel::nemesis_mode::flip_flop;
    sim::duration start = sim::seconds(1);
    std::optional<sim::duration> stop;  // default: the scenario's duration
    sim::duration fault_length = sim::seconds(5);
    sim::duration interval = sim::seconds(5);
    std::vector<sim::kernel::fault_kind> kinds;  // empty: every kind
    std::vector<std::string> services;
};

// --- expectations -----------------------------------------------------------------

// What a checker read of its expectation: its own parameter struct, declared in its
// own file (harness/checkers/).
class checker_parameters;

struct expectation_config {
    std::string check;  // a registered checker's name, e.g. "slo"
    std::string label;  // as the report names it; default: derived from the parameters
    // A check that observed nothing (no requests, no writes, no calls) fails with
    // "no samples" unless this is set: an empty run must not pass by accident.
    bool allow_empty = false;
    std::shared_ptr<const checker_parameters> parameters;  // null only in a file with errors
};

// --- scheduled actions (harness/world/actions.cpp) ---------------------------------

// Changes an operator makes during the run, beside the faults: feature flag rollouts,
// rolling restarts, blue/green switches. Each action kind is registered once.
struct action_params {
    virtual ~action_params() = default;
};
struct action_config {
    std::string kind;
    std::shared_ptr<const action_params> params;
};

// --- the scenario -----------------------------------------------------------------

struct scenario {
    std::string name;
    std::string description;
    std::uint64_t seed = 1;
    sim::duration duration = sim::seconds(10);
    sim::duration warmup{0};
    sim::duration bucket = sim::seconds(1);
    std::vector<service_config> services;
    edge_policy default_edge = scenario_edge_defaults();
    std::vector<edge_config> edges;
    std::vector<workload_config> workloads;
    network_config network;
    std::vector<fault_config> faults;
    std::optional<nemesis_config> nemesis;
    std::vector<action_config> actions;
    std::vector<expectation_config> expectations;
    // Test-only: a deliberately broken platform component (none in every real scenario).
    svc::planted_bug planted_bug = svc::planted_bug::none;
    // Hash of the file's canonical JSON, so a summary names exactly what ran.
    std::uint64_t source_hash = 0;
    std::string source_file;

    const service_config* find_service(std::string_view name) const;
    // The policy of the edge from -> to: its own entry, else default_edge.
    const edge_policy& policy_for(std::string_view from, std::string_view to) const;
};

}  // namespace meshsim::harness
