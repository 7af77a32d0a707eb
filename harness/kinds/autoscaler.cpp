// The autoscaler kind: adds and removes instances of a stateless service by
// utilisation, as a horizontal pod autoscaler with its orchestrator would. The
// target's `instances` is its fleet (the nodes that exist); `initial` of them run
// at the start, the others are held back. Every `sample` the autoscaler reads the
// target's requests in the system (queued + in service, over its endpoints) and
// every `interval` compares the mean per slot (instances running x concurrency) with
// its thresholds: above `scale_up_at` it starts as many instances as bring it back
// to that threshold (at least one; Kubernetes' HPA rule), each joining the mesh's
// pool `startup` later; below `scale_down_at` it takes the newest one out of
// the pool and stops it `drain` later; after each change it waits `cooldown`.
// Starting, readiness and stopping are the orchestrator's (scheduled on the
// simulation), so a crash of the autoscaler freezes the fleet as it is and a
// restarted autoscaler carries on from the pool.
#include <algorithm>
#include <cmath>
#include <memory>

#include "harness/kinds/autoscaler.hpp"
#include "harness/kinds/kinds.hpp"
#include "harness/scenario/diagnostics.hpp"
#include "harness/world/actions.hpp"

namespace meshsim::harness {

namespace {

struct autoscaler_params final : kind_params {
    std::string service;
    std::uint32_t min = 1;
    std::uint32_t initial = 0;  // 0: min
    double scale_up_at = 0.7;
    double scale_down_at = 0.3;
    sim::duration sample = sim::milliseconds(100);
    sim::duration interval = sim::seconds(1);
    sim::duration cooldown = sim::seconds(3);
    sim::duration startup = sim::seconds(1);
    sim::duration drain = sim::seconds(1);
};

const autoscaler_params* autoscaler_of(const service_config& s) {
    return s.kind == "autoscaler" ? static_cast<const autoscaler_params*>(s.params.get()) : nullptr;
}

// Requests in the target's system now: arrived at its endpoints and not yet answered.
std::uint64_t in_system(const world_context& ctx, const std::string& service) {
    std::uint64_t n = 0;
    const auto& keys = ctx.obs.endpoint_keys();
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (keys[i].service != service) continue;
        const flow_stats& f = ctx.obs.endpoints()[i];
        n += f.arrivals - std::min(f.arrivals, f.outcomes.total());
    }
    return n;
}

void mark(world_context& ctx, sim::node_id node, const std::string& what) {
    ctx.sim.trace().record(ctx.sim.now(), sim::event_kind::state, node, 0, 0, what);
}

}  // namespace

