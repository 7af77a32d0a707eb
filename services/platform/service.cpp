#include "services/platform/service.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "services/platform/ids.hpp"

namespace meshsim::svc {

namespace {
response status_only(std::uint16_t status) { return response{status, {}, nullptr}; }

// The outcome a served request counts as, in the server's own metrics.
outcome outcome_of_status(std::uint16_t status) { return outcome::http(status); }

std::optional<std::int64_t> parse_ns(std::optional<std::string_view> text) {
    if (!text || text->empty()) return std::nullopt;
    std::int64_t v = 0;
    for (const char c : *text) {
        if (c < '0' || c > '9') return std::nullopt;
        // Past the range: "forever" (a deadline of duration::max() is sent as such).
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, c - '0', &v))
            return std::numeric_limits<std::int64_t>::max();
    }
    return v;
}
}  // namespace

std::optional<sim::time_point> propagated_deadline(const request& req, sim::time_point now) {
    const auto remaining_ns = parse_ns(req.head.find(header::deadline_ns));
    if (!remaining_ns) return std::nullopt;
    return sim::saturating_add(now, sim::duration{*remaining_ns});
}

config_errors codel_config::validate() const {
    config_errors errors;
    require(errors, target > sim::duration::zero(), "target", "> 0", target);
    require(errors, interval > sim::duration::zero(), "interval", "> 0", interval);
    return errors;
}

bool codel_state::on_dequeue(sim::time_point now, sim::duration sojourn) {
    if (sojourn < config_.target) {
        shed_from_.reset();
        dropping_ = false;
        return false;
    }
    if (!shed_from_) {
        shed_from_ = sim::saturating_add(now, config_.interval);
        return false;
    }
    dropping_ = now >= *shed_from_;
    return dropping_;
}

// ------------------------------------------------------------------ criticality

int criticality_rank(std::string_view criticality) {
    if (criticality == "CRITICAL_PLUS") return 3;
    if (criticality == "SHEDDABLE_PLUS") return 1;
    if (criticality == "SHEDDABLE") return 0;
    return 2;
}

config_errors service_config::validate() const {
    config_errors errors;
    if (name.empty()) errors.push_back("name must not be empty");
    require(errors, queue_timeout >= sim::duration::zero(), "queue_timeout", ">= 0", queue_timeout);
    if (rate_limit) {
        for (const auto& line : rate_limit->validate()) errors.push_back("rate_limit." + line);
    }
    if (codel) {
        for (const auto& line : codel->validate()) errors.push_back("codel." + line);
    }
    if (registry_address) {
        for (const auto& line : registration.validate()) errors.push_back("registration." + line);
        require(errors, registration_reply_port != port, "registration_reply_port", "!= port", registration_reply_port);
    }
    return errors;
}

// ------------------------------------------------------------------ context

void endpoint_context::log(std::string_view event, nlohmann::json fields) const {
    fields["correlation_id"] = scope.correlation_id;
    fields["service"] = svc.config().name;
    rt.log(event, fields);
}

response endpoint_context::relay(int api_version, const request& req) {
    auto it = svc.endpoints_.find({req.method, req.path, api_version});
    if (it == svc.endpoints_.end()) return status_only(404);
    // In-process: same slot, same auth, no second service time; only the handler runs.
    return it->second.handler(req, *this);
}

call_options endpoint_context::outgoing(call_options options) const {
    options.scope = &scope;
    return options;
}

// ------------------------------------------------------------------ service

service::service(sim::runtime& rt, service_config config, metrics_registry* metrics)
    : rt_(rt),
      config_(std::move(config)),
      metrics_(metrics),
      metrics_key_{config_.name, rt.node_name(), "in"},
      server_(rt, config_.port),
      dedup_(rt) {
    if (auto errors = config_.validate(); !errors.empty())
        throw std::invalid_argument("service_config: " + errors.front());
    if (config_.rate_limit) limiter_.emplace(*config_.rate_limit);
    if (config_.max_concurrent_requests > 0) slots_.emplace(rt, config_.max_concurrent_requests, config_.queue_order);
    if (config_.codel) codel_.emplace(*config_.codel);
    if (config_.health_endpoint) {
        server_.route("GET", "/health", 1, [this](const request&, request_context&) { return health(); });
    }
}

void service::add_endpoint(endpoint_spec spec, endpoint_handler handler) {
    endpoint_key key{spec.method, spec.path, spec.api_version};
    // Service times come from the service's one stream, looked up once here rather
    // than per request; streams are seeded by name, so looking it up draws nothing.
    sim::random_stream* service_time = &rt_.random("svc/" + config_.name + "/service-time");
    auto [it, inserted] =
        endpoints_.insert_or_assign(std::move(key), endpoint{std::move(spec), std::move(handler), service_time});
    const endpoint* ep = &it->second;
    (void)inserted;
    server_.route(ep->spec.method, ep->spec.path, ep->spec.api_version,
                  [this, ep](const request& req, request_context& rctx) { return handle(*ep, req, rctx); });
}

