#include "harness/world/world.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "harness/workload/generator.hpp"
#include "harness/world/faults.hpp"
#include "harness/world/network.hpp"
#include "services/messaging/outbox.hpp"
#include "services/platform/client.hpp"
#include "services/platform/service.hpp"

namespace meshsim::harness {

using sim::kernel::simulation;

std::string instance_name(const std::string& service, std::uint32_t i) { return service + "-" + std::to_string(i); }
std::string workload_node_name(const std::string& workload) { return "client-" + workload; }

struct world::context {
    const scenario& config;
    simulation& sim;
    observations obs;
    std::map<std::string, std::vector<sim::address>, std::less<>> instances;  // by service
    std::map<std::string, std::size_t, std::less<>> service_index;
    // Endpoint stats index by (service, path, version).
    std::map<std::tuple<std::string, std::string, int>, std::size_t> endpoint_index;
    std::map<std::pair<std::string, std::string>, std::size_t> edge_index;
    std::vector<std::int64_t> queued;  // per service, over all instances
    std::vector<workload_plan> workload_plans;
    data_ledger data;

    context(const scenario& s, simulation& w)
        : config(s), sim(w), obs(s.bucket, s.warmup, s.duration), data(service_names(s)) {}

    static std::vector<std::string> service_names(const scenario& s) {
        std::vector<std::string> names;
        for (const auto& svc_config : s.services) names.push_back(svc_config.name);
        return names;
    }
};

namespace {

using ctx_t = world::context;

// One downstream call of an endpoint, resolved once per instance so a request
// does no lookups by name: the edge, its stats slot and the callee's method.
struct call_plan {
    const downstream_call* call;
    svc::call_edge* edge;
    std::size_t edge_stats;
    std::string method;     // of the callee's endpoint (GET when it has none)
    bool to_write = false;  // the callee's endpoint is a write: the call carries an idempotency key
};

// Where a write endpoint publishes its events: the edge to each replica endpoint.
struct publish_plan {
    const publish_target* target;
    svc::call_edge* edge;
    std::size_t edge_stats;
    std::string method;
};

// An endpoint's random streams (seeded by name, so resolving them early draws
// nothing) and its downstream calls, in the scenario's order.
struct endpoint_plan {
    sim::random_stream* errors = nullptr;  // only when error_rate > 0
    sim::random_stream* calls = nullptr;   // only when it has calls
    std::vector<call_plan> call_plans;
    std::vector<publish_plan> publish_plans;  // write endpoints
};

// Counts every request an endpoint answers into the run's observations.
class endpoint_probe final : public svc::request_observer {
public:
    endpoint_probe(observations& obs, std::size_t stats) : obs_(obs), stats_(stats) {}
    void arrived(sim::time_point at) override { obs_.arrival(obs_.endpoint(stats_), at); }
    void answered(sim::time_point arrived, sim::time_point at, std::uint16_t status) override {
        obs_.completion(obs_.endpoint(stats_), arrived, at,
                        status < 400 ? svc::outcome::success(status) : svc::outcome::http(status));
    }

private:
    observations& obs_;
    std::size_t stats_;
};

// The platform's service template configured as a scenario's synthetic service:
// its concurrency limit and queue are the queueing station.
svc::service_config template_config(const service_config& cfg) {
    svc::service_config c;
    c.name = cfg.name;
    c.port = service_port;
    c.max_concurrent_requests = cfg.station.concurrency;
    c.queue_capacity = cfg.station.queue_capacity;
    c.queue_timeout = cfg.station.queue_timeout;  // max: wait as long as it takes
    c.queue_order =
        cfg.station.discipline == queue_discipline::lifo ? svc::queue_discipline::lifo : svc::queue_discipline::fifo;
    c.codel = cfg.station.codel;
    c.shed_by_criticality = cfg.station.shed_by_criticality;
    c.rate_limit = cfg.rate_limit;
    c.health_endpoint = false;  // a scenario may define GET /health itself
    return c;
}

// Everything one running instance of a synthetic service owns. Lives in the
// instance's boot fiber: a crash unwinds it (handlers first, newest fibers first).
struct instance_state {
    sim::runtime& rt;
    ctx_t& ctx;
    const service_config& config;
    std::size_t service;
    svc::rpc_client client;
    std::map<std::string, std::unique_ptr<svc::call_edge>, std::less<>> edges;  // by callee service
    std::vector<endpoint_plan> plans;                                           // parallel to config.endpoints
    std::vector<endpoint_probe> probes;  // parallel to config.endpoints; never reallocated
    std::optional<svc::outbox> box;      // when a write endpoint publishes through an outbox
    std::optional<svc::outbox_relay> relay;
    std::vector<std::string> unsynced_keys;  // periodic sync: written, acknowledged, not yet durable
    std::uint64_t anonymous_writes = 0;      // writes that arrived without an idempotency key
    svc::service server;

