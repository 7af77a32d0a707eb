// The service template (server side) on top of rpc_server: versioned endpoints,
// API-key authentication, per-consumer rate limits, a concurrency limit with a
// bounded queue (FIFO, LIFO or CoDel-style shedding) and queue timeout, deadline
// honouring, simulated service time, idempotency-key deduplication, a health
// endpoint, self-registration with heartbeats, correlation IDs and metrics.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "services/platform/client.hpp"
#include "services/platform/config_errors.hpp"
#include "services/platform/idempotency.hpp"
#include "services/platform/metrics.hpp"
#include "services/platform/rate_limiter.hpp"
#include "services/platform/registry.hpp"
#include "services/platform/rpc.hpp"
#include "sim/distribution.hpp"
#include "sim/runtime.hpp"
#include "sim/sync.hpp"

namespace meshsim::svc {

// Which waiting request a freed concurrency slot goes to: the semaphore's hand-off order.
using sim::queue_discipline;
using sim::to_string;

// CoDel (Nichols & Jacobson, RFC 8289) applied to a server's request queue, as in
// Facebook's "Fail at scale": defaults are CoDel's 5 ms target and 100 ms interval.
struct codel_config {
    // A request that waited at least this long counts as "above target".
    sim::duration target = sim::milliseconds{5};
    // Once every request leaving the queue for this long waited at least `target`
    // (the minimum queue delay stayed above it: a standing queue), requests that
    // waited at least `target` are shed with 503 until one leaves below it.
    sim::duration interval = sim::milliseconds{100};

    config_errors validate() const;
};

// CoDel's state machine, fed with each request leaving the queue (a request that
// never waited leaves with sojourn 0). Unlike RFC 8289 there is no sqrt control
// law: while dropping, every request above target is shed, so a server queue
// drains of stale work at once (Facebook's variant sheds with a short timeout).
class codel_state {
public:
    explicit codel_state(codel_config config) : config_(config) {}

    // True: shed this request.
    bool on_dequeue(sim::time_point now, sim::duration sojourn);
    bool dropping() const { return dropping_; }

private:
    codel_config config_;
    // While requests leave above target: when the first of them left, plus interval.
    std::optional<sim::time_point> shed_from_{};
    bool dropping_ = false;
};

// SRE book criticalities, x-criticality: CRITICAL_PLUS 3, CRITICAL 2,
// SHEDDABLE_PLUS 1, SHEDDABLE 0. Missing or unknown counts as CRITICAL (Google's default).
int criticality_rank(std::string_view criticality);

struct service_config {
    std::string name = "service";
    sim::port_id port = 80;
    // Requests handled at once; 0 = no limit (and no queue).
    std::uint32_t max_concurrent_requests = 0;
    // Requests that may wait for a slot; one more is shed at once with 503.
    std::uint32_t queue_capacity = 64;
    // A request that waited this long for a slot is shed with 503; 0 = never wait,
    // sim::duration::max() = wait as long as it takes.
    sim::duration queue_timeout = sim::seconds{1};
    // Which waiter a freed slot goes to.
    queue_discipline queue_order = queue_discipline::fifo;
    // CoDel-style shedding of requests that waited too long under a standing queue; off when empty.
    std::optional<codel_config> codel{};
    // SRE book criticality: when the queue is full, an arrival that outranks a waiter
    // (x-criticality) takes its place and the waiter is shed (503); else the arrival is.
    bool shed_by_criticality = false;
    // Drop (504, no work done) a request whose propagated deadline passed, checked on
    // arrival and again when it leaves the queue. Off, the server still does the work
    // for callers that gave up: the cascade the simulator must be able to show.
    bool honour_deadlines = false;
    // Per consumer (the API key, else the calling node): 429 with retry-after-ns.
    std::optional<rate_limit_config> rate_limit{};
    // GET /health (version 1), exempt from auth, limits and queueing.
    bool health_endpoint = true;
    // Self-registration (Eureka / Consul agent style): when set, the service
    // registers {name, instance_id, node:port, version} there when it starts serving
    // and heartbeats every registration.heartbeat_interval. It never deregisters on
    // a crash (a crashed process runs no code): the registry's TTL removes it.
    std::optional<sim::address> registry_address{};
    registration_config registration{};
    // Empty: the node's name.
    std::string instance_id{};
    std::string version{};
    // The port the registration agent's rpc_client receives replies on; distinct
    // from rpc_client's default (49152) so handlers can own a client of their own.
    sim::port_id registration_reply_port = 49151;

    config_errors validate() const;
};

struct endpoint_spec {
    std::string method = "GET";
    std::string path = "/";
    int api_version = 1;
    // Empty: public. Else the caller's API key must be granted this scope (401/403).
    std::string required_scope{};
    // CPU work done before the handler runs, via rt.compute (slow-CPU faults scale it).
    sim::duration_distribution service_time = sim::duration_distribution::constant(sim::duration::zero());
    // Requests carrying an idempotency-key run at most once per (consumer, key).
    bool deduplicate = false;
    // Overrides the service's honour_deadlines for this endpoint when set.
    std::optional<bool> honour_deadline{};
    // Told of every request to the endpoint, whatever its outcome; must outlive the service.
    class request_observer* observer = nullptr;
};

// Sees every request an endpoint receives: when it arrived, and its status when
// answered (401, 429, 503 and 504 included). For metrics and test harnesses.
class request_observer {
public:
    virtual ~request_observer() = default;
    virtual void arrived(sim::time_point at) = 0;
    virtual void answered(sim::time_point arrived, sim::time_point at, std::uint16_t status) = 0;
};

class service;

// What a handler sees: the runtime, who called, and the scope its outgoing calls inherit.
struct endpoint_context {
    sim::runtime& rt;
    service& svc;
    sim::address caller{};
    // Correlation ID (received or generated), propagated deadline (node-local), criticality.
    call_scope scope;
    // The authenticated consumer; empty for public endpoints called without a key.
    std::string api_key{};
    // Why the service answered without running the handler (queue_full, codel, ...;
    // static text), empty when it ran; and when the handler started, if it did.
    std::string_view reason{};
    std::optional<sim::time_point> started{};