void service::issue_key(const std::string& key, std::set<std::string> scopes) { keys_[key] = std::move(scopes); }
void service::revoke_key(const std::string& key) { keys_.erase(key); }

void service::set_consumer_limit(const std::string& consumer, rate_limit_config limit) {
    if (!limiter_) limiter_.emplace(limit);
    limiter_->set_consumer_limit(consumer, limit);
}

void service::serve() {
    start_registration();
    server_.serve();
}

void service::start() {
    start_registration();
    rt_.spawn("serve " + config_.name, [this] { server_.serve(); });
}

// Registers once per process: a restarted node builds a new service and registers
// again, under the same instance id (the registry replaces the entry).
void service::start_registration() {
    if (!config_.registry_address || agent_) return;
    registry_client_.emplace(rt_, config_.registration_reply_port);
    instance_info self{config_.name, config_.instance_id.empty() ? rt_.node_name() : config_.instance_id,
                       sim::address{rt_.self(), config_.port}, config_.version, nlohmann::json::object()};
    agent_.emplace(*registry_client_, *config_.registry_address, std::move(self), config_.registration);
    agent_->start();
}

response service::health() const {
    nlohmann::json body = {{"service", config_.name},
                           {"status", ready_ ? "ok" : "not_ready"},
                           {"in_flight", stats_.in_flight},
                           {"queue_depth", stats_.queue_depth}};
    return response{static_cast<std::uint16_t>(ready_ ? 200 : 503), {}, std::move(body)};
}

call_scope service::scope_of(const request& req, const span_context& span) {
    call_scope scope;
    scope.span = span;
    scope.correlation_id = req.head.get(header::correlation_id);
    // Every log line and outgoing call carries one, so a request without one gets one here.
    if (scope.correlation_id.empty()) scope.correlation_id = new_correlation_id(rt_);
    scope.deadline = propagated_deadline(req, rt_.now()).value_or(sim::time_never);
    scope.criticality = req.head.get(header::criticality);
    return scope;
}

// Gates in order, cheapest and most final first: auth (401/403) > rate limit (429)
// > expired on arrival (504) > concurrency slot or queue (503) > expired after the
// queue (504) > dedup > service time > handler.
response service::handle(const endpoint& ep, const request& req, request_context& rctx) {
    const sim::time_point arrived = rt_.now();
    ++stats_.arrivals;
    if (metrics_) metrics_->record_arrival(metrics_key_, arrived);
    if (ep.spec.observer != nullptr) ep.spec.observer->arrived(arrived);
    endpoint_context ctx{rt_, *this, rctx.caller, scope_of(req, rctx.span), req.head.get(header::api_key), {}, {}};
    response resp = admit(ep, req, ctx);
    rctx.reason = ctx.reason;  // for the rpc_serve event and the reply's x-reason
    rctx.started = ctx.started;
    resp.head.set(header::correlation_id, ctx.scope.correlation_id);
    record(arrived, resp.status);
    if (ep.spec.observer != nullptr) ep.spec.observer->answered(arrived, rt_.now(), resp.status);
    return resp;
}

void service::record(sim::time_point arrived, std::uint16_t status) {
    if (metrics_) metrics_->record_completion(metrics_key_, rt_.now(), outcome_of_status(status), rt_.now() - arrived);
}

response service::admit(const endpoint& ep, const request& req, endpoint_context& ctx) {
    if (auto refused = authenticate(ep, ctx)) return *refused;
    if (auto refused = limit_rate(ctx)) return *refused;
    if (auto dropped = drop_if_expired(ep, ctx, "arrival")) return *dropped;
    if (!slots_) return run(ep, req, ctx);
    return run_in_slot(ep, req, ctx);
}

std::optional<response> service::authenticate(const endpoint& ep, endpoint_context& ctx) {
    if (ep.spec.required_scope.empty()) return std::nullopt;
    auto it = keys_.find(ctx.api_key);
    if (ctx.api_key.empty() || it == keys_.end()) {
        ++stats_.unauthenticated;
        ctx.reason = "unauthenticated";
        return status_only(401);
    }
    if (!it->second.contains(ep.spec.required_scope) && !it->second.contains("*")) {
        ++stats_.forbidden;
        ctx.reason = "forbidden";
        return status_only(403);
    }
    return std::nullopt;
}

std::optional<response> service::limit_rate(endpoint_context& ctx) {
    if (!limiter_) return std::nullopt;
    const std::string consumer = ctx.api_key.empty() ? "node:" + std::to_string(ctx.caller.node) : ctx.api_key;
    const rate_decision decision = limiter_->try_acquire(consumer, rt_.now());
    if (decision.allowed) return std::nullopt;
    ++stats_.rate_limited;
    ctx.reason = "rate_limited";
    response resp = status_only(429);
    resp.head.set(header::retry_after_ns, std::to_string(decision.retry_after.count()));
    return resp;
}

