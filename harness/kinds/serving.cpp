#include "harness/kinds/serving.hpp"

#include <algorithm>

namespace meshsim::harness {

void endpoint_probe::arrived(sim::time_point at) { obs_.arrival(obs_.endpoint(stats_), at); }

void endpoint_probe::answered(sim::time_point arrived, sim::time_point at, std::uint16_t status) {
    obs_.completion(obs_.endpoint(stats_), arrived, at,
                    status < 400 ? svc::outcome::success(status) : svc::outcome::http(status));
}

svc::service_config template_config(const service_config& cfg) {
    svc::service_config c = cfg.station;
    c.name = cfg.name;
    c.port = service_port;
    return c;
}

svc::response status(std::uint16_t code) { return svc::response{code, {}, nullptr}; }

svc::call_outcome call_on_edge(world_context& world, sim::runtime& rt, svc::call_edge& edge, std::size_t edge_stats,
                               svc::request req, const svc::call_options& options) {
    flow_stats& stats = world.obs.edge(edge_stats);
    const sim::time_point started = rt.now();
    world.obs.arrival(stats, started);
    svc::call_outcome out = edge.call(std::move(req), options);
    stats.attempts += out.attempts_sent;
    stats.retries += out.retries;
    stats.hedges += out.hedges;
    world.obs.completion(stats, started, rt.now(), out.result);
    if (svc::circuit_breaker* b = edge.breaker()) {
        world.obs.breaker_seen(edge_stats, rt.node_name(), rt.now(), b->state(rt.now()));
    }
    return out;
}

void observe_queue(world_context& world, sim::runtime& rt, svc::service& server, std::size_t service) {
    server.on_queue_change([&world, &rt, service](int delta) {
        world.queued[service] += delta;
        world.obs.queue_depth(service, rt.now(),
                              static_cast<std::uint64_t>(std::max<std::int64_t>(0, world.queued[service])));
    });
}

}  // namespace meshsim::harness
