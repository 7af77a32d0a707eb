// Reads a scenario in two passes over one parsed document: the first reads every
// value (types, ranges, unknown keys), remembering where each cross-reference was
// written; the second checks the references and the combinations that only make
// sense together. Both report into the same diagnostics, so a user sees all at once.
#include "harness/scenario/loader.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "harness/kinds/service_kind.hpp"
#include "harness/scenario/limits.hpp"
#include "harness/scenario/reader.hpp"

namespace meshsim::harness {

namespace {

using sim::duration;

// How many items the lists of a scenario may hold (docs/scenario-format.md, Limits).
// Far above any real model; they bound what a hostile file can make the loader build.
constexpr std::size_t max_services = 1'000;
constexpr std::size_t max_endpoints_per_service = 1'000;
constexpr std::size_t max_calls_per_endpoint = 100;
constexpr std::size_t max_publish_targets = 100;
constexpr std::size_t max_api_keys = 10'000;
constexpr std::size_t max_edges = 10'000;
constexpr std::size_t max_workloads = 1'000;
constexpr std::size_t max_schedule_entries = 10'000;
constexpr std::size_t max_link_overrides = 10'000;
constexpr std::size_t max_faults = 10'000;
constexpr std::size_t max_expectations = 1'000;

// A name written somewhere in the file, to be checked once every service is known.
struct reference {
    value_reader at;
    std::string name;
};
struct endpoint_ref {
    value_reader at;  // the endpoint value
    std::string service;
    std::string path;
    int version = 1;
};

class loader final : public kind_reader {
public:
    explicit loader(const document_reader& doc) : doc_(doc) {}
    scenario read();

    // --- what service kinds read through (harness/kinds/service_kind.hpp) ---
    void read_station_keys(object_reader& r, service_config& s, bool endpoints_required) override;
    void add_endpoint(service_config& s, endpoint_config e, value_reader at) override;
    void service_reference(value_reader at, std::string name, std::vector<std::string> kinds) override;
    void endpoint_reference(value_reader at, std::string service, std::string path, int version) override;
    void later(std::function<void(const scenario&)> check) override;
    sim::duration_distribution read_distribution(const value_reader& v) override;
    edge_policy read_edge_policy(object_reader& r, edge_policy base) override;

private:
    // --- first pass ---
    sim::kernel::link_config read_link(object_reader r, sim::kernel::link_config base);
    svc::backoff_config read_backoff(object_reader& r, svc::backoff_config base);
    svc::retry_policy_config read_retry(object_reader r, svc::retry_policy_config base);
    svc::circuit_breaker_config read_breaker(object_reader r);
    svc::load_balancer_config read_load_balancer(object_reader r, svc::load_balancer_config base);
    station_config read_station(object_reader& r);
    endpoint_config read_endpoint(object_reader r, const std::string& service);
    write_config read_write(object_reader& w);
    void read_target(object_reader& r, std::string& service, std::string& endpoint, int& version);
    service_config read_service(object_reader r);
    open_loop_config read_open_loop(object_reader r);
    workload_config read_workload(object_reader r);
    fault_config read_fault(object_reader r);
    nemesis_config read_nemesis(object_reader r);
    expectation_config read_expectation(object_reader r);
    network_config read_network(object_reader r);
    void report_platform_errors(const object_reader& r, const std::vector<std::string>& errors);

    // --- second pass ---
    void check_references(const scenario& s);
    void check_call_cycles(const scenario& s);
    void check_combinations(const scenario& s);
    // Checks that would pass without testing anything (the checkers' "no samples"
    // verdict is the run-time counterpart), and retry policies that can never retry.
    void check_workloads_send(const scenario& s);
    void check_expectations_observe(const scenario& s);
    void warn_unretryable_edges(const scenario& s);
    void warn(const std::string& pointer, std::string message) const;
    void check_limits(const scenario& s);
    std::string unknown_name(std::string_view what, const std::string& name, const std::vector<std::string>& known);

