#include "harness/world/world.hpp"

#include <algorithm>
#include <map>
#include <memory>

#include "harness/workload/generator.hpp"
#include "harness/world/station.hpp"
#include "services/platform/client.hpp"
#include "services/platform/rate_limiter.hpp"
#include "sim/kernel/faults.hpp"
#include "sim/kernel/nemesis.hpp"

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

    context(const scenario& s, simulation& w) : config(s), sim(w), obs(s.bucket, s.warmup, s.duration) {}
};

namespace {

using ctx_t = world::context;

// One downstream call of an endpoint, resolved once per instance so a request
// does no lookups by name: the edge, its stats slot and the callee's method.
struct call_plan {
    const downstream_call* call;
    svc::call_edge* edge;
    std::size_t edge_stats;
    std::string method;  // of the callee's endpoint (GET when it has none)
};

// An endpoint's random streams (seeded by name, so resolving them early draws
// nothing) and its downstream calls, in the scenario's order.
struct endpoint_plan {
    sim::random_stream* service_time = nullptr;
    sim::random_stream* errors = nullptr;  // only when error_rate > 0
    sim::random_stream* calls = nullptr;   // only when it has calls
    std::vector<call_plan> call_plans;
};

// Everything one running instance of a synthetic service owns. Lives in the
// instance's boot fiber: a crash unwinds it (handlers first, newest fibers first).
struct instance_state {
    sim::runtime& rt;
    ctx_t& ctx;
    const service_config& config;
    std::size_t service;
    svc::rpc_client client;
    station admission;
    std::map<std::string, std::unique_ptr<svc::call_edge>, std::less<>> edges;  // by callee service
    std::optional<svc::rate_limiter> limiter;
    std::vector<endpoint_plan> plans;  // parallel to config.endpoints

