// The call pipeline of one downstream edge (the article's "client library"): the
// overall deadline and its propagation, the retry loop with its gates (policy,
// budget, gRPC throttle), hedging, circuit breaker, adaptive throttle, bulkhead,
// load balancing with outlier ejection over a fixed or a discovered instance list,
// and the headers every call carries.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/platform/adaptive_throttle.hpp"
#include "services/platform/circuit_breaker.hpp"
#include "services/platform/config_errors.hpp"
#include "services/platform/histogram.hpp"
#include "services/platform/load_balancer.hpp"
#include "services/platform/metrics.hpp"
#include "services/platform/outcome.hpp"
#include "services/platform/registry.hpp"
#include "services/platform/retry_budget.hpp"
#include "services/platform/retry_policy.hpp"
#include "services/platform/retry_throttle.hpp"
#include "services/platform/rpc.hpp"
#include "sim/runtime.hpp"
#include "sim/sync.hpp"

namespace meshsim::svc {

// resilience4j SemaphoreBulkhead defaults: 25 concurrent calls, no waiting.
struct bulkhead_config {
    std::uint32_t max_concurrent_calls = 25;
    // How long an attempt may wait for a free slot; 0 = fail fast with bulkhead_full.
    sim::duration max_wait = sim::duration::zero();

    config_errors validate() const;
};

// gRPC A6 hedgingPolicy. Exclusive with retries (A6): with max_attempts > 1 the
// retry policy's max_attempts must be 1.
struct hedging_config {
    // Attempts in total, the first included; 1 = no hedging.
    std::uint32_t max_attempts = 1;
    // A backup goes out when no answer came this long after the previous attempt was sent.
    sim::duration hedging_delay = sim::milliseconds{10};
    // In (0, 100]: the delay is instead this percentile of the edge's observed attempt
    // latencies (Finagle's backup requests; e.g. 95 = p95), once the edge has seen
    // hedging_delay_min_samples answers; until then hedging_delay. 0 = fixed delay.
    double hedging_delay_percentile = 0;
    std::uint64_t hedging_delay_min_samples = 20;

    bool enabled() const { return max_attempts > 1; }
    config_errors validate() const;
};

// What x-deadline-ns tells the server about an attempt's time.
enum class deadline_propagation_mode : std::uint8_t {
    // min(per-try timeout, remaining deadline): what this attempt may still take, so a
    // server honouring deadlines drops an attempt its client has given up on (Envoy's
    // x-envoy-expected-rq-timeout-ms with per_try_timeout).
    per_try,
    // The call's whole remaining deadline, retries included (gRPC deadline propagation).
    whole_call,
};
std::string_view to_string(deadline_propagation_mode mode);

// Everything configurable on one call edge. Components held in an optional are
// off when empty; the defaults switch on what gRPC/Envoy clients have by default.
struct edge_policy {
    // Timeout of one attempt (Envoy per_try_timeout).
    sim::duration timeout_per_try = sim::seconds{1};
    // Budget of the whole call, retries and backoff included (gRPC deadline, Envoy
    // route timeout). An inherited deadline that ends sooner wins.
    sim::duration deadline = sim::seconds{5};
    // Send the remaining budget downstream in x-deadline-ns.
    bool propagate_deadline = true;
    // Which budget: the attempt's (default) or the whole call's.
    deadline_propagation_mode deadline_propagation = deadline_propagation_mode::per_try;
    retry_policy_config retry{};
    std::optional<retry_budget_config> retry_budget = retry_budget_config{};
    std::optional<retry_throttle_config> retry_throttle{};
    std::optional<adaptive_throttle_config> adaptive_throttle{};
    hedging_config hedging{};
    std::optional<circuit_breaker_config> circuit_breaker = circuit_breaker_config{};
    std::optional<bulkhead_config> bulkhead = bulkhead_config{};
    load_balancer_config load_balancer{};

