// The service template (server side) on top of rpc_server: versioned endpoints,
// API-key authentication, per-consumer rate limits, a concurrency limit with a
// bounded FIFO queue and queue timeout, deadline honouring, simulated service time,
// idempotency-key deduplication, a health endpoint, correlation IDs and metrics.
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
#include "services/platform/rpc.hpp"
#include "sim/distribution.hpp"
#include "sim/runtime.hpp"
#include "sim/sync.hpp"

namespace meshsim::svc {

struct service_config {
    std::string name = "service";
    sim::port_id port = 80;
    // Requests handled at once; 0 = no limit (and no queue).
    std::uint32_t max_concurrent_requests = 0;
    // Requests that may wait for a slot; one more is shed at once with 503.
    std::uint32_t queue_capacity = 64;
    // A request that waited this long for a slot is shed with 503; 0 = never wait.
    sim::duration queue_timeout = sim::seconds{1};
    // Drop (504, no work done) a request whose propagated deadline passed, checked on
    // arrival and again when it leaves the queue. Off, the server still does the work
    // for callers that gave up: the cascade the simulator must be able to show.
    bool honour_deadlines = false;
    // Per consumer (the API key, else the calling node): 429 with retry-after-ns.
    std::optional<rate_limit_config> rate_limit{};
    // GET /health (version 1), exempt from auth, limits and queueing.
    bool health_endpoint = true;

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
    std::uint64_t handled = 0;  // reached the handler
    std::uint64_t unauthenticated = 0;   // 401
    std::uint64_t forbidden = 0;         // 403
    std::uint64_t rate_limited = 0;      // 429
    std::uint64_t shed_queue_full = 0;   // 503
    std::uint64_t shed_queue_timeout = 0;  // 503
    std::uint64_t dropped_expired = 0;   // 504, deadline honoured
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

    // Serves requests until the node dies: call from a fiber of its own, or use start().
    void serve() { server_.serve(); }
    void start();

    const service_config& config() const { return config_; }
    const service_stats& stats() const { return stats_; }
    sim::runtime& runtime() { return rt_; }

private:
    friend struct endpoint_context;
    struct endpoint {
        endpoint_spec spec;
        endpoint_handler handler;
    };
    struct endpoint_key {
        std::string method;
        std::string path;
        int api_version;
        friend auto operator<=>(const endpoint_key&, const endpoint_key&) = default;
    };

    response handle(const endpoint& ep, const request& req, const request_context& rctx);
    response admit(const endpoint& ep, const request& req, endpoint_context& ctx);
    response run_in_slot(const endpoint& ep, const request& req, endpoint_context& ctx);
    response run(const endpoint& ep, const request& req, endpoint_context& ctx);
    std::optional<response> authenticate(const endpoint& ep, endpoint_context& ctx);
    std::optional<response> limit_rate(const endpoint_context& ctx);
    std::optional<response> drop_if_expired(const endpoint_context& ctx, std::string_view where);
    call_scope scope_of(const request& req);
    response health() const;
    void record(sim::time_point arrived, std::uint16_t status);

    sim::runtime& rt_;
    service_config config_;
    metrics_registry* metrics_;
    metrics_key metrics_key_;
    rpc_server server_;
    std::map<endpoint_key, endpoint> endpoints_;
    std::map<std::string, std::set<std::string>> keys_;
    std::optional<rate_limiter> limiter_;
    std::optional<sim::semaphore> slots_;
    idempotency_cache dedup_;
    service_stats stats_;
    bool ready_ = true;
};

// Reads x-deadline-ns (the caller's remaining budget) as a node-local deadline.
std::optional<sim::time_point> propagated_deadline(const request& req, sim::time_point now);

}  // namespace meshsim::svc