    instance_state(sim::runtime& r, ctx_t& c, const service_config& cfg)
        : rt(r),
          ctx(c),
          config(cfg),
          service(c.service_index.at(cfg.name)),
          client(r),
          admission(r, cfg.station, [this](int delta) {
              ctx.queued[service] += delta;
              ctx.obs.queue_depth(service, rt.now(), static_cast<std::uint64_t>(std::max<std::int64_t>(0, ctx.queued[service])));
          }) {
        for (const auto& e : cfg.endpoints) {
            for (const auto& call : e.calls) {
                if (edges.contains(call.service)) continue;
                edges.emplace(call.service, std::make_unique<svc::call_edge>(
                                                client, cfg.name + "->" + call.service, ctx.instances.at(call.service),
                                                ctx.config.policy_for(cfg.name, call.service)));
            }
        }
        if (cfg.rate_limit) limiter.emplace(*cfg.rate_limit);
        plans.reserve(cfg.endpoints.size());
        for (const auto& e : cfg.endpoints) plans.push_back(plan_of(e));
    }

private:
    endpoint_plan plan_of(const endpoint_config& e) {
        endpoint_plan plan;
        plan.service_time = &rt.random("service-time" + e.path);
        if (e.error_rate > 0) plan.errors = &rt.random("errors" + e.path);
        if (!e.calls.empty()) plan.calls = &rt.random("calls" + e.path);
        for (const auto& call : e.calls) {
            call_plan cp{&call, edges.at(call.service).get(), ctx.edge_index.at({config.name, call.service}), "GET"};
            const service_config* callee = ctx.config.find_service(call.service);
            for (const auto& ce : callee->endpoints) {
                if (ce.path == call.endpoint && ce.version == call.version) cp.method = ce.method;
            }
            plan.call_plans.push_back(std::move(cp));
        }
        return plan;
    }
};

svc::response status(std::uint16_t code) { return svc::response{code, {}, nullptr}; }

// The incoming request's correlation ID and propagated deadline, for its calls.
svc::call_scope scope_of(const svc::request& req, sim::runtime& rt) {
    svc::call_scope scope;
    scope.correlation_id = req.head.get(svc::header::correlation_id);
    if (const std::string* ns = req.head.find(svc::header::deadline_ns)) {
        std::int64_t remaining = 0;
        for (const char c : *ns) {
            if (c < '0' || c > '9') break;
            remaining = remaining * 10 + (c - '0');
        }
        scope.deadline = rt.now() + sim::nanoseconds(remaining);
    }
    return scope;
}

// One downstream call; true when it succeeded or did not matter.
bool make_call(instance_state& st, const call_plan& plan, const svc::call_scope& scope) {
    const downstream_call& call = *plan.call;
    svc::call_edge& edge = *plan.edge;
    flow_stats& stats = st.ctx.obs.edge(plan.edge_stats);
    const sim::time_point started = st.rt.now();
    st.ctx.obs.arrival(stats, started);
    svc::request req{plan.method, call.endpoint, call.version, {}, nullptr};
    if (!call.api_key.empty()) req.head.set(svc::header::api_key, call.api_key);
    svc::call_options options;
    options.scope = &scope;
    const svc::call_outcome out = edge.call(std::move(req), options);
    stats.attempts += out.attempts_sent;
    st.ctx.obs.completion(stats, started, st.rt.now(), out.result);
    if (svc::circuit_breaker* b = edge.breaker()) {
        st.ctx.obs.breaker_seen(plan.edge_stats, st.rt.node_name(), st.rt.now(), b->state(st.rt.now()));
    }
    return !call.required || out.result.kind == svc::outcome_kind::ok;
}

// The downstream calls of one request; false when a required one failed.
bool fan_out(instance_state& st, const endpoint_config& e, const endpoint_plan& plan, const svc::call_scope& scope) {
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

// The checks before admission, in the order a service template applies them.
std::optional<svc::response> gatekeep(instance_state& st, const svc::request& req, const svc::request_context& rc) {
    const std::string key = req.head.get(svc::header::api_key);
    if (!st.config.api_keys.empty() &&
        std::find(st.config.api_keys.begin(), st.config.api_keys.end(), key) == st.config.api_keys.end()) {
        return status(401);
    }
    if (st.limiter) {
        const std::string consumer = key.empty() ? "node-" + std::to_string(rc.caller.node) : key;
        const svc::rate_decision d = st.limiter->try_acquire(consumer, st.rt.now());
        if (!d.allowed) {
            svc::response r = status(429);
            r.head.set(svc::header::retry_after_ns, std::to_string(d.retry_after.count()));
            return r;
        }
    }
    return std::nullopt;
}

svc::response serve(instance_state& st, const endpoint_config& e, const endpoint_plan& plan, const svc::request& req,
                    const svc::request_context& rc) {
    if (auto refused = gatekeep(st, req, rc)) return *refused;
    const admission a = st.admission.enter();
    if (a != admission::admitted) return status(503);
    struct leave_on_exit {
        station& s;
        ~leave_on_exit() { s.leave(); }
    } guard{st.admission};
    const svc::call_scope scope = scope_of(req, st.rt);
    if (e.honour_deadline && st.rt.now() >= scope.deadline) return status(504);
    st.rt.compute(e.service_time.sample(*plan.service_time));
    if (e.error_rate > 0 && plan.errors->bernoulli(e.error_rate)) return status(e.error_status);
    if (!e.calls.empty() && !fan_out(st, e, plan, scope)) return status(502);
    return status(200);
}

void service_process(sim::runtime& rt, ctx_t& ctx, const service_config& config) {
    instance_state st(rt, ctx, config);
    svc::rpc_server server(rt, service_port);
    for (std::size_t i = 0; i < config.endpoints.size(); ++i) {
        const endpoint_config& e = config.endpoints[i];
        const endpoint_plan& plan = st.plans[i];
        const std::size_t stats = ctx.endpoint_index.at({config.name, e.path, e.version});
        server.route(e.method, e.path, e.version, [&st, &e, &plan, stats](const svc::request& req, svc::request_context& rc) {
            flow_stats& f = st.ctx.obs.endpoint(stats);
            const sim::time_point started = st.rt.now();
            st.ctx.obs.arrival(f, started);
            svc::response r = serve(st, e, plan, req, rc);
            st.ctx.obs.completion(f, started, st.rt.now(),
                                  r.status < 400 ? svc::outcome::success(r.status) : svc::outcome::http(r.status));
            return r;
        });
    }
    server.serve();
}

std::vector<std::string> nodes_of(const ctx_t& ctx, const std::string& service, std::uint32_t instance) {
    std::vector<std::string> names;
    const service_config* s = ctx.config.find_service(service);
    if (s == nullptr) return names;
    for (std::uint32_t i = 1; i <= s->instances; ++i) {
        if (instance == 0 || instance == i) names.push_back(instance_name(service, i));
    }
    return names;
}

std::vector<std::string> nodes_of(const ctx_t& ctx, const std::vector<std::string>& services) {
    std::vector<std::string> names;
    for (const auto& s : services) {
        for (auto& n : nodes_of(ctx, s, 0)) names.push_back(std::move(n));
    }
    return names;
}

sim::kernel::fault_spec timing_of(const fault_config& f, std::string label) {
    sim::kernel::fault_spec spec;
    spec.name = std::move(label);
    spec.at = sim::time_zero + f.at;
    spec.length = f.length;
    spec.repeat_every = f.repeat_every;
    if (f.repeat_until) spec.repeat_until = sim::time_zero + *f.repeat_until;
    return spec;
}

// One kernel fault spec per target node (a partition is one spec).
std::vector<sim::kernel::fault_spec> specs_of(const ctx_t& ctx, const fault_config& f, std::size_t index) {
    namespace k = sim::kernel;
    std::vector<k::fault_spec> specs;
    const std::string label = "faults[" + std::to_string(index) + "]";
    if (f.kind == fault_kind::partition) {
        k::partition_fault p;
        p.shape = f.shape;
        p.mode = f.cut;
        for (const auto& g : f.groups) p.groups.push_back(nodes_of(ctx, g));
        p.from = nodes_of(ctx, f.from_services);
        p.to = nodes_of(ctx, f.to_services);
        if (f.shape == k::partition_shape::isolate) p.node = instance_name(f.service, f.instance);
        k::fault_spec spec = timing_of(f, label);
        spec.what = p;
        specs.push_back(std::move(spec));
        return specs;
    }
    if (f.kind == fault_kind::link) {
        k::fault_spec spec = timing_of(f, label);
        spec.what = k::link_fault{nodes_of(ctx, f.service, f.instance),
                                  f.to_service.empty() ? std::vector<std::string>{} : nodes_of(ctx, f.to_service, 0),
                                  f.link};
        specs.push_back(std::move(spec));
        return specs;
    }
    for (const std::string& node : nodes_of(ctx, f.service, f.instance)) {
        k::fault_spec spec = timing_of(f, label + " " + node);
        switch (f.kind) {
            case fault_kind::crash: spec.what = k::crash_fault{node, f.restart}; break;
            case fault_kind::pause: spec.what = k::pause_fault{node}; break;
            case fault_kind::slow: spec.what = k::slowness_fault{node, f.slowness_factor}; break;
            case fault_kind::clock: spec.what = k::clock_fault{node, f.clock_offset, f.clock_drift_ppm}; break;
            case fault_kind::abort:
            case fault_kind::delay: {
                k::service_fault_rule rule;
                rule.port = service_port;
                rule.path = f.endpoint;
                if (f.kind == fault_kind::abort) {
                    rule.abort_probability = f.probability;
                    rule.abort_status = f.status;
                } else {
                    rule.delay_probability = f.probability;
                    rule.delay = f.delay;
                }
                spec.what = k::service_fault{node, rule};
                break;
            }
            default: break;
        }
        specs.push_back(std::move(spec));
    }
    return specs;
}

void configure_network(ctx_t& ctx) {
    simulation& sim = ctx.sim;
    sim.net().set_default_link(ctx.config.network.defaults);
    for (const link_override& o : ctx.config.network.links) {
        const auto expand = [&](const std::string& s) {
            std::vector<sim::node_id> ids;
            if (s == "*") {
                for (std::size_t i = 0; i < sim.node_count(); ++i) ids.push_back(static_cast<sim::node_id>(i));
            } else {
                for (const auto& a : ctx.instances.at(s)) ids.push_back(a.node);
            }
            return ids;
        };
        for (const sim::node_id from : expand(o.from)) {
            for (const sim::node_id to : expand(o.to)) {
                if (from != to) sim.net().set_link(from, to, o.link);
            }
        }
    }
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
            for (const downstream_call& c : e.calls) {
                if (!ctx.edge_index.contains({s.name, c.service})) {
                    ctx.edge_index[{s.name, c.service}] = ctx.obs.add_edge(s.name, c.service);
                }
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
            const sim::node_id id = sim.add_node(instance_name(svc_config.name, i), [&ctx, &svc_config](sim::runtime& rt) {
                service_process(rt, ctx, svc_config);
            });
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
            if (e.path == w.endpoint && e.version == w.version) plan.method = e.method;
        }
        ctx.workload_plans.push_back(std::move(plan));
    }
    for (const workload_plan& plan : ctx.workload_plans) {
        boot_order.push_back(sim.add_node(workload_node_name(plan.config->name), [&ctx, &plan](sim::runtime& rt) {
            run_workload(rt, plan, ctx.obs);
        }));
    }
    configure_network(ctx);
    for (std::size_t i = 0; i < s.faults.size(); ++i) {
        for (auto& spec : specs_of(ctx, s.faults[i], i)) fault_specs_.push_back(std::move(spec));
    }
    if (s.nemesis) {
        sim::kernel::nemesis_options o;
        o.mode = s.nemesis->mode;
        o.start = sim::time_zero + s.nemesis->start;
        o.stop = sim::time_zero + s.nemesis->stop.value_or(s.duration);
        o.fault_length = s.nemesis->fault_length;
        o.interval = s.nemesis->interval;
        if (!s.nemesis->kinds.empty()) o.kinds = s.nemesis->kinds;
        o.nodes = nodes_of(ctx, s.nemesis->services);
        if (o.nodes.empty()) {
            for (const auto& svc_config : s.services) {
                for (auto& n : nodes_of(ctx, svc_config.name, 0)) o.nodes.push_back(std::move(n));
            }
        }
        fault_errors_ = sim::kernel::validate(o, sim);
        for (auto& spec : sim::kernel::make_nemesis_plan(o, sim, s.seed).faults) fault_specs_.push_back(std::move(spec));
    }
    if (fault_errors_.empty()) {
        sim::kernel::fault_injector injector(sim);
        fault_errors_ = injector.schedule(fault_specs_);
    }
    for (const sim::node_id id : boot_order) sim.start(id);
}

world::~world() = default;

sim::time_point world::last_fault_end() const {
    sim::time_point last = sim::time_zero;
    const sim::time_point run_end = sim::time_zero + ctx_->config.duration;
    for (const auto& f : fault_specs_) {
        sim::time_point end = f.length.count() == 0 ? run_end : f.at + f.length;
        if (f.repeat_every.count() > 0) end = std::min(run_end, f.repeat_until == sim::time_never ? run_end : f.repeat_until + f.length);
        last = std::max(last, end);
    }
    return last;
}

observations& world::obs() { return ctx_->obs; }
const observations& world::obs() const { return ctx_->obs; }
const scenario& world::scenario_config() const { return ctx_->config; }

}  // namespace meshsim::harness