    config_errors validate() const;
};

// What an outgoing call inherits from the request being served, if any: the
// correlation ID and the deadline the caller propagated (node-local time).
struct call_scope {
    std::string correlation_id{};
    sim::time_point deadline = sim::time_never;
    std::string criticality{};
    // The server span of the request being served: the call's attempts are its children.
    span_context span{};
};

struct call_options {
    // Unset: GET, HEAD, OPTIONS, PUT and DELETE are idempotent (RFC 9110), others not.
    std::optional<bool> idempotent{};
    // Sent on every attempt; makes a non-idempotent call retryable.
    std::string idempotency_key{};
    // Draw a key from the seeded stream when none is given.
    bool generate_idempotency_key = false;
    // Non-empty: every attempt goes to the instance this key maps to (a partition
    // key, as a Kafka producer's record key), not to the balancer's choice.
    std::string partition_key{};
    // The request being served, for its correlation ID and deadline.
    const call_scope* scope = nullptr;
    // x-criticality (SRE book); empty = take the scope's, else none.
    std::string criticality{};
};

// Why the retry loop stopped.
enum class call_end : std::uint8_t {
    succeeded,
    not_retryable,       // the outcome is never retried (4xx, local rejection, ...)
    not_idempotent,      // retryable, but repeating it is unsafe
    attempts_exhausted,  // retry policy / hedging max_attempts reached
    budget_exhausted,    // the retry budget refused the retry
    retry_throttled,     // the gRPC retry throttle refused the retry
    deadline,            // the overall deadline passed, or would before the next attempt
};
inline constexpr std::size_t call_end_count = static_cast<std::size_t>(call_end::deadline) + 1;
std::string_view to_string(call_end end);

struct call_outcome {
    outcome result{};
    std::optional<response> reply{};
    call_end end = call_end::succeeded;
    // Attempts that went past the local gates (sent to an instance), hedges included.
    std::uint32_t attempts_sent = 0;
    // Counted where decided: retries the retry loop admitted (each attempt after the
    // first of a non-hedged call, sent or then rejected by a local gate) and hedges
    // launched (each attempt after the first of a hedged call).
    std::uint32_t retries = 0;
    std::uint32_t hedges = 0;
    sim::duration elapsed{0};
    std::string correlation_id{};
};

// Counters of one edge beyond what metrics_registry keeps.
struct edge_stats {
    std::uint64_t calls = 0;
    std::uint64_t attempts_sent = 0;
    std::uint64_t retries = 0;
    std::uint64_t hedges = 0;
    std::uint64_t hedges_cancelled = 0;
    std::uint64_t retries_refused_by_budget = 0;
    std::uint64_t retries_refused_by_throttle = 0;
    std::uint64_t rejected_by_breaker = 0;
    std::uint64_t rejected_by_adaptive_throttle = 0;
    std::uint64_t rejected_by_bulkhead = 0;
};

// Where an edge records: the registry and the key of its calls. Attempts are
// recorded under the same key with edge "<edge>#attempt".
struct edge_metrics_sink {
    metrics_registry* registry = nullptr;
    metrics_key key{};
};

// One downstream edge of one node process. Calls may run concurrently from many
// fibers. It must outlive its calls, including hedges still in flight after the
// call returned (at most timeout_per_try later).
class call_edge {
public:
    call_edge(rpc_client& client, std::string name, std::vector<sim::address> instances, edge_policy policy,
              edge_metrics_sink metrics = {});
    // Follows `service` in `discovery`'s cache (watched here; the owner starts the
    // discovery client's refresh fiber): each attempt first takes the latest cached
    // list, which outlives registry outages. `discovery` must outlive the edge.
    call_edge(rpc_client& client, std::string name, discovery_client& discovery, std::string service,
              edge_policy policy, edge_metrics_sink metrics = {});
    ~call_edge();
    call_edge(const call_edge&) = delete;
    call_edge& operator=(const call_edge&) = delete;