    instance_state(sim::runtime& r, ctx_t& c, const service_config& cfg)
        : rt(r),
          ctx(c),
          config(cfg),
          service(c.service_index.at(cfg.name)),
          client(r),
          server(r, template_config(cfg)) {
        for (const auto& e : cfg.endpoints) {
            for (const auto& call : e.calls) add_edge(call.service);
            if (e.write) {
                for (const auto& target : e.write->publish_to) add_edge(target.service);
            }
        }
        plans.reserve(cfg.endpoints.size());
        probes.reserve(cfg.endpoints.size());
        for (const auto& e : cfg.endpoints) {
            plans.push_back(plan_of(e));
            probes.emplace_back(ctx.obs, ctx.endpoint_index.at({cfg.name, e.path, e.version}));
        }
        for (const std::string& key : cfg.api_keys) server.issue_key(key, {"*"});
        server.on_queue_change([this](int delta) {
            ctx.queued[service] += delta;
            ctx.obs.queue_depth(service, rt.now(),
                                static_cast<std::uint64_t>(std::max<std::int64_t>(0, ctx.queued[service])));
        });
    }

private:
    void add_edge(const std::string& callee) {
        if (edges.contains(callee)) return;
        edges.emplace(callee,
                      std::make_unique<svc::call_edge>(client, config.name + "->" + callee, ctx.instances.at(callee),
                                                       ctx.config.policy_for(config.name, callee)));
    }

    const endpoint_config* callee_endpoint(const std::string& service, const std::string& path, int version) const {
        for (const auto& ce : ctx.config.find_service(service)->endpoints) {
            if (ce.path == path && ce.version == version) return &ce;
        }
        return nullptr;
    }