    // A structured log line that carries the correlation ID and the service name.
    void log(std::string_view event, nlohmann::json fields = nlohmann::json::object()) const;
    // Runs another version of the same endpoint in-process (v1 relaying to v2).
    response relay(int api_version, const request& req);
    // call_options for an outgoing call made on behalf of this request.
    call_options outgoing(call_options options = {}) const;
    bool deadline_passed() const { return rt.now() >= scope.deadline; }
};

using endpoint_handler = std::function<response(const request&, endpoint_context&)>;

struct service_stats {
    std::uint64_t arrivals = 0;
    std::uint64_t handled = 0;             // reached the handler
    std::uint64_t unauthenticated = 0;     // 401
    std::uint64_t forbidden = 0;           // 403
    std::uint64_t rate_limited = 0;        // 429
    std::uint64_t shed_queue_full = 0;     // 503
    std::uint64_t shed_queue_timeout = 0;  // 503
    std::uint64_t shed_codel = 0;          // 503, CoDel shed it on leaving the queue
    std::uint64_t shed_criticality = 0;    // 503, evicted from the queue by a more critical request
    std::uint64_t dropped_expired = 0;     // 504, deadline honoured
    std::uint64_t expired_but_served = 0;  // the caller's deadline had passed, work done anyway
    std::uint64_t in_flight = 0;
    std::uint64_t queue_depth = 0;
    std::uint64_t queue_depth_max = 0;
};

class service {
public:
    // `metrics` (optional) receives arrivals and completions under key
    // {config.name, node name, "in"}.
    service(sim::runtime& rt, service_config config, metrics_registry* metrics = nullptr);
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    void add_endpoint(endpoint_spec spec, endpoint_handler handler);

    // API keys, issued and revoked at runtime. A key holds scopes; "*" grants all.
    void issue_key(const std::string& key, std::set<std::string> scopes);
    void revoke_key(const std::string& key);
    // Its own token bucket for one consumer (API key or caller node).
    void set_consumer_limit(const std::string& consumer, rate_limit_config limit);
    // Readiness: while false, /health answers 503 (load balancers and deploys read it).
    void set_ready(bool ready) { ready_ = ready; }
    // Told +1 when a request starts waiting for a slot and -1 when it stops waiting.
    void on_queue_change(std::function<void(int delta)> listener) { queue_listener_ = std::move(listener); }

    // Serves requests until the node dies: call from a fiber of its own, or use start().
    // Both begin self-registration first when config.registry_address is set.
    void serve();
    void start();
    // Nullptr unless self-registration is configured and serving has begun.
    const registration_agent* registration() const { return agent_ ? &*agent_ : nullptr; }

    const service_config& config() const { return config_; }
    const service_stats& stats() const { return stats_; }
    sim::runtime& runtime() { return rt_; }

private:
    friend struct endpoint_context;
    struct endpoint {
        endpoint_spec spec;
        endpoint_handler handler;
        sim::random_stream* service_time;  // this process's stream, resolved once
    };
    struct endpoint_key {
        std::string method;
        std::string path;
        int api_version;
        friend auto operator<=>(const endpoint_key&, const endpoint_key&) = default;
    };

    response handle(const endpoint& ep, const request& req, request_context& rctx);
    response admit(const endpoint& ep, const request& req, endpoint_context& ctx);
    response run_in_slot(const endpoint& ep, const request& req, endpoint_context& ctx);
    response run(const endpoint& ep, const request& req, endpoint_context& ctx);
    std::optional<response> authenticate(const endpoint& ep, endpoint_context& ctx);
    std::optional<response> limit_rate(endpoint_context& ctx);
    std::optional<response> drop_if_expired(const endpoint& ep, endpoint_context& ctx, std::string_view where);
    void queue_changed(int delta);
    bool shed_by_codel(sim::duration sojourn);
    call_scope scope_of(const request& req, const span_context& span);
    response health() const;
    void record(sim::time_point arrived, std::uint16_t status);
    void start_registration();

    sim::runtime& rt_;
    service_config config_;
    metrics_registry* metrics_;
    metrics_key metrics_key_;
    rpc_server server_;
    std::map<endpoint_key, endpoint> endpoints_;
    std::map<std::string, std::set<std::string>> keys_;
    std::optional<rate_limiter> limiter_;
    // The concurrency limit: a permit per slot, waiters ranked by criticality.
    std::optional<sim::semaphore> slots_;
    std::optional<codel_state> codel_;
    idempotency_cache dedup_;
    service_stats stats_;
    bool ready_ = true;
    std::function<void(int)> queue_listener_;
    // Declared last: the agent's fiber uses the client, and both use rt_.
    std::optional<rpc_client> registry_client_;
    std::optional<registration_agent> agent_;
};

// Reads x-deadline-ns (the caller's remaining budget) as a node-local deadline.
std::optional<sim::time_point> propagated_deadline(const request& req, sim::time_point now);

}  // namespace meshsim::svc
