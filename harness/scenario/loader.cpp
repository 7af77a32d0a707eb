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

#include "harness/checkers/checker.hpp"
#include "harness/fault_kinds/fault_kind.hpp"
#include "harness/kinds/discovery.hpp"
#include "harness/kinds/service_kind.hpp"
#include "harness/scenario/limits.hpp"
#include "harness/scenario/link_reader.hpp"
#include "harness/scenario/reader.hpp"
#include "harness/world/actions.hpp"

namespace meshsim::harness {

namespace {

using sim::duration;

// How many items the lists of a scenario may hold (docs/scenario-format.md, Limits).
// Far above any real model; they bound what a hostile file can make the loader build.
constexpr std::size_t max_services = 1'000;
constexpr std::size_t max_endpoints_per_service = 1'000;
constexpr std::size_t max_calls_per_endpoint = 100;
constexpr std::size_t max_publish_targets = 100;
constexpr std::size_t max_event_fields = 100;
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
    bool direct = false;  // a call or a workload (not a publish target or a check)
};

class loader final : public kind_reader {
public:
    loader(const document_reader& doc, const load_options& options) : doc_(doc), options_(options) {}
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
    svc::backoff_config read_backoff(object_reader& r, svc::backoff_config base);
    svc::retry_policy_config read_retry(object_reader r, svc::retry_policy_config base);
    svc::circuit_breaker_config read_breaker(object_reader r);
    svc::load_balancer_config read_load_balancer(object_reader r, svc::load_balancer_config base);
    void read_station(object_reader& r, svc::service_config& s);
    endpoint_config read_endpoint(object_reader r, const std::string& service);
    write_config read_write(object_reader& w);
    read_config read_read(object_reader& r);
    session_config read_session(object_reader& r);
    // direct: a call, which must not name a kind's internal endpoint (a publish target may).
    void read_target(object_reader& r, std::string& service, std::string& endpoint, int& version, bool direct);
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
    void check_reads(const scenario& s);
    // A database some read endpoint reads from serves GET /records/lookup too.
    static void add_database_lookups(scenario& s);
    // Checks that would pass without testing anything (the checkers' "no samples"
    // verdict is the run-time counterpart), and retry policies that can never retry.
    void check_workloads_send(const scenario& s);
    void check_expectations_observe(const scenario& s);
    void warn_unretryable_edges(const scenario& s);
    void warn(const std::string& pointer, std::string message) const;
    svc::planted_bug read_planted_bug(object_reader& root) const;
    void check_limits(const scenario& s);
    std::string unknown_name(std::string_view what, const std::string& name, const std::vector<std::string>& known);

