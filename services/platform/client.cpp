#include "services/platform/client.hpp"

#include <algorithm>
#include <charconv>
#include <deque>

#include "services/platform/ids.hpp"
#include "services/platform/planted_bug.hpp"

namespace meshsim::svc {

namespace {
const metrics_key& attempt_key_of(metrics_key& out, const metrics_key& call_key) {
    out = call_key;
    out.edge += "#attempt";
    return out;
}

std::string address_text(sim::address a) { return std::to_string(a.node) + ":" + std::to_string(a.port); }

// A rate in percent, as the shortest text that reads back as the same double.
std::string percent_text(std::uint32_t part, std::uint32_t calls) {
    const double rate = calls == 0 ? 0.0 : part * 100.0 / calls;
    char buf[32];
    return std::string(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, rate).ptr - buf));
}

// A breaker transition's state fields: where from, and the window that decided it.
std::string breaker_fields(breaker_state from, const detail::call_counts& window) {
    return " from=" + std::string(to_string(from)) + " failure_rate=" + percent_text(window.failed, window.calls) +
           " slow_rate=" + percent_text(window.slow, window.calls) + " calls=" + std::to_string(window.calls) +
           " failed=" + std::to_string(window.failed) + " slow=" + std::to_string(window.slow);
}

// An answer the overload rule of the SRE book does not count as accepted.
bool is_overload_rejection(const outcome& o) {
    return o.kind == outcome_kind::http_error && (o.http_status == 429 || o.http_status == 503);
}
}  // namespace

std::string_view to_string(call_end end) {
    switch (end) {
        case call_end::succeeded: return "succeeded";
        case call_end::not_retryable: return "not_retryable";
        case call_end::not_idempotent: return "not_idempotent";
        case call_end::attempts_exhausted: return "attempts_exhausted";
        case call_end::budget_exhausted: return "budget_exhausted";
        case call_end::retry_throttled: return "retry_throttled";
        case call_end::deadline: return "deadline";
    }
    return "unknown";
}

std::string_view to_string(deadline_propagation_mode mode) {
    switch (mode) {
        case deadline_propagation_mode::per_try: return "per_try";
        case deadline_propagation_mode::whole_call: return "whole_call";
    }
    return "unknown";
}

bool is_idempotent_method(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" || method == "DELETE";
}

config_errors bulkhead_config::validate() const {
    config_errors errors;
    require(errors, max_concurrent_calls >= 1, "max_concurrent_calls", ">= 1", max_concurrent_calls);
    require(errors, max_wait >= sim::duration::zero(), "max_wait", ">= 0", max_wait);
    return errors;
}

config_errors hedging_config::validate() const {
    config_errors errors;
    require(errors, max_attempts >= 1, "max_attempts", ">= 1", max_attempts);
    require(errors, hedging_delay >= sim::duration::zero(), "hedging_delay", ">= 0", hedging_delay);
    require(errors, hedging_delay_percentile >= 0 && hedging_delay_percentile <= 100, "hedging_delay_percentile",
            "in [0, 100]", hedging_delay_percentile);
    require(errors, hedging_delay_percentile == 0 || hedging_delay_min_samples >= 1, "hedging_delay_min_samples",
            ">= 1 with a percentile", static_cast<double>(hedging_delay_min_samples));
    return errors;
}

config_errors edge_policy::validate() const {
    config_errors errors;
    require(errors, timeout_per_try > sim::duration::zero(), "timeout_per_try", "> 0", timeout_per_try);
    require(errors, deadline > sim::duration::zero(), "deadline", "> 0", deadline);
    auto nest = [&errors](std::string_view prefix, const config_errors& inner) {
        for (const auto& line : inner) errors.push_back(std::string(prefix) + "." + line);
    };
    nest("retry", retry.validate());
    if (retry_budget) nest("retry_budget", retry_budget->validate());
    if (retry_throttle) nest("retry_throttle", retry_throttle->validate());
    if (adaptive_throttle) nest("adaptive_throttle", adaptive_throttle->validate());
    nest("hedging", hedging.validate());
    // gRPC A6: a method has a retry policy or a hedging policy, never both.
    require(errors, !hedging.enabled() || retry.max_attempts == 1, "retry.max_attempts",
            "1 when hedging.max_attempts > 1 (gRPC A6: retries and hedging are exclusive)", retry.max_attempts);
    if (circuit_breaker) nest("circuit_breaker", circuit_breaker->validate());
    if (bulkhead) nest("bulkhead", bulkhead->validate());
    nest("load_balancer", load_balancer.validate());
    return errors;
}