    endpoint_plan plan_of(const endpoint_config& e) {
        endpoint_plan plan;
        if (e.error_rate > 0) plan.errors = &rt.random("errors" + e.path);
        if (!e.calls.empty()) plan.calls = &rt.random("calls" + e.path);
        for (const auto& call : e.calls) {
            call_plan cp{&call, edges.at(call.service).get(), ctx.edge_index.at({config.name, call.service}), "GET"};
            if (const endpoint_config* ce = callee_endpoint(call.service, call.endpoint, call.version)) {
                cp.method = ce->method;
                cp.to_write = ce->write.has_value();
            }
            plan.call_plans.push_back(std::move(cp));
        }
        if (e.write) {
            for (const auto& target : e.write->publish_to) {
                publish_plan pp{&target, edges.at(target.service).get(),
                                ctx.edge_index.at({config.name, target.service}), "POST"};
                if (const endpoint_config* ce = callee_endpoint(target.service, target.endpoint, target.version))
                    pp.method = ce->method;
                plan.publish_plans.push_back(std::move(pp));
            }
        }
        return plan;
    }
};

svc::response status(std::uint16_t code) { return svc::response{code, {}, nullptr}; }

// What the calls a request makes inherit from it: the platform's scope (correlation
// ID, deadline), the principal it acts for (empty: nobody authenticated it) and its
// idempotency key, from which the keys of its calls to write endpoints derive.
struct request_scope {
    const svc::call_scope& call;  // the template's, for the request being served
    std::string principal;
    std::string key;
};

// One call on an edge with its stats (and the breaker state it leaves behind).
svc::call_outcome call_on_edge(instance_state& st, svc::call_edge& edge, std::size_t edge_stats, svc::request req,
                               const svc::call_options& options) {
    flow_stats& stats = st.ctx.obs.edge(edge_stats);
    const sim::time_point started = st.rt.now();
    st.ctx.obs.arrival(stats, started);
    svc::call_outcome out = edge.call(std::move(req), options);
    stats.attempts += out.attempts_sent;
    stats.retries += out.retries;
    stats.hedges += out.hedges;
    st.ctx.obs.completion(stats, started, st.rt.now(), out.result);
    if (svc::circuit_breaker* b = edge.breaker()) {
        st.ctx.obs.breaker_seen(edge_stats, st.rt.node_name(), st.rt.now(), b->state(st.rt.now()));
    }
    return out;
}

// One downstream call; true when it succeeded or did not matter.
bool make_call(instance_state& st, const call_plan& plan, const request_scope& scope) {
    const downstream_call& call = *plan.call;
    svc::request req{plan.method, call.endpoint, call.version, {}, nullptr};
    if (!call.api_key.empty()) req.head.set(svc::header::api_key, call.api_key);
    if (!scope.principal.empty()) req.head.set(principal_header, scope.principal);
    svc::call_options options;
    options.scope = &scope.call;
    if (plan.to_write) {
        // Derived from the request's own key, a retried request repeats its writes'
        // keys downstream too; without one, each call draws a fresh key.
        if (scope.key.empty()) {
            options.generate_idempotency_key = true;
        } else {
            options.idempotency_key = scope.key + ">" + call.service + call.endpoint;
        }
    }
    const svc::call_outcome out = call_on_edge(st, *plan.edge, plan.edge_stats, std::move(req), options);
    return !call.required || out.result.kind == svc::outcome_kind::ok;
}

// The downstream calls of one request; false when a required one failed.
bool fan_out(instance_state& st, const endpoint_config& e, const endpoint_plan& plan, const request_scope& scope) {
    sim::random_stream& draw = *plan.calls;
    std::vector<const call_plan*> chosen;
    for (const call_plan& cp : plan.call_plans) {
        const downstream_call& call = *cp.call;
        if (call.probability >= 1.0 || draw.bernoulli(call.probability)) chosen.push_back(&cp);
    }
    if (e.fanout == fanout_mode::sequential) {
        for (const call_plan* call : chosen) {
            if (!make_call(st, *call, scope)) return false;
        }
        return true;
    }
    // Parallel: one fiber per call; the handler waits for all of them.
    struct join {
        std::size_t pending;
        bool ok = true;
        sim::wait_list done;
    } j{chosen.size(), true, {}};
    for (const call_plan* call : chosen) {
        st.rt.spawn("fanout", [&st, &j, call, &scope] {
            if (!make_call(st, *call, scope)) j.ok = false;
            if (--j.pending == 0) j.done.wake_all(st.rt);
        });
    }
    while (j.pending > 0) sim::wait_on(st.rt, j.done, sim::time_never);
    return j.ok;
}

// --- writes, events and replicas -----------------------------------------------------

const std::string data_prefix = "data/";
const std::string replica_prefix = "replica/";

// Sends one write's event to every replica endpoint of its endpoint; true when all
// accepted it. The service publishes as itself (as a mesh identity would).
bool publish(instance_state& st, const endpoint_plan& plan, const svc::event& ev) {
    bool all = true;
    for (const publish_plan& pp : plan.publish_plans) {
        svc::request req{pp.method, pp.target->endpoint, pp.target->version, {}, ev.payload};
        req.head.set(principal_header, "service:" + st.config.name);
        if (!pp.target->api_key.empty()) req.head.set(svc::header::api_key, pp.target->api_key);
        svc::call_options options;
        options.idempotency_key = ev.id;  // makes the POST retryable; replicas store by key anyway
        if (call_on_edge(st, *pp.edge, pp.edge_stats, std::move(req), options).result.kind != svc::outcome_kind::ok)
            all = false;
    }
    return all;
}

// The outbox and its relay, when some write endpoint publishes through one.
void start_outbox(instance_state& st) {
    bool needed = false;
    for (const auto& e : st.config.endpoints)
        needed |= e.write && e.write->publish == publish_mode::outbox && !e.write->publish_to.empty();
    if (!needed) return;
    st.box.emplace(st.rt, st.config.name);
    st.relay.emplace(
        *st.box,
        [&st](const svc::event& ev) {
            const std::size_t endpoint = ev.payload.value("endpoint", std::size_t{0});
            return endpoint < st.plans.size() && publish(st, st.plans[endpoint], ev);
        },
        svc::outbox_relay_config{});
    st.relay->start();
}

// Periodic sync: a flusher makes every acknowledged write durable each interval.
void start_flusher(instance_state& st) {
    sim::duration interval = sim::duration::max();
    for (const auto& e : st.config.endpoints) {
        if (e.write && e.write->sync == write_sync::periodic) interval = std::min(interval, e.write->sync_interval);
    }
    if (interval == sim::duration::max()) return;
    st.rt.spawn("flusher", [&st, interval] {
        while (true) {
            st.rt.sleep_for(interval);
            if (st.unsynced_keys.empty()) continue;
            st.rt.durable_store().sync();
            for (const std::string& key : st.unsynced_keys) st.ctx.data.committed(st.service, key, st.rt.now());
            st.unsynced_keys.clear();
        }
    });
}

// Applies one write: its effect, its record and (per the endpoint's settings) its
// sync and its event. A dual write's failed publish is not retried: the write stands.
void apply_write(instance_state& st, const endpoint_config& e, std::size_t endpoint, const std::string& key) {
    const write_config& w = *e.write;
    data_ledger& data = st.ctx.data;
    const std::string record = data_prefix + key;
    // Between the effect and the store write nothing parks: a crash keeps both or neither.
    const auto change = [&](sim::store& disk) {
        st.rt.log("write", {{"key", key}});  // the effect, in the trace too
        data.effect(st.service, key, st.rt.now());
        disk.put(record, nlohmann::json{{"at_ns", st.rt.now().time_since_epoch().count()}});
    };
    const auto committed = [&] { data.committed(st.service, key, st.rt.now()); };
    if (w.publish_to.empty()) {
        change(st.rt.durable_store());
        if (w.sync == write_sync::before_ack) {
            st.rt.durable_store().sync();
            committed();
        } else {
            st.unsynced_keys.push_back(key);
        }
        return;
    }
    svc::event ev;
    ev.id = st.config.name + "/" + key;
    ev.topic = st.config.name;
    ev.type = "written";
    ev.payload = {{"source", st.config.name}, {"key", key}, {"endpoint", endpoint}};
    if (w.publish == publish_mode::outbox) {
        st.box->commit([&](sim::store& disk) { change(disk); }, {ev});
        committed();
        return;
    }
    // Dual write: store and sync, then publish once (svc::dual_writer's steps);
    // nothing retries a failed publish, and a crash in between loses the event.
    svc::dual_writer writer(st.rt, [&](const svc::event& x) { return publish(st, st.plans[endpoint], x); });
    writer.write(
        [&](sim::store& disk) {
            change(disk);
            committed();  // the writer syncs right after, without parking
        },
        ev);
}

// A replica endpoint: stores the event's record under its source, synced.
std::optional<svc::response> apply_event(instance_state& st, const svc::request& req) {
    const std::string source = req.body.is_object() ? req.body.value("source", std::string{}) : std::string{};
    const std::string key = req.body.is_object() ? req.body.value("key", std::string{}) : std::string{};
    const std::size_t source_index = st.ctx.data.service_index(source);
    if (key.empty() || source_index >= st.ctx.data.service_names().size()) return status(400);
    sim::store& disk = st.rt.durable_store();
    disk.put(replica_prefix + source + "/" + key, nlohmann::json{{"at_ns", st.rt.now().time_since_epoch().count()}});
    disk.sync();
    st.rt.log("replica_applied", {{"source", source}, {"key", key}});
    st.ctx.data.applied(st.service, source_index, key, st.rt.now());
    return std::nullopt;
}

// Who the request acts for: the consumer whose API key the service checked, or
// the principal an upstream service that authenticated it passed on; else nobody.
std::string principal_of(const instance_state& st, const svc::request& req, const svc::endpoint_context& ec) {
    if (!st.config.api_keys.empty()) return "key:" + ec.api_key;  // the template checked it (401 otherwise)
    return req.head.get(principal_header);
}

// The endpoint's work once the template admitted the request and spent its
// service time: injected errors, downstream calls, then its write or replica record.
svc::response handle(instance_state& st, const endpoint_config& e, std::size_t endpoint, const svc::request& req,
                     svc::endpoint_context& ec) {
    const endpoint_plan& plan = st.plans[endpoint];
    request_scope scope{ec.scope, principal_of(st, req, ec), req.head.get(svc::header::idempotency_key)};
    st.ctx.data.served(st.service, !scope.principal.empty(), st.rt.now());
    if (e.error_rate > 0 && plan.errors->bernoulli(e.error_rate)) return status(e.error_status);
    if (!e.calls.empty() && !fan_out(st, e, plan, scope)) return status(502);
    if (e.replica) {
        if (auto bad = apply_event(st, req)) return *bad;
    }
    if (e.write) {
        if (scope.key.empty()) scope.key = st.rt.node_name() + "#" + std::to_string(++st.anonymous_writes);
        // A key already written is a retry or a duplicate: with dedupe, answered
        // again without a second effect.
        if (!e.write->dedupe || !st.rt.durable_store().get(data_prefix + scope.key)) {
            apply_write(st, e, endpoint, scope.key);
        } else {
            st.rt.log("write_deduplicated", {{"key", scope.key}});
        }
        st.ctx.data.acked(st.service, scope.key, st.rt.now());
    }
    return status(200);
}

void service_process(sim::runtime& rt, ctx_t& ctx, const service_config& config) {
    instance_state st(rt, ctx, config);
    for (std::size_t i = 0; i < config.endpoints.size(); ++i) {
        const endpoint_config& e = config.endpoints[i];
        svc::endpoint_spec spec;
        spec.method = e.method;
        spec.path = e.path;
        spec.api_version = e.version;
        if (!config.api_keys.empty()) spec.required_scope = "call";  // every issued key grants "*"
        spec.service_time = e.service_time;
        spec.honour_deadline = e.honour_deadline;
        spec.observer = &st.probes[i];
        st.server.add_endpoint(std::move(spec), [&st, &e, i](const svc::request& req, svc::endpoint_context& ec) {
            return handle(st, e, i, req, ec);
        });
    }
    start_outbox(st);
    start_flusher(st);
    st.server.serve();
}

void register_stats(ctx_t& ctx) {
    for (const service_config& s : ctx.config.services) {
        ctx.service_index[s.name] = ctx.obs.add_service(s.name);
        ctx.queued.push_back(0);
        for (const endpoint_config& e : s.endpoints) {
            ctx.endpoint_index[{s.name, e.path, e.version}] = ctx.obs.add_endpoint({s.name, e.path, e.version});
        }
    }
    for (const service_config& s : ctx.config.services) {
        for (const endpoint_config& e : s.endpoints) {
            std::vector<std::string> callees;
            for (const downstream_call& c : e.calls) callees.push_back(c.service);
            if (e.write) {
                for (const publish_target& t : e.write->publish_to) callees.push_back(t.service);
            }
            for (const std::string& callee : callees) {
                if (!ctx.edge_index.contains({s.name, callee}))
                    ctx.edge_index[{s.name, callee}] = ctx.obs.add_edge(s.name, callee);
            }
        }
    }
}

}  // namespace

world::world(const scenario& s, simulation& sim) : ctx_(std::make_unique<context>(s, sim)) {
    context& ctx = *ctx_;
    register_stats(ctx);
    // Every address is known before any node boots: instances, then clients.
    std::vector<sim::node_id> boot_order;
    for (const service_config& svc_config : s.services) {
        for (std::uint32_t i = 1; i <= svc_config.instances; ++i) {
            const sim::node_id id =
                sim.add_node(instance_name(svc_config.name, i),
                             [&ctx, &svc_config](sim::runtime& rt) { service_process(rt, ctx, svc_config); });
            ctx.instances[svc_config.name].push_back({id, service_port});
            boot_order.push_back(id);
        }
    }
    ctx.workload_plans.reserve(s.workloads.size());
    for (const workload_config& w : s.workloads) {
        workload_plan plan;
        plan.config = &w;
        plan.instances = ctx.instances.at(w.service);
        plan.stats_index = ctx.obs.add_workload(w.name);
        plan.stop = sim::time_zero + w.stop.value_or(s.duration);
        plan.method = "GET";
        for (const auto& e : s.find_service(w.service)->endpoints) {
            if (e.path == w.endpoint && e.version == w.version) {
                plan.method = e.method;
                plan.write = e.write.has_value();
            }
        }
        ctx.workload_plans.push_back(std::move(plan));
    }
    for (const workload_plan& plan : ctx.workload_plans) {
        boot_order.push_back(sim.add_node(workload_node_name(plan.config->name),
                                          [&ctx, &plan](sim::runtime& rt) { run_workload(rt, plan, ctx.obs); }));
    }
    configure_network(s.network, ctx.instances, sim);
    fault_errors_ = schedule_faults(s, sim, fault_specs_);
    for (const sim::node_id id : boot_order) sim.start(id);
}

world::~world() = default;

sim::time_point world::last_fault_end() const {
    sim::time_point last = sim::time_zero;
    const sim::time_point run_end = sim::time_zero + ctx_->config.duration;
    // A fault still on when the run ends ends with it (a length of duration::max() is
    // "for ever", not a wrapped time): what checkers add their windows to stays in range.
    for (const auto& f : fault_specs_) {
        sim::time_point end = f.length.count() == 0 ? run_end : std::min(run_end, sim::saturating_add(f.at, f.length));
        if (f.repeat_every.count() > 0)
            end = std::min(run_end,
                           f.repeat_until == sim::time_never ? run_end : sim::saturating_add(f.repeat_until, f.length));
        last = std::max(last, end);
    }
    return last;
}

void world::collect_data() {
    context& ctx = *ctx_;
    std::map<std::pair<std::size_t, std::size_t>, std::set<std::string>> replicated;
    for (std::size_t i = 0; i < ctx.config.services.size(); ++i) {
        std::set<std::string> stored;
        for (const sim::address& a : ctx.instances.at(ctx.config.services[i].name)) {
            const auto& disk = ctx.sim.get_node(a.node).disk();
            for (const std::string& key : disk.keys(data_prefix)) stored.insert(key.substr(data_prefix.size()));
            for (const std::string& key : disk.keys(replica_prefix)) {
                const std::string rest = key.substr(replica_prefix.size());  // "<source>/<key>"
                const std::size_t slash = rest.find('/');
                const std::size_t source = ctx.data.service_index(rest.substr(0, slash));
                if (slash != std::string::npos && source < ctx.config.services.size()) {
                    replicated[{i, source}].insert(rest.substr(slash + 1));
                }
            }
        }
        ctx.data.set_stored(i, std::move(stored));
    }
    for (auto& [pair, keys] : replicated) ctx.data.set_replicated(pair.first, pair.second, std::move(keys));
}

const data_ledger& world::data() const { return ctx_->data; }

observations& world::obs() { return ctx_->obs; }
const observations& world::obs() const { return ctx_->obs; }
const scenario& world::scenario_config() const { return ctx_->config; }

}  // namespace meshsim::harness