    call_outcome call(request req, const call_options& options = {});

    const std::string& name() const { return name_; }
    const edge_policy& policy() const { return policy_; }
    const edge_stats& stats() const { return stats_; }
    circuit_breaker* breaker() { return breaker_ ? &*breaker_ : nullptr; }
    load_balancer& balancer() { return balancer_; }
    retry_budget* budget() { return budget_ ? &*budget_ : nullptr; }
    retry_throttle* throttle() { return throttle_ ? &*throttle_ : nullptr; }
    sim::semaphore* bulkhead() { return bulkhead_ ? &*bulkhead_ : nullptr; }
    const std::vector<sim::address>& instances() const { return instances_; }
    // Replaces the instance list; instances kept keep their balancer and outlier
    // state (matched by address), in-flight attempts to removed ones are forgotten.
    void set_instances(std::vector<sim::address> instances);
    // Latencies of attempts that got an answer (any status), for percentile hedging.
    const histogram& attempt_latency() const { return attempt_latency_; }
    // The hedging delay the next hedged call would use.
    sim::duration hedging_delay() const;

private:
    struct call_state;
    struct attempt_lease;
    struct attempt_result;
    struct hedge_group;

    std::shared_ptr<call_state> prepare(request req, const call_options& options);
    call_outcome run_retry_loop(const std::shared_ptr<call_state>& call);
    attempt_result run_single(const std::shared_ptr<call_state>& call);
    attempt_result run_hedged(const std::shared_ptr<call_state>& call);
    bool launch_attempt(const std::shared_ptr<call_state>& call, const std::shared_ptr<hedge_group>& group);
    void cancel_in_flight(hedge_group& group);
    bool admit_retry(call_end& refused);
    attempt_result attempt(const std::shared_ptr<call_state>& call, attempt_lease& lease);
    attempt_result unsent(const call_state& call, const attempt_lease& lease, outcome o);
    outcome acquire_gates(const call_state& call, attempt_lease& lease);
    request attempt_request(const call_state& call, std::uint32_t number, sim::time_point try_deadline) const;
    void settle(attempt_lease& lease, const outcome& o, sim::duration elapsed, bool got_response);
    void release_unsent(attempt_lease& lease);
    void record_attempt(const outcome& o, sim::duration elapsed);
    void follow_discovery();
    void schedule_breaker_tick();
    std::optional<std::size_t> endpoint_now(const attempt_lease& lease) const;
    call_outcome finish(const call_state& call, attempt_result last, call_end end);

    sim::runtime& rt_;
    rpc_client& client_;
    std::string name_;
    std::vector<sim::address> instances_;
    edge_policy policy_;
    edge_metrics_sink metrics_;
    metrics_key attempt_key_;
    retry_policy retry_;
    std::optional<retry_budget> budget_;
    std::optional<retry_throttle> throttle_;
    std::optional<adaptive_throttle> adaptive_;
    std::optional<circuit_breaker> breaker_;
    std::optional<sim::semaphore> bulkhead_;
    load_balancer balancer_;
    edge_stats stats_;
    sim::random_stream& backoff_random_;
    sim::random_stream& lb_random_;
    sim::random_stream& throttle_random_;
    span_id_streams span_ids_;
    histogram attempt_latency_;
    // Discovery mode only: the followed service and the cache generation last taken.
    discovery_client* discovery_ = nullptr;
    std::string discovered_service_;
    std::uint64_t discovery_generation_ = 0;
    // Bumped by set_instances; a lease from an older generation finds its endpoint by address.
    std::uint64_t endpoints_generation_ = 0;
    std::map<sim::address, std::size_t> endpoint_index_;
    // False once the edge is gone: a breaker timer still sleeping must not touch it.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// RFC 9110 safe-to-repeat methods.
bool is_idempotent_method(std::string_view method);

}  // namespace meshsim::svc