// ------------------------------------------------------------------ per-call state

struct call_edge::call_state {
    request req;
    call_traits traits;
    bool hedged = false;
    sim::time_point started;
    sim::time_point deadline;  // node-local, the overall one
    retry_state retry;
    std::uint32_t attempts_sent = 0;
    std::uint32_t attempts_started = 0;
    std::uint32_t retries = 0;
    std::uint32_t hedges = 0;
    std::string correlation_id;
    std::string idempotency_key;
    std::optional<std::uint64_t> partition;  // stable hash of call_options::partition_key
    std::string criticality;
    // The trace of the call and the span it is made in (none for a root call).
    span_context parent;
};

// What one attempt holds, so that whoever ends it (the attempt itself, or the
// call cancelling a losing hedge) gives every resource back exactly once.
struct call_edge::attempt_lease {
    std::uint32_t number = 0;
    bool breaker_held = false;
    bool bulkhead_held = false;
    std::optional<std::size_t> endpoint;
    sim::address address{};                  // of the endpoint, which outlives its index
    std::uint64_t endpoints_generation = 0;  // of the index
    bool cancelled = false;
    bool settled = false;
};

struct call_edge::attempt_result {
    outcome result;
    std::optional<response> reply;
    sim::duration elapsed{0};
    bool sent = false;  // went past the local gates to an instance

    static attempt_result unsent(outcome o) { return {std::move(o), std::nullopt, sim::duration::zero(), false}; }
};

struct call_edge::hedge_group {
    explicit hedge_group(sim::runtime& rt) : results(rt) {}
    sim::channel<attempt_result> results;
    std::deque<attempt_lease> leases;  // deque: references stay valid as it grows
    std::uint32_t in_flight = 0;
};

// ------------------------------------------------------------------ construction

call_edge::call_edge(rpc_client& client, std::string name, std::vector<sim::address> instances, edge_policy policy,
                     edge_metrics_sink metrics)
    : rt_(client.runtime()),
      client_(client),
      name_(std::move(name)),
      instances_(std::move(instances)),
      policy_(std::move(policy)),
      metrics_(std::move(metrics)),
      retry_(policy_.retry),
      balancer_(policy_.load_balancer, instances_.size()),
      backoff_random_(rt_.random("edge/" + name_ + "/backoff")),
      lb_random_(rt_.random("edge/" + name_ + "/lb")),
      throttle_random_(rt_.random("edge/" + name_ + "/adaptive-throttle")),
      span_ids_(rt_) {
    attempt_key_of(attempt_key_, metrics_.key);
    for (std::size_t i = 0; i < instances_.size(); ++i) endpoint_index_.try_emplace(instances_[i], i);
    if (policy_.retry_budget) budget_.emplace(*policy_.retry_budget);
    if (policy_.retry_throttle) throttle_.emplace(*policy_.retry_throttle);
    if (policy_.adaptive_throttle) adaptive_.emplace(*policy_.adaptive_throttle);
    if (policy_.bulkhead) bulkhead_.emplace(rt_, policy_.bulkhead->max_concurrent_calls);
    if (policy_.circuit_breaker) {
        breaker_.emplace(*policy_.circuit_breaker, [this](sim::time_point, breaker_state from, breaker_state to) {
            rt_.record_state("breaker " + name_, to_string(to), breaker_fields(from, breaker_->transition_window()));
            schedule_breaker_tick();
        });
    }
    balancer_.set_ejection_listener([this](sim::time_point, std::size_t endpoint, sim::duration ejected_for) {
        const sim::address a = instances_[endpoint];
        const std::string_view name = rt_.name_of(a.node);
        rt_.record_state("outlier " + name_, "ejected",
                         " instance=" + (name.empty() ? address_text(a) : std::string(name)) +
                             " cause=consecutive_5xx consecutive=" +
                             std::to_string(policy_.load_balancer.outlier_detection.consecutive_5xx) +
                             " ejected_for_ns=" + std::to_string(ejected_for.count()));
    });
}

call_edge::call_edge(rpc_client& client, std::string name, discovery_client& discovery, std::string service,
                     edge_policy policy, edge_metrics_sink metrics)
    : call_edge(client, std::move(name), std::vector<sim::address>{}, std::move(policy), std::move(metrics)) {
    discovery_ = &discovery;
    discovered_service_ = std::move(service);
    discovery.watch(discovered_service_);
    follow_discovery();
}