void read_autoscaler(object_reader& r, service_config& s, kind_reader& load) {
    auto p = std::make_shared<autoscaler_params>();
    p->service = r.required<std::string>("service", {.non_empty = true});
    const value_reader service_at = r.member("service");
    p->min = r.optional<std::uint32_t>("min", p->min, {.min = 1, .max = 10'000});
    p->initial = r.optional<std::uint32_t>("initial", p->min, {.min = 1, .max = 10'000});
    const value_reader initial_at = r.member("initial").present() ? r.member("initial") : r.member("min");
    p->scale_up_at = r.optional<double>("scale_up_at", p->scale_up_at, {.min = 0, .min_exclusive = true, .max = 100});
    p->scale_down_at = r.optional<double>("scale_down_at", p->scale_down_at, {.min = 0, .max = 100});
    if (r.valid() && p->scale_down_at >= p->scale_up_at)
        r.error("scale_down_at", "scale_down_at (" + std::to_string(p->scale_down_at).substr(0, 4) +
                                     ") must be below scale_up_at (" + std::to_string(p->scale_up_at).substr(0, 4) +
                                     "), or the fleet would flap");
    p->sample = r.optional<sim::duration>("sample", p->sample, {.min = sim::milliseconds(1)});
    p->interval = r.optional<sim::duration>("interval", p->interval, {.min = sim::milliseconds(1)});
    if (r.valid() && p->interval < p->sample)
        r.error("interval", "interval " + sim::format_duration(p->interval) + " is shorter than sample " +
                                sim::format_duration(p->sample));
    p->cooldown = r.optional<sim::duration>("cooldown", p->cooldown);
    p->startup = r.optional<sim::duration>("startup", p->startup);
    p->drain = r.optional<sim::duration>("drain", p->drain);
    if (s.instances != 1)
        r.error("instances", "an autoscaler runs as one instance (one decides), not " + std::to_string(s.instances));
    if (!p->service.empty()) {
        load.service_reference(service_at, p->service, {"synthetic"});
        check_pool_target(load, service_at, p->service);
        const std::string self = s.name;
        load.later([p, service_at, initial_at, self](const scenario& sc) {
            const service_config* target = sc.find_service(p->service);
            if (target == nullptr) return;
            if (p->min > target->instances || p->initial > target->instances)
                initial_at.error("service " + quote(p->service) + " has a fleet of " +
                                 std::to_string(target->instances) + " instances (its \"instances\"), fewer than " +
                                 std::to_string(std::max(p->min, p->initial)));
            else if (p->initial < p->min)
                initial_at.error("initial " + std::to_string(p->initial) + " is below min " + std::to_string(p->min));
            for (const service_config& other : sc.services) {
                const autoscaler_params* o = autoscaler_of(other);
                if (o != nullptr && other.name < self && o->service == p->service)
                    service_at.error("service " + quote(p->service) + " is already scaled by " + quote(other.name));
            }
        });
    }
    s.params = std::move(p);
}

std::string scaler_of(const scenario& sc, const std::string& service) {
    for (const service_config& other : sc.services) {
        const autoscaler_params* p = autoscaler_of(other);
        if (p != nullptr && p->service == service) return other.name;
    }
    return {};
}

bool held_back(const scenario& sc, const service_config& s, std::uint32_t instance) {
    for (const service_config& other : sc.services) {
        const autoscaler_params* p = autoscaler_of(other);
        if (p != nullptr && p->service == s.name) return instance > p->initial;
    }
    return false;
}

void prepare_autoscalers(world_context& ctx) {
    for (const service_config& s : ctx.config.services) {
        const autoscaler_params* p = autoscaler_of(s);
        if (p == nullptr) continue;
        const std::vector<sim::address>& fleet = ctx.instances_of(p->service);
        ctx.pools.set(p->service, {fleet.begin(), fleet.begin() + p->initial});
    }
}

void run_autoscaler(instance_env& env) {
    const autoscaler_params& p = env.params<autoscaler_params>();
    world_context& ctx = env.world;
    sim::runtime& rt = env.rt;
    const service_config& target = *ctx.config.find_service(p.service);
    const std::vector<sim::address>& fleet = ctx.instances_of(p.service);
    const double slots_per_instance = std::max<std::uint32_t>(1, target.station.max_concurrent_requests);
    // Instances the orchestrator runs or is starting: the pool, plus any starting (not yet in it).
    std::vector<bool> running(fleet.size(), false);
    std::vector<sim::time_point> free_at(fleet.size(), sim::time_zero);  // a drained instance is stopped by then
    for (const sim::address a : *ctx.pools.pool(p.service)) {
        running[static_cast<std::size_t>(std::find(fleet.begin(), fleet.end(), a) - fleet.begin())] = true;
    }
    for (std::size_t i = 0; i < fleet.size(); ++i) {
        running[i] = running[i] || ctx.sim.get_node(fleet[i].node).state() != sim::kernel::node_state::down;
    }
    sim::time_point quiet_until = rt.now();
    while (true) {
        double total = 0;
        std::uint32_t samples = 0;
        for (sim::duration spent{0}; spent < p.interval; spent += p.sample) {
            rt.sleep_for(p.sample);
            total += static_cast<double>(in_system(ctx, p.service));
            ++samples;
        }
        const auto count = static_cast<std::uint32_t>(std::count(running.begin(), running.end(), true));
        const double utilisation = total / samples / (slots_per_instance * std::max<std::uint32_t>(count, 1));
        rt.log("autoscaler", {{"service", p.service}, {"instances", count}, {"utilisation", utilisation}});
        if (rt.now() < quiet_until) continue;
        std::size_t idle = fleet.size();
        for (std::size_t i = 0; i < fleet.size() && idle == fleet.size(); ++i) {
            if (!running[i] && free_at[i] <= rt.now()) idle = i;
        }
        if (utilisation > p.scale_up_at && idle < fleet.size()) {
            // As Kubernetes' HPA: as many as bring the utilisation back to the threshold, at least one.
            const auto wanted = static_cast<std::uint32_t>(std::ceil(count * utilisation / p.scale_up_at));
            std::uint32_t more = std::max<std::uint32_t>(1, wanted > count ? wanted - count : 0);
            for (std::size_t i = idle; i < fleet.size() && more > 0; ++i) {
                if (running[i] || free_at[i] > rt.now()) continue;
                --more;
                running[i] = true;
                const sim::address a = fleet[i];
                mark(ctx, a.node, "autoscaler " + p.service + "=starting");
                ctx.sim.start(a.node);
                ctx.sim.at(rt.now() + p.startup, [&ctx, a, name = p.service] {
                    ctx.pools.add(name, a);
                    mark(ctx, a.node, "autoscaler " + name + "=ready");
                });
            }
            quiet_until = rt.now() + p.cooldown;
        } else if (utilisation < p.scale_down_at && count > p.min) {
            const auto last = std::find(running.rbegin(), running.rend(), true);
            const auto i = static_cast<std::size_t>(running.rend() - last - 1);
            running[i] = false;
            free_at[i] = sim::saturating_add(rt.now(), p.drain);
            const sim::address a = fleet[i];
            ctx.pools.remove(p.service, a);
            mark(ctx, a.node, "autoscaler " + p.service + "=draining");
            ctx.sim.at(rt.now() + p.drain, [&ctx, a, name = p.service] {
                mark(ctx, a.node, "autoscaler " + name + "=stopped");
                ctx.sim.crash(a.node);
            });
            quiet_until = rt.now() + p.cooldown;
        }
    }
}

}  // namespace meshsim::harness