    const document_reader& doc_;
    const load_options& options_;
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
    std::vector<std::pair<value_reader, publish_target>> publish_topic_at_;   // must name brokers
    std::vector<std::pair<value_reader, std::string>> write_service_refs_;    // must have a write endpoint
    std::vector<std::pair<value_reader, std::string>> effect_service_refs_;   // ... or apply effects of its kind
    struct replica_reference {
        value_reader at;
        std::string source;
        std::vector<std::string> replicas;  // each must receive the source's events
    };
    std::vector<replica_reference> replica_refs_;
    struct read_reference {
        value_reader at;      // the "from"
        std::size_t service;  // index in the scenario's services
        read_config read;
    };
    std::vector<read_reference> read_refs_;                                  // must name write endpoints
    std::vector<std::pair<value_reader, std::size_t>> session_workload_at_;  // by workload index
};

sim::duration_distribution loader::read_distribution(const value_reader& v) { return harness::read_distribution(v); }

void loader::report_platform_errors(const object_reader& r, const std::vector<std::string>& errors) {
    for (const std::string& e : errors) r.error(e);
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

void loader::read_station(object_reader& r, svc::service_config& s) {
    s.max_concurrent_requests =
        r.optional<std::uint32_t>("concurrency", s.max_concurrent_requests, {.min = 1, .max = 100'000});
    if (auto q = r.maybe_object("queue")) {
        s.queue_capacity = q->optional<std::uint32_t>("capacity", s.queue_capacity, {.max = 10'000'000});
        s.queue_order = q->choice<svc::queue_discipline>(
            "discipline", {{"fifo", svc::queue_discipline::fifo}, {"lifo", svc::queue_discipline::lifo}},
            s.queue_order);
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
    if (auto o = r.maybe_object("rate_limit")) {
        svc::rate_limit_config c;
        c.rate_per_second = o->required<double>("per_consumer_per_s", {.min = 0, .min_exclusive = true});
        c.burst_requests = o->optional<std::uint32_t>("burst", c.burst_requests, {.min = 1});
        o->finish();
        s.rate_limit = c;
    }
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
        read_target(c, call.service, call.endpoint, call.version, true);
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
    if (auto rd = r.maybe_object("read")) {
        e.read = read_read(*rd);
        if (rd->valid() && !e.read->from.empty())
            read_refs_.push_back({rd->member("from"), endpoint_at_.size() - 1, *e.read});
    }
    if (r.valid() && e.read && (e.write || e.replica)) {
        r.error("read", std::string("an endpoint either reads (\"read\") or stores records (\"") +
                            (e.write ? "write" : "replica") + "\"), not both");
    }
    e.reader = r.choice<event_reader>(
        "reader", {{"tolerant", event_reader::tolerant}, {"strict", event_reader::strict}}, e.reader);
    if (r.valid() && r.has("reader") && !e.replica) {
        r.error("reader", "\"reader\" is how a replica endpoint reads events: it needs \"replica\": true");
    }
    read_flag_variant(r, e, *this);
    r.finish();
    return e;
}

// Where a call or an event goes: service, endpoint and version, remembered for the
// reference check of the second pass.
void loader::read_target(object_reader& r, std::string& service, std::string& endpoint, int& version, bool direct) {
    service = r.required<std::string>("service", {.non_empty = true});
    endpoint = r.required<std::string>("endpoint", {.non_empty = true});
    version = r.optional<int>("version", 1, {.min = 1, .max = 1000});
    if (r.valid()) {
        service_refs_.push_back({r.member("service"), service});
        endpoint_refs_.push_back({r.member("endpoint"), service, endpoint, version, direct});
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
        read_target(t, target.service, target.endpoint, target.version, false);
        target.api_key = t.optional<std::string>("api_key", "", {.non_empty = true});
        const bool has_topic = t.has("topic");
        target.topic = t.optional<std::string>("topic", "", {.non_empty = true});
        // A topic that could not be read was reported where it is.
        if (t.valid() && (!has_topic || !target.topic.empty()))
            publish_target_at_.push_back({t.member("endpoint"), target});
        if (t.valid() && !target.topic.empty()) publish_topic_at_.push_back({t.member("topic"), target});
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
    for (const value_reader& item : w.array("event_fields", {.max_items = max_event_fields})) {
        std::optional<std::string> field = item.read<std::string>({.non_empty = true});
        if (!field) continue;
        if (*field == "source" || *field == "key" || *field == "endpoint") {
            item.error("\"" + *field + "\" is a field every event has; name an added one");
        } else if (std::find(c.event_fields.begin(), c.event_fields.end(), *field) != c.event_fields.end()) {
            item.error("field \"" + *field + "\" is listed twice");
        } else {
            c.event_fields.push_back(std::move(*field));
        }
    }
    if (w.valid() && w.has("event_fields") && c.publish_to.empty()) {
        w.error("event_fields", "\"event_fields\" are carried by the write's events: it needs \"publish_to\"");
    }
    if (w.valid() && w.has("sync_interval") && c.sync != write_sync::periodic) {
        w.error("sync_interval", "\"sync_interval\" applies only to \"sync\": \"periodic\"");
    }
    w.finish();
    return c;
}

read_config loader::read_read(object_reader& r) {
    read_config c;
    c.from = r.required<std::string>("from", {.non_empty = true});
    c.version = r.optional<int>("version", c.version, {.min = 1, .max = 1000});
    r.finish();
    return c;
}

session_config loader::read_session(object_reader& r) {
    session_config c;
    c.endpoint = r.required<std::string>("endpoint", {.non_empty = true});
    c.version = r.optional<int>("version", c.version, {.min = 1, .max = 1000});
    c.reads = r.optional<std::uint32_t>("reads", c.reads, {.min = 1, .max = 1000});
    if (const value_reader v = r.member("think_time"); v.present()) c.think_time = read_distribution(v);
    r.finish();
    return c;
}

service_config loader::read_service(object_reader r) {
    service_config s;
    s.name = r.required<std::string>("name", {.non_empty = true});
    service_name_at_.push_back(r.member("name"));
    endpoint_at_.emplace_back();
    s.instances = r.optional<std::uint32_t>("instances", s.instances, {.min = 1, .max = 10'000});
    r.allow({"description"});
    s.timers = r.choice<timer_clock>(
        "timers", {{"monotonic", timer_clock::monotonic}, {"wall_clock", timer_clock::wall_clock}}, s.timers);
    read_discovery(r, s, *this);
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
    read_station(r, s.station);
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
            endpoint_refs_.push_back({r.member("endpoint"), w.service, w.endpoint, w.version, true});
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
        if (c->valid() && std::uint64_t{cc.clients} > run_limits::max_looping_fibers) {
            c->error("clients", "at most " + std::to_string(run_limits::max_looping_fibers) +
                                    " contending clients; got " + std::to_string(cc.clients));
        } else if (c->valid() && std::uint64_t{cc.clients} * cc.updates > run_limits::max_contend_work) {
            c->error("updates", std::to_string(cc.clients) + " clients x " + std::to_string(cc.updates) +
                                    " updates is more contention than a run may cost (clients x updates at most " +
                                    std::to_string(run_limits::max_contend_work) + ")");
        }
        cc.compare_and_set = c->optional<bool>("compare_and_set", cc.compare_and_set);
        c->finish();
        w.contend = cc;
    }
    if (auto c = r.maybe_object("session")) {
        w.session = read_session(*c);
        if (c->valid() && !contend && !w.session->endpoint.empty() && !w.service.empty()) {
            endpoint_refs_.push_back({c->member("endpoint"), w.service, w.session->endpoint, w.session->version, true});
            session_workload_at_.emplace_back(r.member("session"), workload_name_at_.size() - 1);
        }
    }
    if (r.valid() && contend) {
        for (const std::string_view key : {"endpoint", "version", "open", "closed", "session"}) {
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
    const fault_kind_info* kind = nullptr;
    const value_reader kind_value = r.member("kind");
    const std::string renamed = kind_value.is_string() ? renamed_fault_kind(kind_value.json()->get<std::string>()) : "";
    if (!renamed.empty()) {
        kind_value.error(renamed);
    } else if (const auto i = r.pick("kind", fault_kind_names())) {
        kind = &all_fault_kinds()[*i];
    }
    f.at = r.required<duration>("at");
    f.length = r.optional<duration>("for", f.length, {.min = sim::nanoseconds(1)});
    f.repeat_every = r.optional<duration>("repeat_every", f.repeat_every, {.min = sim::nanoseconds(1)});
    f.repeat_until = r.maybe<duration>("repeat_until");
    // What summary.json adds to a fault it reports, so its faults paste as they are.
    r.allow({"id", "start_ns", "end_ns"});
    if (!r.valid()) return f;
    if (kind == nullptr) {
        for (auto& entry : r.entries()) (void)entry;  // the kind decides which keys exist
        return f;
    }
    f.kind = kind->name();
    if (f.repeat_every.count() > 0 && !(f.length.count() > 0 && f.length < f.repeat_every)) {
        r.error("repeat_every", "a repeating fault needs 0 < for < repeat_every");
    }
    // The kind's reader remembers the names it read, for check_references.
    struct names_read final : fault_reading {
        loader& l;
        explicit names_read(loader& owner) : l(owner) {}
        void service_named(const value_reader& at, const std::string& service) override {
            l.service_refs_.push_back({at, service});
        }
        void endpoint_named(const value_reader& at, const std::string& service, const std::string& path) override {
            l.endpoint_refs_.push_back({at, service, path, 0});
        }
    } names(*this);
    fault_target target;
    f.parameters = kind->read(r, names, target);
    f.service = target.service;
    f.instance = target.instance;
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
    // The fault kinds' one set of names, as in a fault's "kind".
    for (const value_reader& kind : r.array("kinds")) {
        const std::string renamed = kind.is_string() ? renamed_fault_kind(kind.json()->get<std::string>()) : "";
        if (!renamed.empty()) {
            kind.error(renamed);
        } else if (const auto i = kind.pick(fault_kind_names())) {
            n.kinds.push_back(all_fault_kinds()[*i].kernel_kind);
        }
    }
    for (const value_reader& name : r.array("services")) {
        n.services.push_back(name.as<std::string>());
        service_refs_.push_back({name, n.services.back()});
    }
    r.finish();
    return n;
}

expectation_config loader::read_expectation(object_reader r) {
    // The checker's reader remembers the names it read, for the second pass.
    struct names_read final : expectation_names {
        loader& l;
        explicit names_read(loader& owner) : l(owner) {}
        void service(const value_reader& at, const std::string& name) override {
            l.service_refs_.push_back({at, name});
        }
        void workload(const value_reader& at, const std::string& name) override {
            l.workload_refs_.emplace_back(at, name);
        }
        void endpoint(const value_reader& at, const std::string& service, const std::string& path) override {
            l.endpoint_refs_.push_back({at, service, path, 0});
        }
        void writing_service(const value_reader& at, const std::string& name) override {
            l.write_service_refs_.emplace_back(at, name);
        }
        void effect_service(const value_reader& at, const std::string& name) override {
            l.effect_service_refs_.emplace_back(at, name);
        }
        void replicas(const value_reader& at, const std::string& source,
                      const std::vector<std::string>& names) override {
            l.replica_refs_.push_back({at, source, names});
        }
    } names(*this);
    return harness::read_expectation(r, names);
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

// "planted_bug": test-only, named exactly, and said so wherever the file is loaded.
svc::planted_bug loader::read_planted_bug(object_reader& root) const {
    const value_reader v = root.member("planted_bug");
    if (!v.present()) return svc::planted_bug::none;
    std::vector<std::string_view> names;
    for (const svc::planted_bug_info& b : svc::all_planted_bugs()) names.push_back(b.name);
    const std::optional<std::size_t> index = v.pick(names);
    if (!index) return svc::planted_bug::none;
    const svc::planted_bug_info& bug = svc::all_planted_bugs()[*index];
    warn("/planted_bug", "test-only: this scenario runs with a planted bug (" + std::string(bug.name) + ": " +
                             std::string(bug.description) + "); meshsim's tests use it to prove chaos finds it");
    return bug.bug;
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
    if (options_.run_for) {
        s.duration = *options_.run_for;
        if (s.warmup >= s.duration) s.warmup = duration{0};
    }
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
    read_actions(root, s, *this);
    for (const value_reader& item : root.array("expectations", {.max_items = max_expectations})) {
        s.expectations.push_back(read_expectation(item.object()));
    }
    s.planted_bug = read_planted_bug(root);
    root.allow({"$schema"});
    root.finish();
    check_references(s);
    for (const auto& check : later_checks_) check(s);
    check_call_cycles(s);
    check_combinations(s);
    check_reads(s);
    if (doc_.out().count() == errors_before) {
        // Only on an otherwise sound file: these follow references the checks above
        // proved, and one typo should not also read as "receives no requests".
        check_workloads_send(s);
        check_expectations_observe(s);
        warn_unretryable_edges(s);
    }
    // Costs are estimated from values that are all valid, or they could mislead.
    // With --until the runner checks the limits, naming --until rather than the file.
    if (doc_.out().count() == errors_before && !options_.run_for) check_limits(s);
    if (doc_.out().count() == errors_before) add_database_lookups(s);
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
        const endpoint_config* found = nullptr;
        for (const auto& e : svc->endpoints) {
            paths.push_back(e.path);
            if (e.path == r.path && (r.version == 0 || e.version == r.version)) found = &e;
        }
        if (found != nullptr && found->internal && r.direct) {
            r.at.error("endpoint " + quote(r.path) + " is the " + svc->kind + " " + quote(r.service) +
                       "'s own: it is reached through the key that names the service (docs/scenario-format.md, "
                       "Service kinds), not by a call or a workload");
        }
        if (found != nullptr) continue;
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

// A read endpoint reads what a write endpoint of its own service keeps; a session
// workload logs in through a write endpoint and reads through a read endpoint of
// the same service that reads that write's records.
void loader::check_reads(const scenario& s) {
    for (const read_reference& ref : read_refs_) {
        if (ref.service >= s.services.size()) continue;
        const service_config& svc = s.services[ref.service];
        if (svc.kind != "synthetic") continue;  // the kind refuses "read" itself
        std::vector<std::string> writes;
        const endpoint_config* found = nullptr;
        for (const endpoint_config& e : svc.endpoints) {
            if (e.write) writes.push_back(e.path);
            if (e.path == ref.read.from && e.version == ref.read.version) found = &e;
        }
        if (found == nullptr && std::find(writes.begin(), writes.end(), ref.read.from) != writes.end()) {
            ref.at.error("service " + quote(svc.name) + " has no version " + std::to_string(ref.read.version) +
                         " of write endpoint " + quote(ref.read.from));
        } else if (found == nullptr) {
            ref.at.error(unknown_name("write endpoint", ref.read.from, writes) + " in service " + quote(svc.name) +
                         " (a read endpoint reads what a write endpoint of its own service keeps)");
        } else if (!found->write) {
            ref.at.error("endpoint " + quote(ref.read.from) + " of service " + quote(svc.name) +
                         " is not a write endpoint (\"write\": {...}): it keeps no records to read");
        }
    }
    // Only a session workload carries a session: anything else would be answered 400 every time.
    const auto is_read = [&s](const std::string& service, const std::string& path, int version) {
        const service_config* svc = s.find_service(service);
        if (svc == nullptr || svc->kind != "synthetic") return false;
        return std::any_of(svc->endpoints.begin(), svc->endpoints.end(),
                           [&](const endpoint_config& e) { return e.read && e.path == path && e.version == version; });
    };
    const std::string no_session =
        " is a read endpoint: it looks up the session a workload's \"session\" carries, "
        "and this request carries none (it would be answered 400)";
    for (std::size_t i = 0; i < s.workloads.size(); ++i) {
        const workload_config& w = s.workloads[i];
        if (!w.session && !w.contend && is_read(w.service, w.endpoint, w.version)) {
            doc_.report("/workloads/" + std::to_string(i) + "/endpoint", false,
                        "endpoint " + quote(w.endpoint) + no_session);
        }
    }
    for (std::size_t i = 0; i < s.services.size(); ++i) {
        for (std::size_t j = 0; j < s.services[i].endpoints.size(); ++j) {
            const auto& calls = s.services[i].endpoints[j].calls;
            for (std::size_t k = 0; k < calls.size(); ++k) {
                if (!is_read(calls[k].service, calls[k].endpoint, calls[k].version)) continue;
                doc_.report(
                    "/services/" + std::to_string(i) + "/endpoints/" + std::to_string(j) + "/calls/" +
                        std::to_string(k) + "/endpoint",
                    false,
                    "endpoint " + quote(calls[k].endpoint) + " of service " + quote(calls[k].service) + no_session);
            }
        }
    }
    for (const auto& [at, i] : session_workload_at_) {
        if (i >= s.workloads.size()) continue;
        const workload_config& w = s.workloads[i];
        const service_config* svc = s.find_service(w.service);
        if (svc == nullptr || w.contend) continue;  // reported where they are
        const endpoint_config* login = nullptr;
        const endpoint_config* read = nullptr;
        for (const endpoint_config& e : svc->endpoints) {
            if (e.path == w.endpoint && e.version == w.version) login = &e;
            if (e.path == w.session->endpoint && e.version == w.session->version) read = &e;
        }
        if (login != nullptr && !login->write) {
            at.error("a session starts with a write (its login, whose idempotency key is the session): endpoint " +
                     quote(w.endpoint) + " of service " + quote(w.service) + " is not a write endpoint");
        }
        if (read == nullptr || read->internal) continue;  // reported as an unknown or internal endpoint
        if (!read->read) {
            at.error("endpoint " + quote(w.session->endpoint) + " of service " + quote(w.service) +
                     " is not a read endpoint (\"read\": {\"from\": ...}): it would not look the session up");
        } else if (read->read->from != w.endpoint || read->read->version != w.version) {
            at.error("endpoint " + quote(w.session->endpoint) + " reads what " + quote(read->read->from) +
                     " writes, not the sessions " + quote(w.endpoint) + " (the workload's endpoint) starts");
        }
    }
}

void loader::add_database_lookups(scenario& s) {
    std::set<std::string> read_from;
    for (const service_config& svc : s.services) {
        for (const endpoint_config& e : svc.endpoints) {
            if (!e.read) continue;
            for (const endpoint_config& w : svc.endpoints) {
                if (w.write && w.path == e.read->from && w.version == e.read->version && !w.write->database.empty())
                    read_from.insert(w.write->database);
            }
        }
    }
    for (service_config& db : s.services) {
        if (db.kind != "database" || !read_from.contains(db.name) || db.endpoints.empty()) continue;
        endpoint_config lookup = db.endpoints.front();  // POST /records: its latency and flags
        lookup.path = database_lookup_path;
        lookup.method = "GET";
        db.endpoints.push_back(std::move(lookup));
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
    // A short --until may end inside the first bucket: the series then has one partial bucket.
    if (s.bucket > s.duration && s.duration.count() > 0 && !options_.run_for) {
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
    }
    for (const auto& [at, target] : publish_topic_at_) {
        const service_config* svc = s.find_service(target.service);
        if (svc != nullptr && svc->kind != "broker") {
            at.error("\"topic\" applies to a service of kind \"broker\"; " + quote(target.service) + " is of kind " +
                     quote(svc->kind));
        }
    }
    for (const auto& [at, target] : publish_target_at_) {
        const service_config* svc = s.find_service(target.service);
        if (svc == nullptr) continue;
        if (svc->kind == "broker") {
            if (target.topic.empty()) {
                at.error("publishing to broker " + quote(target.service) +
                         " needs a \"topic\" (the stream its consumers subscribe to)");
            }
            continue;
        }
        if (svc->kind != "synthetic") continue;  // other kinds take events on endpoints of their own (a webhook's)
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
            const service_config* replica_service = s.find_service(replica);
            // Other kinds (a broker's consumer) check what feeds them themselves.
            if (replica_service == nullptr || replica_service->kind != "synthetic") continue;
            bool fed = false;
            for (const endpoint_config& e : source->endpoints) {
                if (!e.write) continue;
                for (const publish_target& t : e.write->publish_to) {
                    const service_config* via = s.find_service(t.service);
                    fed |= t.service == replica ||
                           (via != nullptr && std::find(via->forwards_to.begin(), via->forwards_to.end(), replica) !=
                                                  via->forwards_to.end());
                }
            }
            if (!fed) {
                ref.at.error("service " + quote(replica) + " receives no events from " + quote(ref.source) +
                             ": no write endpoint of " + quote(ref.source) + " publishes to it");
            }
        }
    }
    for (const auto& [at, name] : effect_service_refs_) {
        const service_config* svc = s.find_service(name);
        if (svc != nullptr && !svc->applies_effects) write_service_refs_.emplace_back(at, name);
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
    const std::optional<duration> faults_end = last_fault_end(s);
    // One expectation's view of what requests reach, reporting at its keys.
    class scope final : public expectation_scope {
    public:
        scope(const loader& l, const scenario& s, const traffic& t, std::optional<duration> faults_end,
              std::size_t index)
            : l_(l), s_(s), t_(t), faults_end_(faults_end), at_(where_expectation(index)) {}
        const scenario& config() const override { return s_; }
        void report(std::string_view key, std::string message) const override {
            l_.doc_.report(key.empty() ? at_ : at_ + "/" + std::string(key), false, std::move(message));
        }
        // The requests a check sees are those after the warmup.
        bool silent(const workload_config& w) const {
            return w.start >= s_.duration || w.stop.value_or(s_.duration) <= s_.warmup;
        }
        void needs_workload_requests(const std::string& workload) const override {
            if (!workload.empty()) {
                for (const workload_config& w : s_.workloads) {
                    if (w.name != workload || !silent(w)) continue;
                    report("workload", "workload " + quote(w.name) + " stops at " +
                                           sim::format_duration(w.stop.value_or(s_.duration)) +
                                           ", before the warmup ends (" + sim::format_duration(s_.warmup) +
                                           "): the check would see none of its requests");
                }
            } else if (std::all_of(s_.workloads.begin(), s_.workloads.end(),
                                   [&](const workload_config& w) { return silent(w); })) {
                report("", "every workload stops before the warmup ends (" + sim::format_duration(s_.warmup) +
                               "): the check would see no requests");
            }
        }
        void needs_requests_at(const std::string& service, const std::string& endpoint) const override {
            if (service.empty()) return;
            if (!t_.services.contains(service)) {
                report("service", "service " + quote(service) +
                                      " receives no requests (no workload reaches it, directly or through calls): "
                                      "the check would see nothing");
            } else if (!endpoint.empty() && !t_.reaches(service, endpoint)) {
                report("endpoint", "endpoint " + quote(endpoint) + " of service " + quote(service) +
                                       " receives no requests (no workload reaches it, directly or through calls): "
                                       "the check would see nothing");
            }
        }
        void needs_writes_at(const std::string& service) const override {
            const service_config* svc = s_.find_service(service);
            // Fed by its kind (a broker's topic, a job queue), not by requests; or by a write endpoint.
            bool written = svc != nullptr && svc->applies_effects;
            for (const endpoint_config& ep : svc == nullptr ? std::vector<endpoint_config>{} : svc->endpoints) {
                written |= ep.write.has_value() && t_.endpoints.contains({service, ep.path, ep.version});
            }
            if (!written) {
                report("service", "no write endpoint of service " + quote(service) +
                                      " receives requests (no workload reaches one, directly or through calls): the "
                                      "check would see no writes");
            }
        }
        bool receives_requests(const std::string& service) const override { return t_.services.contains(service); }
        bool calls(const std::string& from, const std::string& to) const override {
            return t_.edges.contains({from, to});
        }
        std::optional<duration> last_fault_end() const override { return faults_end_; }

    private:
        const loader& l_;
        const scenario& s_;
        const traffic& t_;
        std::optional<duration> faults_end_;
        std::string at_;
    };
    for (std::size_t i = 0; i < s.expectations.size(); ++i) {
        const expectation_config& e = s.expectations[i];
        const checker_info* checker = find_checker(e.check);
        if (checker != nullptr && e.parameters) checker->observes(e, scope(*this, s, t, faults_end, i));
    }
}

std::uint64_t canonical_hash(const nlohmann::json& value) { return sim::stable_hash(value.dump()); }

std::optional<scenario> finish_load(const json_source& source, diagnostics& out, const load_options& options) {
    const std::size_t before = out.count();
    document_reader doc(source, out);
    loader l(doc, options);
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

svc::service_config scenario_station_defaults() {
    svc::service_config c;
    c.max_concurrent_requests = 1;
    c.queue_capacity = 1000;
    c.queue_timeout = sim::duration::max();  // wait as long as it takes
    c.health_endpoint = false;               // a scenario may define GET /health itself
    return c;
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

std::optional<scenario> load_scenario_text(std::string_view text, std::string file, diagnostics& out,
                                           const load_options& options) {
    const auto source = parse_json(text, std::move(file), out);
    if (!source) return std::nullopt;
    return finish_load(*source, out, options);
}

std::optional<scenario> load_scenario_source(const json_source& source, diagnostics& out, const load_options& options) {
    return finish_load(source, out, options);
}

std::optional<scenario> load_scenario_file(const std::filesystem::path& path, diagnostics& out,
                                           const load_options& options) {
    const auto source = load_json_file(path, out);
    if (!source) return std::nullopt;
    return finish_load(*source, out, options);
}

}  // namespace meshsim::harness