call_edge::~call_edge() { *alive_ = false; }

// Timed breaker moves (automatic OPEN -> HALF_OPEN, max wait in HALF_OPEN) happen at
// their time, as resilience4j's scheduler does, not at the next call: the trace shows
// the breaker half-open even when no call comes. The breaker keeps time on the
// monotonic clock, as resilience4j's timers do: a step of the node's clock neither
// keeps it open nor closes it early.
void call_edge::schedule_breaker_tick() {
    const sim::time_point at = breaker_->next_transition_time();
    if (at == sim::time_never) return;
    sim::runtime& rt = rt_;
    rt.spawn("breaker-timer", [this, &rt, at, alive = alive_] {
        rt.sleep_until_monotonic(at);
        if (*alive) breaker_->state(rt.monotonic_now());
    });
}

// ------------------------------------------------------------------ the instance list

void call_edge::follow_discovery() {
    if (!discovery_) return;
    const std::uint64_t generation = discovery_->generation(discovered_service_);
    if (generation == discovery_generation_) return;
    discovery_generation_ = generation;
    std::vector<sim::address> fresh;
    for (const instance_info& info : discovery_->instances(discovered_service_)) fresh.push_back(info.address);
    set_instances(std::move(fresh));
}

void call_edge::set_instances(std::vector<sim::address> instances) {
    // Index by address in an ordered map: the old state each new endpoint keeps does
    // not depend on hashing. A repeated address counts once.
    std::map<sim::address, std::size_t> index;
    std::vector<sim::address> list;
    std::vector<std::optional<std::size_t>> previous;
    for (const sim::address a : instances) {
        if (!index.try_emplace(a, list.size()).second) continue;
        list.push_back(a);
        auto old = endpoint_index_.find(a);
        previous.push_back(old == endpoint_index_.end() ? std::nullopt : std::optional<std::size_t>{old->second});
    }
    balancer_.remap(previous);
    instances_ = std::move(list);
    endpoint_index_ = std::move(index);
    ++endpoints_generation_;
    rt_.record_state("endpoints " + name_, std::to_string(instances_.size()));
}

// The lease's endpoint index now, or nothing when its instance left the list.
std::optional<std::size_t> call_edge::endpoint_now(const attempt_lease& lease) const {
    if (!lease.endpoint || lease.endpoints_generation == endpoints_generation_) return lease.endpoint;
    auto it = endpoint_index_.find(lease.address);
    return it == endpoint_index_.end() ? std::nullopt : std::optional<std::size_t>{it->second};
}

sim::duration call_edge::hedging_delay() const {
    const hedging_config& h = policy_.hedging;
    if (h.hedging_delay_percentile <= 0 || attempt_latency_.count() < h.hedging_delay_min_samples) {
        return h.hedging_delay;
    }
    return attempt_latency_.quantile(h.hedging_delay_percentile / 100);
}

// ------------------------------------------------------------------ the call

call_outcome call_edge::call(request req, const call_options& options) {
    auto call = prepare(std::move(req), options);
    ++stats_.calls;
    if (metrics_.registry) metrics_.registry->record_arrival(metrics_.key, call->started);
    if (budget_) budget_->record_request(call->started);
    if (call->started >= call->deadline)
        return finish(*call, attempt_result::unsent(outcome::of(outcome_kind::deadline_exceeded)), call_end::deadline);
    return run_retry_loop(call);
}

std::shared_ptr<call_edge::call_state> call_edge::prepare(request req, const call_options& options) {
    auto call = std::make_shared<call_state>();
    call->started = rt_.now();
    call->deadline = sim::saturating_add(call->started, policy_.deadline);
    const call_scope* scope = options.scope;
    if (scope) call->deadline = std::min(call->deadline, scope->deadline);
    // Planted bug (test-only): the call has no deadline; only the per-try timeout ends a try.
    if (planted(planted_bug::retry_ignores_deadline)) call->deadline = sim::time_never;
    call->correlation_id = scope && !scope->correlation_id.empty() ? scope->correlation_id : new_correlation_id(rt_);
    call->idempotency_key = options.idempotency_key;
    if (call->idempotency_key.empty() && options.generate_idempotency_key) {
        call->idempotency_key = new_idempotency_key(rt_);
    }
    if (!options.partition_key.empty()) call->partition = sim::stable_hash(options.partition_key);
    call->criticality = !options.criticality.empty() ? options.criticality : (scope ? scope->criticality : "");
    // Inside a handler: a child of its server span; else the root of a new trace.
    call->parent = scope && scope->span.has_trace() ? scope->span : new_trace(span_ids_);
    call->traits.idempotent = options.idempotent.value_or(is_idempotent_method(req.method));
    call->traits.has_idempotency_key = !call->idempotency_key.empty();
    // Hedging repeats the call by design, so only calls safe to repeat are hedged (gRPC A6).
    call->hedged = policy_.hedging.enabled() && (call->traits.idempotent || call->traits.has_idempotency_key);
    call->req = std::move(req);
    return call;
}

