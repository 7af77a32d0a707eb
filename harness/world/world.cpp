#include "harness/world/world.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include <stdexcept>

#include "harness/kinds/autoscaler.hpp"
#include "harness/kinds/database.hpp"
#include "harness/kinds/service_kind.hpp"
#include "harness/kinds/serving.hpp"
#include "harness/workload/generator.hpp"
#include "harness/world/actions.hpp"
#include "harness/world/faults.hpp"
#include "harness/world/network.hpp"

namespace meshsim::harness {

workload_plan plan_workload(world_context& ctx, const scenario& s, const workload_config& w) {
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
        if (w.session && e.path == w.session->endpoint && e.version == w.session->version)
            plan.session_method = e.method;
    }
    return plan;
}

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

using ctx_t = world_context;

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
            if (svc_config.timers == timer_clock::wall_clock) sim.get_node(id).set_wall_clock_timers(true);
            ctx.instances[svc_config.name].push_back({id, service_port});
            const bool starts = !held_back(s, svc_config, i);
            ctx.instance_rows[id] = ctx.obs.add_instance(ctx.service_index.at(svc_config.name),
                                                         instance_name(svc_config.name, i), id, starts);
            if (starts) boot_order.push_back(id);
        }
    }
    ctx.workload_plans.reserve(s.workloads.size());
    for (const workload_config& w : s.workloads) ctx.workload_plans.push_back(plan_workload(ctx, s, w));
    for (const workload_plan& plan : ctx.workload_plans) {
        boot_order.push_back(sim.add_node(workload_node_name(plan.config->name),
                                          [&ctx, &plan](sim::runtime& rt) { run_workload(rt, plan, ctx.obs); }));
    }
    configure_network(s.network, ctx.instances, sim);
    prepare_autoscalers(ctx);
    schedule_actions(ctx);
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
    harness::collect_data(*ctx_,
                          [this](sim::node_id id) -> const sim::store& { return ctx_->sim.get_node(id).disk(); });
}

void collect_data(world_context& ctx, const std::function<const sim::store&(sim::node_id)>& store_of) {
    std::map<std::pair<std::size_t, std::size_t>, std::set<std::string>> replicated;
    std::vector<std::set<std::string>> stored(ctx.config.services.size());
    for (std::size_t i = 0; i < ctx.config.services.size(); ++i) {
        for (const sim::address& a : ctx.instances.at(ctx.config.services[i].name)) {
            const sim::store& disk = store_of(a.node);
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
            const sim::store& disk = store_of(a.node);
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
