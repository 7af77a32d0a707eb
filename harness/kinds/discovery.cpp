#include "harness/kinds/discovery.hpp"

#include "harness/kinds/kinds.hpp"

namespace meshsim::harness {

namespace {
// The reply port of a caller's registry lookups: not the service's calls (49152),
// not the template's registration agent (49151).
constexpr sim::port_id lookup_reply_port = 49150;

const registry_params* registry_of(const scenario& sc, const std::string& name) {
    const service_config* reg = sc.find_service(name);
    if (reg == nullptr || reg->kind != "registry" || !reg->params) return nullptr;
    return &static_cast<const registry_params&>(*reg->params);
}
}  // namespace

void read_registry(object_reader& r, service_config& s, kind_reader&) {
    auto p = std::make_shared<registry_params>();
    p->ttl = r.optional<sim::duration>("ttl", p->ttl, {.min = sim::milliseconds(1)});
    p->expiry_check = r.optional<sim::duration>("expiry_check", p->expiry_check, {.min = sim::milliseconds(1)});
    if (s.instances != 1)
        r.error("instances",
                "a registry runs as one instance (its table is not replicated), not " + std::to_string(s.instances));
    if (s.discovery) r.error("discovery", "a registry does not register with a registry");
    s.params = std::move(p);
}

void run_registry(instance_env& env) {
    const registry_params& p = env.params<registry_params>();
    svc::registry_service registry(env.rt, {.ttl = p.ttl, .expiry_check_interval = p.expiry_check}, service_port);
    registry.start();
    env.rt.sleep_until(sim::time_never);
}

void read_discovery(object_reader& r, service_config& s, kind_reader& load) {
    const value_reader at = r.member("discovery");
    auto o = r.maybe_object("discovery");
    if (!o) return;
    discovery_settings d;
    d.registry = o->required<std::string>("registry", {.non_empty = true});
    if (!d.registry.empty()) load.service_reference(o->member("registry"), d.registry, {"registry"});
    d.heartbeat = o->optional<sim::duration>("heartbeat", d.heartbeat, {.min = sim::milliseconds(1)});
    d.cache = o->optional<sim::duration>("cache", d.cache, {.min = sim::milliseconds(1)});
    d.call_timeout = o->optional<sim::duration>("call_timeout", d.call_timeout, {.min = sim::microseconds(1)});
    const value_reader heartbeat_at = o->member("heartbeat").present() ? o->member("heartbeat") : at;
    o->finish();
    // Heartbeats must come more often than the TTL, or live instances flap out of the list.
    load.later([heartbeat_at, d](const scenario& sc) {
        const registry_params* reg = registry_of(sc, d.registry);
        if (reg != nullptr && d.heartbeat >= reg->ttl)
            heartbeat_at.error("heartbeat " + sim::format_duration(d.heartbeat) + " must be shorter than registry " +
                               quote(d.registry) + "'s ttl " + sim::format_duration(reg->ttl) +
                               " (live instances would expire between heartbeats)");
    });
    s.discovery = d;
}

svc::service_config with_registration(svc::service_config t, const world_context& world, const service_config& s) {
    if (!s.discovery) return t;
    t.registry_address = world.instances_of(s.discovery->registry).front();
    t.registration = {.heartbeat_interval = s.discovery->heartbeat, .call_timeout = s.discovery->call_timeout};
    return t;
}

caller_edges::caller_edges(sim::runtime& rt, world_context& world) : rt_(rt), world_(world) {}

std::unique_ptr<svc::call_edge> caller_edges::edge(svc::rpc_client& client, const std::string& caller,
                                                   const std::string& callee) {
    const std::string name = caller + "->" + callee;
    const edge_policy& policy = world_.config.policy_for(caller, callee);
    const service_config* target = world_.config.find_service(callee);
    const std::vector<sim::address>& configured = world_.instances_of(callee);
    if (target == nullptr || !target->discovery) {
        pool_generation_[callee] = world_.pools.generation(callee);
        const std::vector<sim::address>* pool = world_.pools.pool(callee);
        return std::make_unique<svc::call_edge>(client, name, pool ? *pool : configured, policy);
    }
    if (!lookups_) lookups_ = std::make_unique<svc::rpc_client>(rt_, lookup_reply_port);
    auto [it, fresh] = followed_.try_emplace(callee);
    if (fresh) {
        it->second = std::make_unique<svc::discovery_client>(
            *lookups_, world_.instances_of(target->discovery->registry).front(),
            svc::discovery_config{.refresh_interval = target->discovery->cache,
                                  .call_timeout = target->discovery->call_timeout});
    }
    auto e = std::make_unique<svc::call_edge>(client, name, *it->second, callee, policy);
    if (fresh) it->second->start();
    // The seed list until the registry first lists an instance (as a client starts from DNS).
    if (e->instances().empty()) e->set_instances(configured);
    return e;
}

void caller_edges::follow(svc::call_edge& edge, const std::string& callee) {
    if (world_.pools.empty()) return;  // no pool yet: every edge still has the configured instances
    const auto seen = pool_generation_.find(callee);
    if (seen == pool_generation_.end()) return;  // follows a registry, not a pool
    const std::uint64_t now = world_.pools.generation(callee);
    if (seen->second == now) return;
    seen->second = now;
    const std::vector<sim::address>* pool = world_.pools.pool(callee);
    edge.set_instances(pool ? *pool : world_.instances_of(callee));
}

}  // namespace meshsim::harness