namespace {
call_end end_of(retry_verdict verdict) {
    switch (verdict) {
        case retry_verdict::succeeded: return call_end::succeeded;
        case retry_verdict::not_idempotent: return call_end::not_idempotent;
        case retry_verdict::attempts_exhausted: return call_end::attempts_exhausted;
        default: return call_end::not_retryable;
    }
}
}  // namespace

// deadline > retry loop > (retry throttle, retry budget) > [hedging] > breaker >
// adaptive throttle > bulkhead > load balancer > attempt with per-try timeout.
call_outcome call_edge::run_retry_loop(const std::shared_ptr<call_state>& call) {
    while (true) {
        attempt_result last = call->hedged ? run_hedged(call) : run_single(call);
        if (last.result.kind == outcome_kind::deadline_exceeded)
            return finish(*call, std::move(last), call_end::deadline);
        const retry_decision decision =
            retry_.on_attempt_result(call->retry, last.result, call->traits, backoff_random_);
        if (!decision.should_retry()) return finish(*call, std::move(last), end_of(decision.verdict));
        // A retry that could not start before the deadline is not worth its backoff.
        if (sim::saturating_add(rt_.now(), decision.delay) >= call->deadline)
            return finish(*call, std::move(last), call_end::deadline);
        call_end refused = call_end::succeeded;
        if (!admit_retry(refused)) return finish(*call, std::move(last), refused);
        ++stats_.retries;
        ++call->retries;
        rt_.sleep_for(decision.delay);
    }
}

// The retry gates, cheapest first: the gRPC throttle only looks, the budget withdraws.
bool call_edge::admit_retry(call_end& refused) {
    if (throttle_ && !throttle_->retry_allowed()) {
        ++stats_.retries_refused_by_throttle;
        refused = call_end::retry_throttled;
        return false;
    }
    if (budget_ && !budget_->try_withdraw(rt_.now())) {
        ++stats_.retries_refused_by_budget;
        refused = call_end::budget_exhausted;
        return false;
    }
    return true;
}

call_outcome call_edge::finish(const call_state& call, attempt_result last, call_end end) {
    call_outcome out;
    out.result = std::move(last.result);
    out.reply = std::move(last.reply);
    out.end = end;
    out.attempts_sent = call.attempts_sent;
    out.retries = call.retries;
    out.hedges = call.hedges;
    out.elapsed = rt_.now() - call.started;
    out.correlation_id = call.correlation_id;
    if (metrics_.registry) metrics_.registry->record_completion(metrics_.key, rt_.now(), out.result, out.elapsed);
    return out;
}

// ------------------------------------------------------------------ attempts

call_edge::attempt_result call_edge::run_single(const std::shared_ptr<call_state>& call) {
    attempt_lease lease;
    lease.number = ++call->attempts_started;
    return attempt(call, lease);
}

outcome call_edge::acquire_gates(const call_state& call, attempt_lease& lease) {
    const sim::time_point now = rt_.now();
    if (breaker_) {
        if (!breaker_->try_acquire(rt_.monotonic_now())) {
            ++stats_.rejected_by_breaker;
            return outcome::of(outcome_kind::breaker_open);
        }
        lease.breaker_held = true;
    }
    if (adaptive_ && !adaptive_->try_admit(now, throttle_random_)) {
        ++stats_.rejected_by_adaptive_throttle;
        release_unsent(lease);
        return outcome::of(outcome_kind::throttled);
    }
    if (bulkhead_) {
        const sim::duration wait = policy_.bulkhead->max_wait;
        // A zero wait passes `now`, which the semaphore reads as "fail fast".
        const sim::time_point until =
            wait > sim::duration::zero() ? std::min(sim::saturating_add(now, wait), call.deadline) : now;
        if (bulkhead_->acquire(until) != sim::acquire_result::granted) {
            ++stats_.rejected_by_bulkhead;
            release_unsent(lease);
            return outcome::of(rt_.now() >= call.deadline ? outcome_kind::deadline_exceeded
                                                          : outcome_kind::bulkhead_full);
        }
        if (lease.cancelled) {  // a hedge that waited for a slot while its call ended: already settled
            bulkhead_->release();
            return outcome::of(outcome_kind::deadline_exceeded);
        }
        lease.bulkhead_held = true;
    }
    return outcome::success();
}

