#include "harness/world/world.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include <stdexcept>

#include "harness/kinds/database.hpp"
#include "harness/kinds/service_kind.hpp"
#include "harness/kinds/serving.hpp"
#include "harness/workload/generator.hpp"
#include "sim/kernel/faults.hpp"
#include "sim/kernel/nemesis.hpp"

namespace meshsim::harness {

using sim::kernel::simulation;

std::string instance_name(const std::string& service, std::uint32_t i) { return service + "-" + std::to_string(i); }
std::string workload_node_name(const std::string& workload) { return "client-" + workload; }

namespace {

std::vector<std::string> service_names(const scenario& s) {
    std::vector<std::string> names;
    for (const auto& svc_config : s.services) names.push_back(svc_config.name);
    return names;
}

}  // namespace

world_context::world_context(const scenario& s, simulation& w)
    : config(s), sim(w), obs(s.bucket, s.warmup, s.duration), data(service_names(s)) {}

const std::vector<sim::address>& world_context::instances_of(std::string_view service) const {
    const auto it = instances.find(service);
    if (it == instances.end()) throw std::out_of_range("no service named " + std::string(service));
    return it->second;
}

std::size_t world_context::endpoint_stats(const std::string& service, const std::string& path, int version) const {
    return endpoint_index.at({service, path, version});
}

std::size_t world_context::edge_stats(const std::string& from, const std::string& to) const {
    return edge_index.at({from, to});
}

namespace {

using ctx_t = world_context;

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
        spec.what =
            k::link_fault{nodes_of(ctx, f.service, f.instance),
                          f.to_service.empty() ? std::vector<std::string>{} : nodes_of(ctx, f.to_service, 0), f.link};
        specs.push_back(std::move(spec));
        return specs;
    }
    for (const std::string& node : nodes_of(ctx, f.service, f.instance)) {
        k::fault_spec spec = timing_of(f, label + " " + node);
        switch (f.kind) {
            case fault_kind::crash: spec.what = k::crash_fault{node, f.restart}; break;
            case fault_kind::pause: spec.what = k::pause_fault{node}; break;
            case fault_kind::slow: spec.what = k::slow_fault{node, f.slow_factor}; break;
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
        for (const std::string& callee : s.talks_to) {
            if (!ctx.edge_index.contains({s.name, callee}))
                ctx.edge_index[{s.name, callee}] = ctx.obs.add_edge(s.name, callee);
        }
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

world::world(const scenario& s, simulation& sim) : ctx_(std::make_unique<world_context>(s, sim)) {
    world_context& ctx = *ctx_;
    register_stats(ctx);
    // Every address is known before any node boots: instances, then clients.
    std::vector<sim::node_id> boot_order;
    for (const service_config& svc_config : s.services) {
        const service_kind* kind = find_service_kind(svc_config.kind);
        if (kind == nullptr) throw std::invalid_argument("service " + svc_config.name + ": no kind " + svc_config.kind);
        for (std::uint32_t i = 1; i <= svc_config.instances; ++i) {
            const sim::node_id id =
                sim.add_node(instance_name(svc_config.name, i), [&ctx, &svc_config, kind, i](sim::runtime& rt) {
                    instance_env env{rt, ctx, svc_config, i};
                    kind->run(env);
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
        for (auto& spec : sim::kernel::make_nemesis_plan(o, sim, s.seed).faults)
            fault_specs_.push_back(std::move(spec));
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
    world_context& ctx = *ctx_;
    std::map<std::pair<std::size_t, std::size_t>, std::set<std::string>> replicated;
    std::vector<std::set<std::string>> stored(ctx.config.services.size());
    for (std::size_t i = 0; i < ctx.config.services.size(); ++i) {
        for (const sim::address& a : ctx.instances.at(ctx.config.services[i].name)) {
            const auto& disk = ctx.sim.get_node(a.node).disk();
            for (const std::string& key : disk.keys(data_prefix)) stored[i].insert(key.substr(data_prefix.size()));
            // "<prefix><service>/<key>": a record of another service (an unknown one is skipped).
            const auto each_by_service = [&](const std::string& prefix, const auto& take) {
                for (const std::string& key : disk.keys(prefix)) {
                    const std::string rest = key.substr(prefix.size());
                    const std::size_t slash = rest.find('/');
                    const std::size_t owner = ctx.data.service_index(rest.substr(0, slash));
                    if (slash != std::string::npos && owner < stored.size()) take(owner, rest.substr(slash + 1));
                }
            };
            // A database's records are its callers'; replica copies are the replica's, by source.
            each_by_service(table_prefix,
                            [&](std::size_t owner, std::string k) { stored[owner].insert(std::move(k)); });
            each_by_service(replica_prefix, [&](std::size_t source, std::string k) {
                replicated[{i, source}].insert(std::move(k));
            });
        }
    }
    for (std::size_t i = 0; i < stored.size(); ++i) ctx.data.set_stored(i, std::move(stored[i]));
    for (std::size_t i = 0; i < ctx.config.services.size(); ++i) {
        std::map<std::string, std::int64_t> values;  // a kv store's keys (each on one shard)
        for (const sim::address& a : ctx.instances.at(ctx.config.services[i].name)) {
            const auto& disk = ctx.sim.get_node(a.node).disk();
            for (const std::string& key : disk.keys(kv_prefix)) {
                values[key.substr(kv_prefix.size())] = disk.get(key)->value("value", std::int64_t{0});
            }
        }
        ctx.data.set_values(i, std::move(values));
    }
    for (auto& [pair, keys] : replicated) ctx.data.set_replicated(pair.first, pair.second, std::move(keys));
}

const data_ledger& world::data() const { return ctx_->data; }

observations& world::obs() { return ctx_->obs; }
const observations& world::obs() const { return ctx_->obs; }
const scenario& world::scenario_config() const { return ctx_->config; }

}  // namespace meshsim::harness