std::optional<response> service::drop_if_expired(const endpoint& ep, endpoint_context& ctx, std::string_view where) {
    if (!ep.spec.honour_deadline.value_or(config_.honour_deadlines) || !ctx.deadline_passed()) return std::nullopt;
    ++stats_.dropped_expired;
    ctx.reason = "deadline";
    ctx.log("request_dropped_expired", {{"at", where}});
    return status_only(504);
}

// The concurrency limit: a FIFO or LIFO queue of bounded length, each waiter giving
// up after queue_timeout; with CoDel, a request that waited too long under a
// standing queue is shed as it leaves (its slot passes straight to the next waiter).
response service::run_in_slot(const endpoint& ep, const request& req, endpoint_context& ctx) {
    const int rank = criticality_rank(ctx.scope.criticality);
    const bool must_wait = slots_->available() == 0 || slots_->waiting() > 0;
    if (must_wait && slots_->waiting() >= config_.queue_capacity &&
        !(config_.shed_by_criticality && slots_->evict_below(rank))) {
        ++stats_.shed_queue_full;
        ctx.reason = "queue_full";
        return status_only(503);
    }
    const sim::time_point queued_at = rt_.now();
    const sim::time_point give_up =
        sim::saturating_add(queued_at, config_.queue_timeout);  // max: wait as long as it takes
    sim::acquire_result waited;
    {
        // Counted as queued only when it waits (a free slot is taken without
        // parking), and uncounted on every way out, a crash's unwinding included.
        struct count_while_waiting {
            service& s;
            bool waits;
            ~count_while_waiting() {
                if (waits) s.queue_changed(-1);
            }
        } counted{*this, must_wait};
        if (must_wait) queue_changed(+1);
        waited = slots_->acquire(give_up, rank);
    }
    if (waited == sim::acquire_result::evicted) {
        ++stats_.shed_criticality;
        ctx.reason = "criticality";
        return status_only(503);
    }
    if (waited == sim::acquire_result::timed_out) {
        ++stats_.shed_queue_timeout;
        ctx.reason = "queue_timeout";
        return status_only(503);
    }
    struct release_on_exit {
        sim::semaphore& slots;
        ~release_on_exit() { slots.release(); }
    } guard{*slots_};
    if (shed_by_codel(rt_.now() - queued_at)) {
        ctx.reason = "codel";
        return status_only(503);
    }
    if (auto dropped = drop_if_expired(ep, ctx, "dequeue")) return *dropped;
    return run(ep, req, ctx);
}

void service::queue_changed(int delta) {
    stats_.queue_depth = static_cast<std::uint64_t>(static_cast<std::int64_t>(stats_.queue_depth) + delta);
    stats_.queue_depth_max = std::max(stats_.queue_depth_max, stats_.queue_depth);
    if (queue_listener_) queue_listener_(delta);
}

bool service::shed_by_codel(sim::duration sojourn) {
    if (!codel_) return false;
    const bool was_dropping = codel_->dropping();
    const bool shed = codel_->on_dequeue(rt_.now(), sojourn);
    if (codel_->dropping() != was_dropping) {
        rt_.record_state("codel " + config_.name, codel_->dropping() ? "dropping" : "ok");
    }
    if (shed) ++stats_.shed_codel;
    return shed;
}

namespace {
// The deduplicated run, out of line: its key's temporaries would otherwise widen the
// frame of run(), which a request's fiber keeps while its handler waits.
[[gnu::noinline]] response run_deduplicated(idempotency_cache& dedup, const endpoint_spec& spec,
                                            const endpoint_context& ctx, const std::string& key,
                                            const std::function<response()>& work) {
    return dedup.run_once(ctx.api_key + "|" + spec.method + " " + spec.path + "|" + key, work, ctx.scope.deadline);
}
}  // namespace

response service::run(const endpoint& ep, const request& req, endpoint_context& ctx) {
    ctx.started = rt_.now();
    ++stats_.in_flight;
    struct count_on_exit {
        service_stats& stats;
        ~count_on_exit() { --stats.in_flight; }
    } guard{stats_};
    auto work = [&]() -> response {
        if (ctx.deadline_passed()) ++stats_.expired_but_served;
        ++stats_.handled;
        rt_.compute(ep.spec.service_time.sample(*ep.service_time));
        return ep.handler(req, ctx);
    };
    if (!ep.spec.deduplicate) return work();
    const std::string key = req.head.get(header::idempotency_key);
    if (key.empty()) return work();
    return run_deduplicated(dedup_, ep.spec, ctx, key, work);
}

}  // namespace meshsim::svc