request call_edge::attempt_request(const call_state& call, std::uint32_t number, sim::time_point try_deadline) const {
    request req = call.req;
    req.head.set(header::correlation_id, call.correlation_id);
    req.head.set(header::attempt, std::to_string(number));
    if (!call.idempotency_key.empty()) req.head.set(header::idempotency_key, call.idempotency_key);
    if (!call.criticality.empty()) req.head.set(header::criticality, call.criticality);
    if (policy_.propagate_deadline) {
        // The remaining budget, not an instant: immune to clock skew between nodes (as gRPC's grpc-timeout).
        // By default the attempt's own (try_deadline is already min(per-try, call deadline)).
        const sim::time_point until =
            policy_.deadline_propagation == deadline_propagation_mode::per_try ? try_deadline : call.deadline;
        const sim::duration remaining = until - rt_.now();
        req.head.set(header::deadline_ns, std::to_string(std::max<std::int64_t>(0, remaining.count())));
    }
    return req;
}

call_edge::attempt_result call_edge::attempt(const std::shared_ptr<call_state>& call, attempt_lease& lease) {
    if (rt_.now() >= call->deadline) return unsent(*call, lease, outcome::of(outcome_kind::deadline_exceeded));
    if (outcome gate = acquire_gates(*call, lease); gate.kind != outcome_kind::ok) return unsent(*call, lease, gate);
    follow_discovery();
    lease.endpoint = call->partition ? balancer_.pick_for_key(*call->partition) : balancer_.pick(rt_.now(), lb_random_);
    if (!lease.endpoint) {
        release_unsent(lease);
        return unsent(*call, lease, outcome::of(outcome_kind::connection_refused));
    }
    lease.address = instances_[*lease.endpoint];
    lease.endpoints_generation = endpoints_generation_;
    const sim::time_point try_deadline =
        std::min(sim::saturating_add(rt_.now(), policy_.timeout_per_try), call->deadline);
    const bool cut_by_deadline = try_deadline == call->deadline;
    ++call->attempts_sent;
    ++stats_.attempts_sent;
    // rpc_client makes the attempt's span, a child of the call's parent.
    call_result got =
        client_.call(lease.address, attempt_request(*call, lease.number, try_deadline), try_deadline, call->parent);
    if (got.result.kind == outcome_kind::timeout && cut_by_deadline)
        got.result = outcome::of(outcome_kind::deadline_exceeded);
    if (lease.cancelled) return {got.result, std::move(got.reply), got.elapsed, true};
    settle(lease, got.result, got.elapsed, got.reply.has_value());
    record_attempt(got.result, got.elapsed);
    if (got.reply) attempt_latency_.record(got.elapsed);
    return {got.result, std::move(got.reply), got.elapsed, true};
}

// An attempt a local gate (or the deadline) stopped before it was sent: one
// rpc_attempt event too (status 0, no callee), a span of the call's trace.
call_edge::attempt_result call_edge::unsent(const call_state& call, const attempt_lease& lease, outcome o) {
    const span_context span = new_child_span(span_ids_, call.parent);
    rt_.record_attempt({.status = 0,
                        .attempt = lease.number,
                        .outcome = to_string(o.kind),
                        .correlation_id = call.correlation_id,
                        .method = call.req.method,
                        .path = call.req.path,
                        .reason = {},
                        .to = sim::no_node,
                        .sent = rt_.now(),
                        .trace_id = span.trace_id(),
                        .span_id = span.span_id(),
                        .parent_span_id = call.parent.span_id()});
    return attempt_result::unsent(std::move(o));
}