    const document_reader& doc_;
    std::vector<reference> service_refs_;
    struct kind_reference {
        value_reader at;
        std::string name;
        std::vector<std::string> kinds;  // the service must be of one of these
    };
    std::vector<kind_reference> kind_refs_;
    std::vector<std::function<void(const scenario&)>> later_checks_;
    std::vector<endpoint_ref> endpoint_refs_;
    std::vector<std::pair<value_reader, std::string>> workload_refs_;
    value_reader warmup_at_;
    value_reader bucket_at_;
    std::vector<value_reader> service_name_at_;
    std::set<std::string> unreadable_endpoints_;  // services whose endpoint list was itself wrong
    std::vector<value_reader> workload_name_at_;
    std::vector<value_reader> edge_at_;
    std::vector<std::vector<value_reader>> endpoint_at_;                      // per service, per endpoint
    std::vector<std::pair<value_reader, publish_target>> publish_target_at_;  // must name replica endpoints
    std::vector<std::pair<value_reader, std::string>> write_service_refs_;    // must have a write endpoint
    struct replica_reference {
        value_reader at;
        std::string source;
        std::vector<std::string> replicas;  // each must receive the source's events
    };
    std::vector<replica_reference> replica_refs_;
};

// True when key holds one of names: reads that depend on a choice are skipped
// (and their keys allowed) when it is wrong, so one typo gives one error.
bool chose(object_reader& r, std::string_view key, std::initializer_list<std::string_view> names) {
    const value_reader v = r.member(key);
    if (!v.is_string()) return false;
    const auto& text = v.json()->get_ref<const std::string&>();
    return std::find(names.begin(), names.end(), text) != names.end();
}

// "5ms" (constant) or {"dist": "exponential", "mean": "5ms"}.
sim::duration_distribution loader::read_distribution(const value_reader& v) {
    if (v.is_string()) return sim::duration_distribution::constant(v.as<duration>());
    object_reader r = v.object();
    using shape = sim::duration_distribution::shape;
    const shape kind = r.choice<shape>("dist", {{"constant", shape::constant},
                                                {"uniform", shape::uniform},
                                                {"normal", shape::normal},
                                                {"lognormal", shape::lognormal},
                                                {"exponential", shape::exponential},
                                                {"pareto", shape::pareto}});
    sim::duration_distribution d;
    d.kind = kind;
    if (!r.valid()) return d;
    if (!chose(r, "dist", {"constant", "uniform", "normal", "lognormal", "exponential", "pareto"})) {
        r.allow({"value", "min", "max", "mean", "stddev", "median", "sigma", "scale", "alpha"});
        r.finish();
        return d;
    }
    switch (kind) {
        case shape::constant: d.value = r.required<duration>("value"); break;
        case shape::uniform:
            d.value = r.required<duration>("min");
            d.max = r.required<duration>("max");
            if (d.max < d.value) r.error("max", "max must not be less than min");
            break;
        case shape::normal:
            d.value = r.required<duration>("mean");
            d.stddev = r.required<duration>("stddev");
            break;
        case shape::lognormal:
            d.value = r.required<duration>("median", {.min = sim::nanoseconds(1)});
            d.shape_param = r.required<double>("sigma", {.min = 0, .max = 10});
            break;
        case shape::exponential: d.value = r.required<duration>("mean", {.min = sim::nanoseconds(1)}); break;
        case shape::pareto:
            d.value = r.required<duration>("scale", {.min = sim::nanoseconds(1)});
            d.shape_param = r.required<double>("alpha", {.min = 0, .min_exclusive = true, .max = 100});
            break;
    }
    r.finish();
    return d;
}

void loader::report_platform_errors(const object_reader& r, const std::vector<std::string>& errors) {
    for (const std::string& e : errors) r.error(e);
}

sim::kernel::link_config loader::read_link(object_reader r, sim::kernel::link_config l) {
    if (const value_reader v = r.member("latency"); v.present()) l.latency = read_distribution(v);
    l.jitter = r.optional<duration>("jitter", l.jitter);
    l.delay_correlation = r.optional<double>("delay_correlation", l.delay_correlation, {.min = 0, .max = 1});
    l.loss = r.optional<double>("loss", l.loss, {.min = 0, .max = 1});
    l.loss_correlation = r.optional<double>("loss_correlation", l.loss_correlation, {.min = 0, .max = 1});
    l.duplicate = r.optional<double>("duplicate", l.duplicate, {.min = 0, .max = 1});
    l.reorder = r.optional<double>("reorder", l.reorder, {.min = 0, .max = 1});
    l.corrupt = r.optional<double>("corrupt", l.corrupt, {.min = 0, .max = 1});
    l.bandwidth_bytes_per_s = r.optional<std::uint64_t>("bandwidth_bytes_per_s", l.bandwidth_bytes_per_s);
    l.queue_capacity_bytes = r.optional<std::uint64_t>("queue_capacity_bytes", l.queue_capacity_bytes, {.min = 1});
    return l;
}

svc::backoff_config loader::read_backoff(object_reader& r, svc::backoff_config b) {
    b.base_delay = r.optional<duration>("backoff_base", b.base_delay, {.min = sim::nanoseconds(1)});
    b.max_delay = r.optional<duration>("backoff_max", b.max_delay, {.min = sim::nanoseconds(1)});
    b.multiplier = r.optional<double>("backoff_multiplier", b.multiplier, {.min = 1, .max = 100});
    b.jitter = r.choice<svc::jitter_mode>("jitter",
                                          {{"none", svc::jitter_mode::none},
                                           {"full", svc::jitter_mode::full},
                                           {"equal", svc::jitter_mode::equal},
                                           {"decorrelated", svc::jitter_mode::decorrelated}},
                                          b.jitter);
    if (b.max_delay < b.base_delay) r.error("backoff_max", "backoff_max must not be less than backoff_base");
    return b;
}

svc::retry_policy_config loader::read_retry(object_reader r, svc::retry_policy_config p) {
    p.max_attempts = r.optional<std::uint32_t>("max_attempts", p.max_attempts, {.min = 1, .max = 100});
    p.backoff = read_backoff(r, p.backoff);
    p.retry_on_5xx = r.optional<bool>("on_5xx", p.retry_on_5xx);
    p.retry_on_timeout = r.optional<bool>("on_timeout", p.retry_on_timeout);
    p.retry_on_connection_refused = r.optional<bool>("on_connection_refused", p.retry_on_connection_refused);
    p.retry_on_connection_reset = r.optional<bool>("on_connection_reset", p.retry_on_connection_reset);
    p.retry_on_429 = r.optional<bool>("on_429", p.retry_on_429);
    r.finish();
    return p;
}

svc::circuit_breaker_config loader::read_breaker(object_reader r) {
    svc::circuit_breaker_config c;
    c.failure_rate_threshold_percent =
        r.optional<double>("failure_rate_threshold_percent", c.failure_rate_threshold_percent,
                           {.min = 0, .min_exclusive = true, .max = 100});
    c.slow_call_rate_threshold_percent =
        r.optional<double>("slow_call_rate_threshold_percent", c.slow_call_rate_threshold_percent,
                           {.min = 0, .min_exclusive = true, .max = 100});
    c.slow_call_duration_threshold =
        r.optional<duration>("slow_call_duration", c.slow_call_duration_threshold, {.min = sim::nanoseconds(1)});
    c.window_type = r.choice<svc::sliding_window_type>(
        "window_type",
        {{"count_based", svc::sliding_window_type::count_based}, {"time_based", svc::sliding_window_type::time_based}},
        c.window_type);
    c.sliding_window_size_calls =
        r.optional<std::uint32_t>("window_size_calls", c.sliding_window_size_calls, {.min = 1, .max = 1'000'000});
    c.sliding_window_size_seconds =
        r.optional<std::uint32_t>("window_size_seconds", c.sliding_window_size_seconds, {.min = 1, .max = 86'400});
    c.minimum_number_of_calls =
        r.optional<std::uint32_t>("minimum_calls", c.minimum_number_of_calls, {.min = 1, .max = 1'000'000});
    c.wait_duration_in_open_state =
        r.optional<duration>("wait_in_open", c.wait_duration_in_open_state, {.min = sim::nanoseconds(1)});
    c.wait_duration_in_open_state_multiplier =
        r.optional<double>("wait_in_open_multiplier", c.wait_duration_in_open_state_multiplier, {.min = 1, .max = 100});
    c.permitted_number_of_calls_in_half_open_state = r.optional<std::uint32_t>(
        "half_open_calls", c.permitted_number_of_calls_in_half_open_state, {.min = 1, .max = 1'000'000});
    c.automatic_transition_from_open_to_half_open =
        r.optional<bool>("automatic_half_open", c.automatic_transition_from_open_to_half_open);
    if (r.valid()) report_platform_errors(r, c.validate());
    r.finish();
    return c;
}

svc::load_balancer_config loader::read_load_balancer(object_reader r, svc::load_balancer_config c) {
    c.policy = r.choice<svc::lb_policy>("policy",
                                        {{"round_robin", svc::lb_policy::round_robin},
                                         {"random", svc::lb_policy::random},
                                         {"least_outstanding", svc::lb_policy::least_outstanding},
                                         {"power_of_two_choices", svc::lb_policy::power_of_two_choices}},
                                        c.policy);
    if (auto o = r.maybe_object("outlier_detection")) {
        auto& od = c.outlier_detection;
        od.enabled = o->optional<bool>("enabled", true);
        od.consecutive_5xx =
            o->optional<std::uint32_t>("consecutive_5xx", od.consecutive_5xx, {.min = 1, .max = 10'000});
        od.base_ejection_time =
            o->optional<duration>("base_ejection_time", od.base_ejection_time, {.min = sim::nanoseconds(1)});
        od.max_ejection_time =
            o->optional<duration>("max_ejection_time", od.max_ejection_time, {.min = sim::nanoseconds(1)});
        od.max_ejection_percent =
            o->optional<double>("max_ejection_percent", od.max_ejection_percent, {.min = 0, .max = 100});
        if (o->valid()) report_platform_errors(*o, od.validate());
        o->finish();
    }
    r.finish();
    return c;
}

edge_policy loader::read_edge_policy(object_reader& r, edge_policy p) {
    p.timeout_per_try = r.optional<duration>("timeout", p.timeout_per_try, {.min = sim::nanoseconds(1)});
    p.deadline = r.optional<duration>("deadline", p.deadline, {.min = sim::nanoseconds(1)});
    p.propagate_deadline = r.optional<bool>("propagate_deadline", p.propagate_deadline);
    p.deadline_propagation =
        r.choice<svc::deadline_propagation_mode>("deadline_propagation",
                                                 {{"per_try", svc::deadline_propagation_mode::per_try},
                                                  {"whole_call", svc::deadline_propagation_mode::whole_call}},
                                                 p.deadline_propagation);
    if (auto o = r.maybe_object("retry")) p.retry = read_retry(*o, p.retry);
    if (auto o = r.maybe_object("retry_budget")) {
        svc::retry_budget_config b;
        b.retry_ratio = o->optional<double>("ratio", b.retry_ratio, {.min = 0, .max = 1000});
        b.min_retries_per_second = o->optional<double>("min_retries_per_s", b.min_retries_per_second, {.min = 0});
        b.ttl = o->optional<duration>("ttl", b.ttl, {.min = sim::seconds(1), .max = sim::seconds(60)});
        if (o->valid()) report_platform_errors(*o, b.validate());
        o->finish();
        p.retry_budget = b;
    }
    if (auto o = r.maybe_object("retry_throttle")) {
        svc::retry_throttle_config t;
        t.max_tokens = o->optional<double>("max_tokens", t.max_tokens, {.min = 0, .min_exclusive = true, .max = 1000});
        t.token_ratio = o->optional<double>("token_ratio", t.token_ratio, {.min = 0, .min_exclusive = true});
        o->finish();
        p.retry_throttle = t;
    }
    if (auto o = r.maybe_object("adaptive_throttle")) {
        svc::adaptive_throttle_config t;
        t.accepts_multiplier = o->optional<double>("k", t.accepts_multiplier, {.min = 1, .max = 100});
        t.history_window = o->optional<duration>("window", t.history_window, {.min = sim::seconds(1)});
        t.history_resolution = o->optional<duration>("resolution", t.history_resolution, {.min = sim::milliseconds(1)});
        if (o->valid()) report_platform_errors(*o, t.validate());
        o->finish();
        p.adaptive_throttle = t;
    }
    if (auto o = r.maybe_object("hedging")) {
        p.hedging.max_attempts = o->required<std::uint32_t>("max_attempts", {.min = 1, .max = 10});
        p.hedging.hedging_delay = o->optional<duration>("delay", p.hedging.hedging_delay, {.min = sim::nanoseconds(1)});
        o->finish();
    }
    if (auto o = r.maybe_object("breaker")) p.circuit_breaker = read_breaker(*o);
    if (auto o = r.maybe_object("bulkhead")) {
        svc::bulkhead_config b;
        b.max_concurrent_calls = o->optional<std::uint32_t>("max_concurrent", b.max_concurrent_calls, {.min = 1});
        b.max_wait = o->optional<duration>("max_wait", b.max_wait);
        o->finish();
        p.bulkhead = b;
    }
    if (auto o = r.maybe_object("load_balancer")) p.load_balancer = read_load_balancer(*o, p.load_balancer);
    // gRPC A6: a call has a retry policy or a hedging policy, never both.
    if (r.valid() && p.hedging.enabled() && p.retry.max_attempts > 1) {
        r.error("hedging", "hedging and retries are exclusive (gRPC A6): set retry.max_attempts to 1 or drop hedging");
    }
    return p;
}

station_config loader::read_station(object_reader& r) {
    station_config s;
    s.concurrency = r.optional<std::uint32_t>("concurrency", s.concurrency, {.min = 1, .max = 100'000});
    if (auto q = r.maybe_object("queue")) {
        s.queue_capacity = q->optional<std::uint32_t>("capacity", s.queue_capacity, {.max = 10'000'000});
        s.discipline = q->choice<queue_discipline>(
            "discipline", {{"fifo", queue_discipline::fifo}, {"lifo", queue_discipline::lifo}}, s.discipline);
        s.queue_timeout = q->optional<duration>("timeout", s.queue_timeout, {.min = sim::nanoseconds(1)});
        if (auto c = q->maybe_object("codel")) {
            svc::codel_config codel;
            codel.target = c->optional<duration>("target", codel.target, {.min = sim::nanoseconds(1)});
            codel.interval = c->optional<duration>("interval", codel.interval, {.min = sim::nanoseconds(1)});
            c->finish();
            s.codel = codel;
        }
        s.shed_by_criticality = q->optional<bool>("shed_by_criticality", s.shed_by_criticality);
        q->finish();
    }
    return s;
}

endpoint_config loader::read_endpoint(object_reader r, const std::string& service) {
    endpoint_config e;
    e.path = r.required<std::string>("path", {.non_empty = true});
    e.version = r.optional<int>("version", e.version, {.min = 1, .max = 1000});
    e.method = r.enumeration("method", {"GET", "POST", "PUT", "DELETE", "PATCH"}, "GET");
    if (const value_reader v = r.member("service_time"); v.present()) e.service_time = read_distribution(v);
    e.error_rate = r.optional<double>("error_rate", e.error_rate, {.min = 0, .max = 1});
    e.error_status = r.optional<std::uint16_t>("error_status", e.error_status, {.min = 400, .max = 599});
    e.fanout = r.choice<fanout_mode>(
        "fanout", {{"sequential", fanout_mode::sequential}, {"parallel", fanout_mode::parallel}}, e.fanout);
    e.honour_deadline = r.optional<bool>("honour_deadline", e.honour_deadline);
    for (const value_reader& item : r.array("calls", {.max_items = max_calls_per_endpoint})) {
        object_reader c = item.object();
        downstream_call call;
        read_target(c, call.service, call.endpoint, call.version);
        call.probability = c.optional<double>("probability", 1.0, {.min = 0, .max = 1});
        call.required = c.optional<bool>("required", true);
        call.api_key = c.optional<std::string>("api_key", "", {.non_empty = true});
        (void)service;
        c.finish();
        e.calls.push_back(std::move(call));
    }
    if (auto w = r.maybe_object("write")) e.write = read_write(*w);
    e.replica = r.optional<bool>("replica", e.replica);
    if (r.valid() && e.write && e.replica) r.error("an endpoint is either a \"write\" or a \"replica\", not both");
    r.finish();
    return e;
}

// Where a call or an event goes: service, endpoint and version, remembered for the
// reference check of the second pass.
void loader::read_target(object_reader& r, std::string& service, std::string& endpoint, int& version) {
    service = r.required<std::string>("service", {.non_empty = true});
    endpoint = r.required<std::string>("endpoint", {.non_empty = true});
    version = r.optional<int>("version", 1, {.min = 1, .max = 1000});
    if (r.valid()) {
        service_refs_.push_back({r.member("service"), service});
        endpoint_refs_.push_back({r.member("endpoint"), service, endpoint, version});
    }
}

write_config loader::read_write(object_reader& w) {
    write_config c;
    c.sync = w.choice<write_sync>("sync", {{"before_ack", write_sync::before_ack}, {"periodic", write_sync::periodic}},
                                  c.sync);
    c.sync_interval = w.optional<duration>("sync_interval", c.sync_interval, {.min = sim::microseconds(1)});
    c.dedupe = w.optional<bool>("dedupe", c.dedupe);
    c.database = w.optional<std::string>("database", c.database, {.non_empty = true});
    if (w.valid() && !c.database.empty()) service_reference(w.member("database"), c.database, {"database"});
    c.publish = w.choice<publish_mode>(
        "publish", {{"outbox", publish_mode::outbox}, {"dual_write", publish_mode::dual_write}}, c.publish);
    for (const value_reader& item : w.array("publish_to", {.max_items = max_publish_targets})) {
        object_reader t = item.object();
        publish_target target;
        read_target(t, target.service, target.endpoint, target.version);
        target.api_key = t.optional<std::string>("api_key", "", {.non_empty = true});
        if (t.valid()) publish_target_at_.push_back({t.member("endpoint"), target});
        t.finish();
        c.publish_to.push_back(std::move(target));
    }
    if (w.valid() && c.sync == write_sync::periodic && !c.publish_to.empty()) {
        w.error("sync",
                "\"sync\": \"periodic\" cannot be combined with \"publish_to\": a write is synced before its "
                "event leaves (with its outbox entry, or before a dual write's call)");
    }
    if (w.valid() && !c.database.empty() && (w.has("sync") || w.has("publish") || w.has("publish_to"))) {
        w.error("database",
                "a write kept in a \"database\" is synced there before the answer and publishes no events: "
                "leave out \"sync\", \"publish\" and \"publish_to\"");
    }
    if (w.valid() && w.has("sync_interval") && c.sync != write_sync::periodic) {
        w.error("sync_interval", "\"sync_interval\" applies only to \"sync\": \"periodic\"");
    }
    w.finish();
    return c;
}

service_config loader::read_service(object_reader r) {
    service_config s;
    s.name = r.required<std::string>("name", {.non_empty = true});
    service_name_at_.push_back(r.member("name"));
    endpoint_at_.emplace_back();
    s.instances = r.optional<std::uint32_t>("instances", s.instances, {.min = 1, .max = 10'000});
    r.allow({"description"});
    const std::vector<std::string_view> kinds = service_kind_names();
    const value_reader kind_at = r.member("kind");
    const service_kind* kind = find_service_kind(s.kind);
    if (kind_at.present()) {
        const std::optional<std::size_t> picked = kind_at.pick(kinds);
        kind = picked ? find_service_kind(kinds[*picked]) : nullptr;
    }
    if (kind == nullptr) {
        // One typo, one error: the kind's own keys are not judged against another kind.
        unreadable_endpoints_.insert(s.name);
        if (r.valid()) (void)r.entries();
        return s;
    }
    s.kind = kind->name;
    kind->read(r, s, *this);
    r.finish();
    return s;
}

void loader::read_station_keys(object_reader& r, service_config& s, bool endpoints_required) {
    s.station = read_station(r);
    const value_reader endpoints = r.member("endpoints");
    if (r.valid() && !endpoints.is_array() && (endpoints_required || endpoints.present()))
        unreadable_endpoints_.insert(s.name);
    for (const value_reader& item :
         r.array("endpoints", {.min_items = endpoints_required ? 1U : 0U, .max_items = max_endpoints_per_service})) {
        endpoint_at_.back().push_back(item);
        s.endpoints.push_back(read_endpoint(item.object(), s.name));
    }
    for (const value_reader& key : r.array("api_keys", {.max_items = max_api_keys}))
        s.api_keys.push_back(key.as<std::string>({.non_empty = true}));
    if (auto o = r.maybe_object("rate_limit")) {
        svc::rate_limit_config c;
        c.rate_per_second = o->required<double>("per_consumer_per_s", {.min = 0, .min_exclusive = true});
        c.burst_requests = o->optional<std::uint32_t>("burst", c.burst_requests, {.min = 1});
        o->finish();
        s.rate_limit = c;
    }
}

void loader::add_endpoint(service_config& s, endpoint_config e, value_reader at) {
    endpoint_at_.back().push_back(std::move(at));
    s.endpoints.push_back(std::move(e));
}

void loader::service_reference(value_reader at, std::string name, std::vector<std::string> kinds) {
    if (kinds.empty()) {
        service_refs_.push_back({std::move(at), std::move(name)});
    } else {
        kind_refs_.push_back({std::move(at), std::move(name), std::move(kinds)});
    }
}

void loader::endpoint_reference(value_reader at, std::string service, std::string path, int version) {
    endpoint_refs_.push_back({std::move(at), std::move(service), std::move(path), version});
}

void loader::later(std::function<void(const scenario&)> check) { later_checks_.push_back(std::move(check)); }

open_loop_config loader::read_open_loop(object_reader r) {
    open_loop_config o;
    o.arrivals = r.choice<arrival_process>(
        "arrivals", {{"poisson", arrival_process::poisson}, {"constant", arrival_process::constant}}, o.arrivals);
    o.rate_per_s = r.required<double>("rate_per_s", {.min = 0, .min_exclusive = true, .max = 1e7});
    for (const value_reader& item : r.array("schedule", {.max_items = max_schedule_entries})) {
        object_reader c = item.object();
        rate_change change;
        change.kind = c.choice<rate_change_kind>(
            "kind",
            {{"step", rate_change_kind::step}, {"ramp", rate_change_kind::ramp}, {"spike", rate_change_kind::spike}});
        change.at = c.required<duration>("at");
        change.rate_per_s = c.required<double>("rate_per_s", {.min = 0, .max = 1e7});
        if (change.kind != rate_change_kind::step) {
            change.length = c.required<duration>("for", {.min = sim::nanoseconds(1)});
        }
        // at < previous.at + previous.length, without the sum: both are up to ~292 years
        // and durations are never negative, so the difference cannot overflow.
        if (!o.schedule.empty() && c.valid() && change.at - o.schedule.back().at < o.schedule.back().length) {
            c.error("at", "schedule entries must be in time order and must not overlap");
        }
        c.finish();
        o.schedule.push_back(change);
    }
    r.finish();
    return o;
}

workload_config loader::read_workload(object_reader r) {
    workload_config w;
    w.name = r.required<std::string>("name", {.non_empty = true});
    workload_name_at_.push_back(r.member("name"));
    w.service = r.required<std::string>("service", {.non_empty = true});
    // A contend workload's requests are a kv's GET and PUT: the service must be a kv, no endpoint is named.
    const bool contend = r.has("contend");
    if (contend) {
        w.endpoint = kv_put_path;
        if (r.valid() && !w.service.empty()) service_reference(r.member("service"), w.service, {"kv"});
    } else {
        w.endpoint = r.required<std::string>("endpoint", {.non_empty = true});
        w.version = r.optional<int>("version", 1, {.min = 1, .max = 1000});
        if (r.valid()) {
            service_refs_.push_back({r.member("service"), w.service});
            endpoint_refs_.push_back({r.member("endpoint"), w.service, w.endpoint, w.version});
        }
    }
    w.api_key = r.optional<std::string>("api_key", "", {.non_empty = true});
    w.criticality = r.enumeration("criticality", {"CRITICAL_PLUS", "CRITICAL", "SHEDDABLE_PLUS", "SHEDDABLE"}, "");
    w.start = r.optional<duration>("start", w.start);
    w.stop = r.maybe<duration>("stop", {.min = sim::nanoseconds(1)});
    if (auto o = r.maybe_object("open")) w.open = read_open_loop(*o);
    if (auto c = r.maybe_object("closed")) {
        closed_loop_config cl;
        cl.users = c->required<std::uint32_t>("users", {.min = 1, .max = 1'000'000});
        if (const value_reader v = c->member("think_time"); v.present()) cl.think_time = read_distribution(v);
        c->finish();
        w.closed = cl;
    }
    if (auto c = r.maybe_object("contend")) {
        contend_config cc;
        cc.key = c->required<std::string>("key", {.non_empty = true});
        cc.clients = c->optional<std::uint32_t>("clients", cc.clients, {.min = 1, .max = 10'000});
        cc.updates = c->optional<std::uint32_t>("updates", cc.updates, {.min = 1, .max = 1'000'000});
        cc.compare_and_set = c->optional<bool>("compare_and_set", cc.compare_and_set);
        c->finish();
        w.contend = cc;
    }
    if (r.valid() && contend) {
        for (const std::string_view key : {"endpoint", "version", "open", "closed"}) {
            if (r.has(key)) {
                r.error(key, "a \"contend\" workload updates its key through the kv's GET " + kv_get_path +
                                 " and PUT " + kv_put_path + ": leave \"" + std::string(key) + "\" out");
            }
        }
    } else if (r.valid() && w.open.has_value() == w.closed.has_value()) {
        r.error("a workload needs exactly one of \"open\" and \"closed\"");
    }
    if (auto c = r.maybe_object("client")) {
        w.client = read_edge_policy(*c, w.client);
        c->finish();
    }
    r.finish();
    return w;
}

fault_config loader::read_fault(object_reader r) {
    fault_config f;
    f.kind = r.choice<fault_kind>("kind", {{"crash", fault_kind::crash},
                                           {"pause", fault_kind::pause},
                                           {"slow", fault_kind::slow},
                                           {"clock", fault_kind::clock},
                                           {"link", fault_kind::link},
                                           {"partition", fault_kind::partition},
                                           {"abort", fault_kind::abort},
                                           {"delay", fault_kind::delay}});
    f.at = r.required<duration>("at");
    f.length = r.optional<duration>("for", f.length, {.min = sim::nanoseconds(1)});
    f.repeat_every = r.optional<duration>("repeat_every", f.repeat_every, {.min = sim::nanoseconds(1)});
    f.repeat_until = r.maybe<duration>("repeat_until");
    if (!r.valid()) return f;
    if (!chose(r, "kind", {"crash", "pause", "slow", "clock", "link", "partition", "abort", "delay"})) {
        for (auto& entry : r.entries()) (void)entry;  // the kind decides which keys exist
        return f;
    }
    if (f.repeat_every.count() > 0 && !(f.length.count() > 0 && f.length < f.repeat_every)) {
        r.error("repeat_every", "a repeating fault needs 0 < for < repeat_every");
    }
    const auto services = [&](const value_reader& list, std::vector<std::string>& into) {
        for (const value_reader& name : list.array({.min_items = 1})) {
            into.push_back(name.as<std::string>());
            service_refs_.push_back({name, into.back()});
        }
    };
    if (f.kind == fault_kind::partition) {
        using sim::kernel::partition_shape;
        f.shape = r.choice<partition_shape>("shape",
                                            {{"groups", partition_shape::groups},
                                             {"one_way", partition_shape::one_way},
                                             {"halves", partition_shape::halves},
                                             {"random_halves", partition_shape::random_halves},
                                             {"isolate", partition_shape::isolate},
                                             {"majorities_ring", partition_shape::majorities_ring},
                                             {"bridge", partition_shape::bridge}},
                                            partition_shape::groups);
        f.cut = r.choice<sim::kernel::cut_mode>(
            "mode", {{"drop", sim::kernel::cut_mode::drop}, {"hold", sim::kernel::cut_mode::hold}}, f.cut);
        if (f.shape == partition_shape::groups) {
            for (const value_reader& group : r.array("groups", {.min_items = 2})) {
                f.groups.emplace_back();
                services(group, f.groups.back());
            }
        } else if (f.shape == partition_shape::one_way) {
            services(r.member("from"), f.from_services);
            services(r.member("to"), f.to_services);
            if (!r.has("from") || !r.has("to")) r.error("a one_way partition needs \"from\" and \"to\"");
        } else if (f.shape == partition_shape::isolate) {
            f.service = r.required<std::string>("service", {.non_empty = true});
            service_refs_.push_back({r.member("service"), f.service});
            f.instance = r.optional<std::uint32_t>("instance", 1, {.min = 1});
        }
    } else {
        f.service = r.required<std::string>("service", {.non_empty = true});
        service_refs_.push_back({r.member("service"), f.service});
        f.instance = r.optional<std::uint32_t>("instance", 0, {.min = 1});
    }
    switch (f.kind) {
        case fault_kind::crash: f.restart = r.optional<bool>("restart", true); break;
        case fault_kind::slow:
            f.slow_factor = r.required<double>("factor", {.min = 0, .min_exclusive = true, .max = 1000});
            break;
        case fault_kind::clock:
            f.clock_offset = r.optional<duration>("offset", f.clock_offset);
            f.clock_drift_ppm = r.optional<double>("drift_ppm", 0, {.min = -1e5, .max = 1e5});
            break;
        case fault_kind::link:
            f.to_service = r.optional<std::string>("to", "", {.non_empty = true});
            if (!f.to_service.empty()) service_refs_.push_back({r.member("to"), f.to_service});
            f.link = read_link(r, f.link);
            break;
        case fault_kind::abort:
        case fault_kind::delay:
            f.endpoint = r.optional<std::string>("endpoint", "", {.non_empty = true});
            if (!f.endpoint.empty()) endpoint_refs_.push_back({r.member("endpoint"), f.service, f.endpoint, 0});
            f.probability = r.optional<double>("probability", 1.0, {.min = 0, .max = 1});
            if (f.kind == fault_kind::abort)
                f.status = r.optional<std::uint16_t>("status", 503, {.min = 400, .max = 599});
            if (f.kind == fault_kind::delay) f.delay = r.required<duration>("delay", {.min = sim::nanoseconds(1)});
            break;
        default: break;
    }
    r.finish();
    return f;
}

nemesis_config loader::read_nemesis(object_reader r) {
    using sim::kernel::nemesis_mode;
    nemesis_config n;
    n.mode = r.choice<nemesis_mode>("mode",
                                    {{"flip_flop", nemesis_mode::flip_flop},
                                     {"staggered", nemesis_mode::staggered},
                                     {"swarm", nemesis_mode::swarm}},
                                    n.mode);
    n.start = r.optional<duration>("start", n.start);
    n.stop = r.maybe<duration>("stop", {.min = sim::nanoseconds(1)});
    n.fault_length = r.optional<duration>("fault_length", n.fault_length, {.min = sim::nanoseconds(1)});
    n.interval = r.optional<duration>("interval", n.interval, {.min = sim::nanoseconds(1)});
    // The kernel's names, which are the scenario's ("slow", as in a fault's "kind").
    std::vector<std::string_view> names;
    for (const sim::kernel::fault_kind k : sim::kernel::all_fault_kinds) names.push_back(sim::kernel::to_string(k));
    for (const value_reader& kind : r.array("kinds")) {
        if (kind.is_string() && kind.json()->get_ref<const std::string&>() == "slowness") {
            kind.error("the fault kind is \"slow\" (\"slowness\" was its old name in nemesis kinds)");
            continue;
        }
        if (const auto i = kind.pick(names)) n.kinds.push_back(sim::kernel::all_fault_kinds[*i]);
    }
    for (const value_reader& name : r.array("services")) {
        n.services.push_back(name.as<std::string>());
        service_refs_.push_back({name, n.services.back()});
    }
    r.finish();
    return n;
}

expectation_config loader::read_expectation(object_reader r) {
    expectation_config e;
    e.check = r.enumeration(
        "check", {"slo", "retry_amplification", "goodput", "queue_growth", "blast_radius", "metastability", "breaker",
                  "no_lost_writes", "no_duplicate_effects", "no_unauthenticated", "convergence", "no_lost_updates"});
    e.label = r.optional<std::string>("label", "", {.non_empty = true});
    e.allow_empty = r.optional<bool>("allow_empty", false);
    if (e.check.empty()) {
        for (auto& entry : r.entries()) (void)entry;  // the check decides which keys exist
        return e;
    }
    const auto service = [&](bool required) {
        e.service = required ? r.required<std::string>("service", {.non_empty = true})
                             : r.optional<std::string>("service", "", {.non_empty = true});
        if (!e.service.empty()) service_refs_.push_back({r.member("service"), e.service});
    };
    const auto ratio = [&](std::string_view key) { return r.required<double>(key, {.min = 0, .max = 1}); };
    if (e.check == "slo") {
        service(false);
        e.workload = r.optional<std::string>("workload", "", {.non_empty = true});
        if (!e.workload.empty()) workload_refs_.emplace_back(r.member("workload"), e.workload);
        if (r.valid() && e.service.empty() == e.workload.empty()) {
            r.error("an slo names exactly one of \"service\" and \"workload\"");
        }
        e.endpoint = r.optional<std::string>("endpoint", "", {.non_empty = true});
        if (!e.endpoint.empty() && !e.service.empty()) {
            endpoint_refs_.push_back({r.member("endpoint"), e.service, e.endpoint, 0});
        }
        e.window = r.optional<duration>("window", e.window, {.min = sim::nanoseconds(1)});
        e.error_rate_max = r.maybe<double>("error_rate_max", {.min = 0, .max = 1});
        if (auto l = r.maybe_object("latency")) {
            e.latency_quantile = l->required<double>("quantile", {.min = 0, .min_exclusive = true, .max = 1});
            e.latency_max = l->required<duration>("max", {.min = sim::nanoseconds(1)});
            l->finish();
        }
        if (r.valid() && !e.error_rate_max && !r.has("latency")) {
            r.error("an slo needs \"error_rate_max\", \"latency\" or both");
        }
    } else if (e.check == "retry_amplification") {
        service(true);
        e.max_ratio = r.required<double>("max", {.min = 0});
    } else if (e.check == "goodput") {
        e.workload = r.optional<std::string>("workload", "", {.non_empty = true});
        if (!e.workload.empty()) workload_refs_.emplace_back(r.member("workload"), e.workload);
        e.min_ratio = ratio("min_ratio");
    } else if (e.check == "queue_growth") {
        service(true);
        e.max_depth = r.required<std::uint64_t>("max_depth");
    } else if (e.check == "blast_radius") {
        e.window = r.optional<duration>("window", e.window, {.min = sim::nanoseconds(1)});
        e.error_rate_max = ratio("error_rate_max");
        e.max_services = r.required<std::uint32_t>("max_services");
    } else if (e.check == "metastability") {
        e.workload = r.optional<std::string>("workload", "", {.non_empty = true});
        if (!e.workload.empty()) workload_refs_.emplace_back(r.member("workload"), e.workload);
        e.trigger_end = r.maybe<duration>("trigger_end");
        e.within = r.required<duration>("within");
        e.window = r.optional<duration>("window", sim::seconds(1), {.min = sim::nanoseconds(1)});
        e.min_ratio = ratio("goodput_min_ratio");
    } else if (e.check == "no_lost_writes" || e.check == "no_duplicate_effects") {
        service(true);
        write_service_refs_.emplace_back(r.member("service"), e.service);
    } else if (e.check == "no_unauthenticated") {
        service(false);
    } else if (e.check == "convergence") {
        service(true);
        write_service_refs_.emplace_back(r.member("service"), e.service);
        for (const value_reader& item : r.array("replicas", {.min_items = 1})) {
            e.replicas.push_back(item.as<std::string>({.non_empty = true}));
            service_refs_.push_back({item, e.replicas.back()});
        }
        e.within = r.required<duration>("within");
        replica_refs_.push_back({r.member("replicas"), e.service, e.replicas});
    } else if (e.check == "no_lost_updates") {
        e.workload = r.required<std::string>("workload", {.non_empty = true});
        if (!e.workload.empty()) workload_refs_.emplace_back(r.member("workload"), e.workload);
    } else if (e.check == "breaker") {
        service(true);
        e.to_service = r.required<std::string>("to", {.non_empty = true});
        service_refs_.push_back({r.member("to"), e.to_service});
        e.state = r.enumeration("state", {"open", "closed", "half_open"});
        e.when = r.enumeration("when", {"ever", "never", "at_end"}, "ever");
    }
    r.finish();
    return e;
}

network_config loader::read_network(object_reader r) {
    network_config n;
    if (auto d = r.maybe_object("defaults")) {
        n.defaults = read_link(*d, n.defaults);
        d->finish();
    }
    for (const value_reader& item : r.array("links", {.max_items = max_link_overrides})) {
        object_reader l = item.object();
        link_override o;
        o.from = l.required<std::string>("from", {.non_empty = true});
        o.to = l.required<std::string>("to", {.non_empty = true});
        if (o.from != "*") service_refs_.push_back({l.member("from"), o.from});
        if (o.to != "*") service_refs_.push_back({l.member("to"), o.to});
        o.link = read_link(l, n.defaults);
        l.finish();
        n.links.push_back(std::move(o));
    }
    r.finish();
    return n;
}

scenario loader::read() {
    scenario s;
    const std::size_t errors_before = doc_.out().count();
    object_reader root = doc_.root();
    s.name = root.required<std::string>("name", {.non_empty = true});
    s.description = root.optional<std::string>("description", "", {.free_text = true});
    s.seed = root.optional<std::uint64_t>("seed", s.seed);
    s.duration =
        root.required<duration>("duration", {.min = sim::milliseconds(1), .max = run_limits::max_run_duration});
    s.warmup = root.optional<duration>("warmup", s.warmup);
    warmup_at_ = root.member("warmup");
    s.bucket = root.optional<duration>("bucket", s.bucket, {.min = sim::milliseconds(1)});
    bucket_at_ = root.member("bucket");
    for (const value_reader& item : root.array("services", {.min_items = 1, .max_items = max_services})) {
        s.services.push_back(read_service(item.object()));
    }
    if (auto d = root.maybe_object("default_edge")) {
        s.default_edge = read_edge_policy(*d, s.default_edge);
        d->finish();
    }
    for (const value_reader& item : root.array("edges", {.max_items = max_edges})) {
        object_reader e = item.object();
        edge_config edge;
        edge.from = e.required<std::string>("from", {.non_empty = true});
        edge.to = e.required<std::string>("to", {.non_empty = true});
        if (e.valid()) {
            service_refs_.push_back({e.member("from"), edge.from});
            service_refs_.push_back({e.member("to"), edge.to});
        }
        edge.policy = read_edge_policy(e, s.default_edge);
        edge_at_.push_back(item);
        e.finish();
        s.edges.push_back(std::move(edge));
    }
    for (const value_reader& item : root.array("workloads", {.min_items = 1, .max_items = max_workloads})) {
        workload_config w = read_workload(item.object());
        s.workloads.push_back(std::move(w));
    }
    if (auto n = root.maybe_object("network")) s.network = read_network(*n);
    for (const value_reader& item : root.array("faults", {.max_items = max_faults}))
        s.faults.push_back(read_fault(item.object()));
    if (auto n = root.maybe_object("nemesis")) s.nemesis = read_nemesis(*n);
    for (const value_reader& item : root.array("expectations", {.max_items = max_expectations})) {
        s.expectations.push_back(read_expectation(item.object()));
    }
    root.allow({"$schema"});
    root.finish();
    check_references(s);
    for (const auto& check : later_checks_) check(s);
    check_call_cycles(s);
    check_combinations(s);
    if (doc_.out().count() == errors_before) {
        // Only on an otherwise sound file: these follow references the checks above
        // proved, and one typo should not also read as "receives no requests".
        check_workloads_send(s);
        check_expectations_observe(s);
        warn_unretryable_edges(s);
    }
    // Costs are estimated from values that are all valid, or they could mislead.
    if (doc_.out().count() == errors_before) check_limits(s);
    return s;
}

// What the run would cost (harness/scenario/limits.hpp), at the value that sets it: the
// pointer if the file writes it, else its fallback, else the nearest enclosing value.
void loader::check_limits(const scenario& s) {
    for (const limit_problem& p : check_run_limits(s, s.duration)) {
        std::string pointer = p.pointer;
        if (!doc_.source().value_position(pointer) && !p.fallback_pointer.empty()) pointer = p.fallback_pointer;
        while (!pointer.empty() && !doc_.source().value_position(pointer)) pointer.resize(pointer.rfind('/'));
        doc_.report(pointer, false, p.message);
    }
}

std::string loader::unknown_name(std::string_view what, const std::string& name,
                                 const std::vector<std::string>& known) {
    std::string message = "no " + std::string(what) + " named " + quote(name);
    if (auto suggestion = did_you_mean(name, known)) message += " (did you mean " + quote(*suggestion) + "?)";
    return message;
}

void loader::check_references(const scenario& s) {
    std::vector<std::string> services;
    for (std::size_t i = 0; i < s.services.size(); ++i) {
        const std::string& name = s.services[i].name;
        if (name.empty()) continue;
        if (std::find(services.begin(), services.end(), name) != services.end()) {
            service_name_at_[i].error("service " + quote(name) + " is defined twice");
        }
        services.push_back(name);
        std::set<std::pair<std::string, int>> seen;
        for (std::size_t j = 0; j < s.services[i].endpoints.size(); ++j) {
            const auto& e = s.services[i].endpoints[j];
            if (!e.path.empty() && !seen.insert({e.path, e.version}).second) {
                endpoint_at_[i][j].error("endpoint " + quote(e.path) + " version " + std::to_string(e.version) +
                                         " is defined twice in service " + quote(name));
            }
        }
    }
    for (const reference& r : service_refs_) {
        if (r.name.empty() || std::find(services.begin(), services.end(), r.name) != services.end()) continue;
        r.at.error(unknown_name("service", r.name, services));
    }
    for (const kind_reference& r : kind_refs_) {
        if (r.name.empty()) continue;
        std::vector<std::string> of_kind;  // the services it could have meant
        for (const service_config& svc : s.services) {
            if (std::find(r.kinds.begin(), r.kinds.end(), svc.kind) != r.kinds.end()) of_kind.push_back(svc.name);
        }
        const service_config* named = s.find_service(r.name);
        std::string kinds = quote(r.kinds.front());
        for (std::size_t k = 1; k < r.kinds.size(); ++k)
            kinds += (k + 1 == r.kinds.size() ? " or " : ", ") + quote(r.kinds[k]);
        if (named == nullptr) {
            r.at.error(unknown_name(std::string("service of kind ") + kinds, r.name, of_kind));
        } else if (std::find(r.kinds.begin(), r.kinds.end(), named->kind) == r.kinds.end()) {
            r.at.error("service " + quote(r.name) + " is of kind " + quote(named->kind) + ", not " + kinds);
        }
    }
    for (const endpoint_ref& r : endpoint_refs_) {
        const service_config* svc = s.find_service(r.service);
        // An empty name was reported where it was read (and may match a service whose own name was wrong).
        if (svc == nullptr || r.service.empty() || r.path.empty() || unreadable_endpoints_.contains(r.service))
            continue;
        std::vector<std::string> paths;
        bool found = false;
        for (const auto& e : svc->endpoints) {
            paths.push_back(e.path);
            if (e.path == r.path && (r.version == 0 || e.version == r.version)) found = true;
        }
        if (found) continue;
        if (std::find(paths.begin(), paths.end(), r.path) != paths.end()) {
            r.at.error("service " + quote(r.service) + " has no version " + std::to_string(r.version) +
                       " of endpoint " + quote(r.path));
        } else {
            r.at.error(unknown_name("endpoint", r.path, paths) + " in service " + quote(r.service));
        }
    }
    std::vector<std::string> workloads;
    for (std::size_t i = 0; i < s.workloads.size(); ++i) {
        const std::string& name = s.workloads[i].name;
        if (name.empty()) continue;
        if (std::find(workloads.begin(), workloads.end(), name) != workloads.end()) {
            workload_name_at_[i].error("workload " + quote(name) + " is defined twice");
        }
        workloads.push_back(name);
    }
    for (const auto& [at, name] : workload_refs_) {
        if (std::find(workloads.begin(), workloads.end(), name) == workloads.end()) {
            at.error(unknown_name("workload", name, workloads));
        }
    }
    std::set<std::pair<std::string, std::string>> edges;
    for (std::size_t i = 0; i < s.edges.size(); ++i) {
        if (!edges.insert({s.edges[i].from, s.edges[i].to}).second) {
            edge_at_[i].error("edge " + quote(s.edges[i].from) + " -> " + quote(s.edges[i].to) + " is defined twice");
        }
    }
}

// A call cycle with every probability 1 would recurse forever; any cycle at all
// makes the request tree unbounded, so cycles are rejected.
void loader::check_call_cycles(const scenario& s) {
    std::map<std::string, std::set<std::string>> calls;
    for (const auto& svc : s.services) {
        for (const auto& e : svc.endpoints) {
            for (const auto& c : e.calls) calls[svc.name].insert(c.service);
        }
    }
    std::map<std::string, int> color;  // 0 new, 1 on the stack, 2 done
    std::vector<std::string> path;
    std::function<bool(const std::string&)> visit = [&](const std::string& name) {
        color[name] = 1;
        path.push_back(name);
        for (const std::string& next : calls[name]) {
            if (color[next] == 1) {
                std::string cycle;
                auto from = std::find(path.begin(), path.end(), next);
                for (auto it = from; it != path.end(); ++it) cycle += *it + " -> ";
                doc_.report("/services", false, "services call each other in a cycle: " + cycle + next);
                return true;
            }
            if (color[next] == 0 && visit(next)) return true;
        }
        color[name] = 2;
        path.pop_back();
        return false;
    };
    for (const auto& svc : s.services) {
        if (color[svc.name] == 0 && visit(svc.name)) return;
    }
}

void loader::check_combinations(const scenario& s) {
    if (s.warmup >= s.duration && s.duration.count() > 0) {
        warmup_at_.error("warmup (" + sim::format_duration(s.warmup) + ") must be shorter than the duration (" +
                         sim::format_duration(s.duration) + ")");
    }
    if (s.bucket > s.duration && s.duration.count() > 0) {
        bucket_at_.error("bucket (" + sim::format_duration(s.bucket) + ") must not be longer than the duration");
    }
    for (std::size_t i = 0; i < s.faults.size(); ++i) {
        const fault_config& f = s.faults[i];
        const std::string where = "/faults/" + std::to_string(i);
        const service_config* svc = s.find_service(f.service);
        if (svc != nullptr && f.instance > svc->instances) {
            doc_.report(where + "/instance", false,
                        "service " + quote(f.service) + " has " + std::to_string(svc->instances) +
                            " instance(s); instance " + std::to_string(f.instance) + " does not exist");
        }
        std::set<std::string> seen;
        for (const auto& group : f.groups) {
            for (const auto& name : group) {
                if (!name.empty() && !seen.insert(name).second) {
                    doc_.report(where + "/groups", false, "partition names service " + quote(name) + " twice");
                }
            }
        }
        for (const std::string& e : f.link.validate("link")) {
            if (f.kind == fault_kind::link) doc_.report(where, false, e);
        }
    }
    for (const auto& [at, target] : publish_target_at_) {
        const service_config* svc = s.find_service(target.service);
        if (svc == nullptr) continue;
        for (const endpoint_config& e : svc->endpoints) {
            if (e.path == target.endpoint && e.version == target.version && !e.replica) {
                at.error("endpoint " + quote(target.endpoint) + " of service " + quote(target.service) +
                         " is not a replica endpoint (\"replica\": true): it would not store the events");
            }
        }
    }
    for (const replica_reference& ref : replica_refs_) {
        const service_config* source = s.find_service(ref.source);
        if (source == nullptr) continue;
        for (const std::string& replica : ref.replicas) {
            if (s.find_service(replica) == nullptr) continue;
            bool fed = false;
            for (const endpoint_config& e : source->endpoints) {
                if (!e.write) continue;
                for (const publish_target& t : e.write->publish_to) fed |= t.service == replica;
            }
            if (!fed) {
                ref.at.error("service " + quote(replica) + " receives no events from " + quote(ref.source) +
                             ": no write endpoint of " + quote(ref.source) + " publishes to it");
            }
        }
    }
    for (const auto& [at, name] : write_service_refs_) {
        const service_config* svc = s.find_service(name);
        if (svc == nullptr) continue;
        if (std::none_of(svc->endpoints.begin(), svc->endpoints.end(),
                         [](const endpoint_config& e) { return e.write.has_value(); })) {
            at.error("service " + quote(name) + " has no write endpoint (\"write\": {...}): there is nothing to check");
        }
    }
    for (const std::string& e : s.network.defaults.validate("network.defaults")) doc_.report("/network", false, e);
    for (std::size_t i = 0; i < s.workloads.size(); ++i) {
        const workload_config& w = s.workloads[i];
        if (w.stop && *w.stop <= w.start) {
            doc_.report("/workloads/" + std::to_string(i) + "/stop", false, "stop must be after start");
        }
    }
}

// --- checks that cannot see anything ------------------------------------------------
// A check over requests nobody sends, an edge nobody calls or a breaker nobody
// configured would pass without testing anything. These are errors at load time,
// located at the key that makes them empty; the checkers' "no samples" verdict
// covers what only the run can tell (a workload that a fault keeps silent).

namespace {

std::string where_expectation(std::size_t i) { return "/expectations/" + std::to_string(i); }

// What requests can reach, following workloads, calls (probability > 0) and the
// events write endpoints publish.
struct traffic {
    std::set<std::tuple<std::string, std::string, int>> endpoints;  // service, path, version
    std::set<std::string> services;
    std::set<std::pair<std::string, std::string>> edges;  // caller service -> callee service

    bool reaches(const std::string& service, const std::string& path) const {
        for (const auto& [svc, p, v] : endpoints) {
            if (svc == service && p == path) return true;
        }
        return false;
    }
};

traffic traffic_of(const scenario& s) {
    traffic t;
    std::vector<std::tuple<std::string, std::string, int>> pending;
    for (const workload_config& w : s.workloads) {
        if (w.start < s.duration && (!w.stop || *w.stop > w.start))
            pending.emplace_back(w.service, w.endpoint, w.version);
    }
    while (!pending.empty()) {
        const auto next = pending.back();
        pending.pop_back();
        if (!t.endpoints.insert(next).second) continue;
        const auto& [service, path, version] = next;
        t.services.insert(service);
        const service_config* svc = s.find_service(service);
        if (svc == nullptr) continue;
        for (const endpoint_config& e : svc->endpoints) {
            if (e.path != path || e.version != version) continue;
            for (const downstream_call& c : e.calls) {
                if (c.probability <= 0) continue;
                t.edges.insert({service, c.service});
                pending.emplace_back(c.service, c.endpoint, c.version);
            }
            if (!e.write) continue;
            for (const publish_target& p : e.write->publish_to) {
                t.edges.insert({service, p.service});
                pending.emplace_back(p.service, p.endpoint, p.version);
            }
        }
    }
    return t;
}

// When the last scheduled fault ends (as the world computes it); nullopt when a
// nemesis decides it at run time.
std::optional<duration> last_fault_end(const scenario& s) {
    if (s.nemesis) return std::nullopt;
    duration last{0};
    for (const fault_config& f : s.faults) {
        // Compared as differences, never summed: `at` and `for` may each be near the maximum.
        const duration start = f.repeat_every.count() > 0 ? f.repeat_until.value_or(s.duration) : f.at;
        const bool past_end = f.length.count() == 0 || f.length >= s.duration || start >= s.duration - f.length;
        const duration end = past_end ? s.duration : start + f.length;
        last = std::max(last, end);
    }
    return last;
}

}  // namespace

void loader::warn(const std::string& pointer, std::string message) const {
    const json_source& source = doc_.source();
    doc_.out().warning(source.file(), source.value_position(pointer).value_or(source_position{}), pointer,
                       std::move(message));
}

namespace {

// A call may be repeated (retried after a handler saw it, or hedged) only when it is
// idempotent by its method (RFC 9110) or carries an idempotency key: the harness
// sends one on calls to write endpoints and on published events.
bool repeatable(const endpoint_config& callee) {
    return svc::is_idempotent_method(callee.method) || callee.write.has_value();
}

const endpoint_config* find_endpoint(const scenario& s, const std::string& service, const std::string& path,
                                     int version) {
    const service_config* svc = s.find_service(service);
    if (svc == nullptr) return nullptr;
    for (const endpoint_config& e : svc->endpoints) {
        if (e.path == path && e.version == version) return &e;
    }
    return nullptr;
}

bool repeats(const edge_policy& p) { return p.retry.max_attempts > 1 || p.hedging.enabled(); }

std::string repeat_words(const edge_policy& p) {
    return p.retry.max_attempts > 1 ? "retries (max_attempts " + std::to_string(p.retry.max_attempts) + ")"
                                    : "hedges (max_attempts " + std::to_string(p.hedging.max_attempts) + ")";
}

// The endpoints called over from -> to, and whether each call could be repeated
// (published events always carry a key).
struct edge_calls {
    std::vector<std::string> unrepeatable;  // "POST /charge"
    std::size_t repeatable = 0;
};

std::map<std::pair<std::string, std::string>, edge_calls> calls_by_edge(const scenario& s) {
    std::map<std::pair<std::string, std::string>, edge_calls> by_edge;
    for (const service_config& svc : s.services) {
        for (const std::string& callee : svc.talks_to) ++by_edge[{svc.name, callee}].repeatable;
        for (const endpoint_config& e : svc.endpoints) {
            for (const downstream_call& c : e.calls) {
                edge_calls& calls = by_edge[{svc.name, c.service}];
                const endpoint_config* callee = find_endpoint(s, c.service, c.endpoint, c.version);
                if (callee == nullptr || repeatable(*callee)) {
                    ++calls.repeatable;
                } else if (const std::string what = callee->method + " " + c.endpoint;
                           std::find(calls.unrepeatable.begin(), calls.unrepeatable.end(), what) ==
                           calls.unrepeatable.end()) {
                    calls.unrepeatable.push_back(what);
                }
            }
            if (!e.write) continue;
            for (const publish_target& t : e.write->publish_to) ++by_edge[{svc.name, t.service}].repeatable;
        }
    }
    return by_edge;
}

std::string never_repeated(const std::vector<std::string>& calls) {
    std::string list;
    for (std::size_t i = 0; i < calls.size(); ++i) list += (i ? ", " : "") + calls[i];
    return "can be repeated: " + list + (calls.size() == 1 ? " is" : " are") +
           " neither idempotent (GET, PUT, DELETE) nor sent with an idempotency key (a \"write\" endpoint), so "
           "only refused connections are retried";
}

}  // namespace

// A retry policy on calls that may not be repeated does nothing (correct semantics:
// a POST without an idempotency key is never retried), which a user would not guess.
void loader::warn_unretryable_edges(const scenario& s) {
    const auto by_edge = calls_by_edge(s);
    const auto at_policy = [&](const std::string& base, const edge_policy& p) {
        const std::string key = p.retry.max_attempts > 1 ? "/retry" : "/hedging";
        return doc_.source().value_position(base + key) ? base + key : base;
    };
    std::set<std::pair<std::string, std::string>> explicit_edges;
    for (std::size_t i = 0; i < s.edges.size(); ++i) {
        const edge_config& edge = s.edges[i];
        explicit_edges.insert({edge.from, edge.to});
        if (!repeats(edge.policy)) continue;
        const std::string where = at_policy("/edges/" + std::to_string(i), edge.policy);
        const std::string name = "edge " + quote(edge.from) + " -> " + quote(edge.to);
        const auto calls = by_edge.find({edge.from, edge.to});
        if (calls == by_edge.end()) {
            warn(where, name + " " + repeat_words(edge.policy) + ", but " + quote(edge.from) + " never calls " +
                            quote(edge.to) + ": the policy is never used");
        } else if (calls->second.repeatable == 0) {
            warn(where, name + " " + repeat_words(edge.policy) + ", but no call over it " +
                            never_repeated(calls->second.unrepeatable));
        }
    }
    if (repeats(s.default_edge)) {
        for (const auto& [edge, calls] : by_edge) {
            if (explicit_edges.contains(edge) || calls.repeatable > 0) continue;
            warn(at_policy("/default_edge", s.default_edge),
                 "default_edge " + repeat_words(s.default_edge) + ", but no call over " + quote(edge.first) + " -> " +
                     quote(edge.second) + " (which uses it) " + never_repeated(calls.unrepeatable));
        }
    }
    for (std::size_t i = 0; i < s.workloads.size(); ++i) {
        const workload_config& w = s.workloads[i];
        const endpoint_config* callee = find_endpoint(s, w.service, w.endpoint, w.version);
        if (!repeats(w.client) || callee == nullptr || repeatable(*callee)) continue;
        warn(at_policy("/workloads/" + std::to_string(i) + "/client", w.client),
             "the client of workload " + quote(w.name) + " " + repeat_words(w.client) + ", but no request " +
                 never_repeated({callee->method + " " + w.endpoint}));
    }
}

// A workload that starts when the run is over sends nothing at all.
void loader::check_workloads_send(const scenario& s) {
    for (std::size_t i = 0; i < s.workloads.size(); ++i) {
        const workload_config& w = s.workloads[i];
        if (w.start < s.duration) continue;
        doc_.report("/workloads/" + std::to_string(i) + "/start", false,
                    "workload " + quote(w.name) + " starts at " + sim::format_duration(w.start) +
                        ", when the run is over (duration " + sim::format_duration(s.duration) +
                        "): it would send nothing");
    }
}

void loader::check_expectations_observe(const scenario& s) {
    const traffic t = traffic_of(s);
    // The requests a check sees are those after the warmup.
    const auto workload_silent = [&](const workload_config& w) {
        return w.start >= s.duration || w.stop.value_or(s.duration) <= s.warmup;
    };
    const auto check_workload = [&](std::size_t i, const expectation_config& e) {
        const std::string at = where_expectation(i);
        if (!e.workload.empty()) {
            for (const workload_config& w : s.workloads) {
                if (w.name != e.workload || !workload_silent(w)) continue;
                doc_.report(at + "/workload", false,
                            "workload " + quote(w.name) + " stops at " +
                                sim::format_duration(w.stop.value_or(s.duration)) + ", before the warmup ends (" +
                                sim::format_duration(s.warmup) + "): the check would see none of its requests");
            }
        } else if (std::all_of(s.workloads.begin(), s.workloads.end(), workload_silent)) {
            doc_.report(at, false,
                        "every workload stops before the warmup ends (" + sim::format_duration(s.warmup) +
                            "): the check would see no requests");
        }
    };
    const auto check_service = [&](std::size_t i, const expectation_config& e) {
        if (e.service.empty() || t.services.contains(e.service)) return;
        doc_.report(where_expectation(i) + "/service", false,
                    "service " + quote(e.service) +
                        " receives no requests (no workload reaches it, directly or through calls): the check "
                        "would see nothing");
    };
    for (std::size_t i = 0; i < s.expectations.size(); ++i) {
        const expectation_config& e = s.expectations[i];
        const std::string at = where_expectation(i);
        if (e.check == "slo" || e.check == "goodput" || e.check == "metastability" || e.check == "no_lost_updates") {
            if (e.service.empty()) check_workload(i, e);
        }
        if (e.check == "no_lost_updates") {
            const auto w = std::find_if(s.workloads.begin(), s.workloads.end(),
                                        [&](const workload_config& x) { return x.name == e.workload; });
            if (w != s.workloads.end() && !w->contend) {
                doc_.report(at + "/workload", false,
                            "workload " + quote(e.workload) +
                                " has no \"contend\": no_lost_updates judges the key a contend workload updates");
            }
        }
        if (e.check == "slo" || e.check == "queue_growth" || e.check == "retry_amplification" ||
            e.check == "no_unauthenticated" || e.check == "breaker") {
            check_service(i, e);
        }
        if (e.check == "slo" && !e.service.empty() && !e.endpoint.empty() && t.services.contains(e.service) &&
            !t.reaches(e.service, e.endpoint)) {
            doc_.report(at + "/endpoint", false,
                        "endpoint " + quote(e.endpoint) + " of service " + quote(e.service) +
                            " receives no requests (no workload reaches it, directly or through calls): the check "
                            "would see nothing");
        }
        if (e.check == "no_lost_writes" || e.check == "no_duplicate_effects" || e.check == "convergence") {
            const service_config* svc = s.find_service(e.service);
            bool written = false;
            for (const endpoint_config& ep : svc->endpoints) {
                written |= ep.write.has_value() && t.endpoints.contains({e.service, ep.path, ep.version});
            }
            if (!written) {
                doc_.report(at + "/service", false,
                            "no write endpoint of service " + quote(e.service) +
                                " receives requests (no workload reaches one, directly or through calls): the "
                                "check would see no writes");
            }
        }
        if (e.check == "breaker" && t.services.contains(e.service)) {
            if (!t.edges.contains({e.service, e.to_service})) {
                doc_.report(at + "/to", false,
                            "service " + quote(e.service) + " never calls " + quote(e.to_service) +
                                " (no endpoint of it that requests reach calls or publishes to " + quote(e.to_service) +
                                "): there is no edge for the check to see");
            } else if (!s.policy_for(e.service, e.to_service).circuit_breaker) {
                doc_.report(at + "/to", false,
                            "the edge " + quote(e.service) + " -> " + quote(e.to_service) +
                                " has no circuit breaker (no \"breaker\" in its edge or in default_edge): the "
                                "check would test nothing");
            }
        }
        if (e.check == "metastability") {
            const std::optional<duration> trigger = e.trigger_end ? e.trigger_end : last_fault_end(s);
            if (!e.trigger_end && s.faults.empty() && !s.nemesis) {
                doc_.report(at, false,
                            "no fault is scheduled and no \"trigger_end\" is given: there is nothing to recover "
                            "from");
            } else if (trigger && (*trigger >= s.duration || e.within >= s.duration - *trigger)) {
                doc_.report(at + "/within", false,
                            "recovery would be judged from " + sim::format_duration(*trigger) + " + " +
                                sim::format_duration(e.within) + " (trigger end + within), not before the run ends (" +
                                sim::format_duration(s.duration) + "): the check would see no window");
            }
        }
    }
}

std::uint64_t canonical_hash(const nlohmann::json& value) { return sim::stable_hash(value.dump()); }

std::optional<scenario> finish_load(const json_source& source, diagnostics& out) {
    const std::size_t before = out.count();
    document_reader doc(source, out);
    loader l(doc);
    scenario s = l.read();
    if (out.count() != before) return std::nullopt;
    s.source_hash = canonical_hash(source.value());
    s.source_file = source.file();
    return s;
}

}  // namespace

const service_config* scenario::find_service(std::string_view name) const {
    for (const auto& s : services) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

edge_policy scenario_edge_defaults() {
    edge_policy p;
    p.retry.max_attempts = 1;
    p.retry_budget.reset();
    p.circuit_breaker.reset();
    p.bulkhead.reset();
    p.load_balancer.outlier_detection.enabled = false;
    return p;
}

const edge_policy& scenario::policy_for(std::string_view from, std::string_view to) const {
    for (const auto& e : edges) {
        if (e.from == from && e.to == to) return e.policy;
    }
    return default_edge;
}

std::optional<scenario> load_scenario_text(std::string_view text, std::string file, diagnostics& out) {
    const auto source = parse_json(text, std::move(file), out);
    if (!source) return std::nullopt;
    return finish_load(*source, out);
}

std::optional<scenario> load_scenario_file(const std::filesystem::path& path, diagnostics& out) {
    const auto source = load_json_file(path, out);
    if (!source) return std::nullopt;
    return finish_load(*source, out);
}

}  // namespace meshsim::harness