// Feeds an attempt's result to every component that saw it go out, and frees its slots.
void call_edge::settle(attempt_lease& lease, const outcome& o, sim::duration elapsed, bool got_response) {
    if (lease.settled) return;
    lease.settled = true;
    const sim::time_point now = rt_.now();
    if (auto endpoint = endpoint_now(lease)) balancer_.on_result(*endpoint, now, o);
    if (lease.bulkhead_held) bulkhead_->release();
    if (lease.breaker_held) breaker_->on_result(rt_.monotonic_now(), elapsed, o);
    if (adaptive_ && got_response && !is_overload_rejection(o)) adaptive_->on_accepted(now);
    // gRPC A6: every attempt with a retryable failure takes a token, every success gives some back.
    if (throttle_) {
        if (o.kind == outcome_kind::ok) {
            throttle_->on_success();
        } else if (retry_.is_retryable(o)) {
            throttle_->on_failure();
        }
    }
}

// Gives back what an attempt took without it ever reaching an instance.
void call_edge::release_unsent(attempt_lease& lease) {
    if (lease.settled) return;
    lease.settled = true;
    const sim::time_point now = rt_.now();
    if (auto endpoint = endpoint_now(lease))
        balancer_.on_result(*endpoint, now, outcome::of(outcome_kind::deadline_exceeded));
    if (lease.bulkhead_held) bulkhead_->release();
    if (lease.breaker_held) breaker_->release_permission(rt_.monotonic_now());
}

void call_edge::record_attempt(const outcome& o, sim::duration elapsed) {
    if (!metrics_.registry) return;
    metrics_.registry->record_arrival(attempt_key_, rt_.now() - elapsed);
    metrics_.registry->record_completion(attempt_key_, rt_.now(), o, elapsed);
}

// ------------------------------------------------------------------ hedging

namespace {
// Ends a hedged call: a success, or an answer no other attempt would change.
bool is_final(const retry_policy& policy, const outcome& o, bool sent) {
    return o.kind == outcome_kind::ok || (sent && !policy.is_retryable(o));
}
}  // namespace

// gRPC A6 hedging: attempt k+1 goes out hedging_delay after attempt k, or at once
// when an attempt fails with a retryable outcome; the first final answer wins and
// the others are cancelled (their slots freed now; their replies ignored).
call_edge::attempt_result call_edge::run_hedged(const std::shared_ptr<call_state>& call) {
    auto group = std::make_shared<hedge_group>(rt_);
    launch_attempt(call, group);
    bool may_launch = true;
    // Fixed for the whole call, so its hedges go out on one schedule.
    const sim::duration delay = hedging_delay();
    sim::time_point next_hedge_at = sim::saturating_add(rt_.now(), delay);
    attempt_result last = attempt_result::unsent(outcome::of(outcome_kind::deadline_exceeded));
    while (true) {
        may_launch = may_launch && call->attempts_started < policy_.hedging.max_attempts;
        const sim::time_point wake = may_launch ? std::min(next_hedge_at, call->deadline) : call->deadline;
        std::optional<attempt_result> got = group->results.pop(wake);
        if (got) {
            --group->in_flight;
            if (is_final(retry_, got->result, got->sent)) {
                cancel_in_flight(*group);
                return std::move(*got);
            }
            last = std::move(*got);
            if (!(last.sent && may_launch)) {
                if (group->in_flight == 0) return last;
                continue;
            }
        } else if (rt_.now() >= call->deadline) {
            cancel_in_flight(*group);
            return attempt_result::unsent(outcome::of(outcome_kind::deadline_exceeded));
        }
        may_launch = launch_attempt(call, group);
        next_hedge_at = sim::saturating_add(rt_.now(), delay);
        if (!may_launch && group->in_flight == 0) return last;
    }
}

// Starts attempt number attempts_started + 1 in its own fiber. Every attempt after
// the first is extra load, so it passes the retry gates (Finagle budgets backup
// requests; gRPC throttles hedges).
bool call_edge::launch_attempt(const std::shared_ptr<call_state>& call, const std::shared_ptr<hedge_group>& group) {
    if (call->attempts_started > 0) {
        call_end refused = call_end::succeeded;
        if (!admit_retry(refused)) return false;
        ++stats_.hedges;
        ++call->hedges;
    }
    attempt_lease& lease = group->leases.emplace_back();
    lease.number = ++call->attempts_started;
    ++group->in_flight;
    rt_.spawn("attempt", [this, call, group, &lease] { group->results.push(attempt(call, lease)); });
    return true;
}

void call_edge::cancel_in_flight(hedge_group& group) {
    for (attempt_lease& lease : group.leases) {
        if (lease.settled || lease.cancelled) continue;
        lease.cancelled = true;
        if (lease.endpoint) ++stats_.hedges_cancelled;
        release_unsent(lease);
    }
}

}  // namespace meshsim::svc
