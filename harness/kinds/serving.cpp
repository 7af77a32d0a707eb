#include "harness/kinds/serving.hpp"

#include <algorithm>
#include <deque>
#include <optional>

#include "sim/random.hpp"

namespace meshsim::harness {

void endpoint_probe::arrived(sim::time_point at) {
    obs_.arrival(obs_.endpoint(stats_), at);
    obs_.instance_arrival(instance_, at);
}

void endpoint_probe::answered(sim::time_point arrived, sim::time_point at, std::uint16_t status) {
    const svc::outcome o = status < 400 ? svc::outcome::success(status) : svc::outcome::http(status);
    obs_.completion(obs_.endpoint(stats_), arrived, at, o);
    obs_.instance_completion(instance_, at, o);
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
    // Observed in true virtual time, as the timeline shows it: the caller's clock may
    // be wrong (a clock fault), and its breaker judges by that clock.
    flow_stats& stats = world.obs.edge(edge_stats);
    const sim::time_point started = world.true_now();
    world.obs.arrival(stats, started);
    svc::call_outcome out = edge.call(std::move(req), options);
    const sim::time_point ended = world.true_now();
    world.obs.call_ended(stats, ended, out.attempts_sent, out.retries, out.hedges, out.end);
    world.obs.completion(stats, started, ended, out.result);
    if (svc::circuit_breaker* b = edge.breaker())
        world.obs.breaker_seen(edge_stats, rt, ended, b->state(rt.monotonic_now()));
    return out;
}

void observe_queue(world_context& world, sim::runtime& rt, svc::service& server, std::size_t service) {
    const std::size_t instance = world.instance_row(rt.self());
    server.on_queue_change([&world, &rt, service, instance](int delta) {
        world.queued[service] += delta;
        world.obs.queue_depth(service, rt.now(),
                              static_cast<std::uint64_t>(std::max<std::int64_t>(0, world.queued[service])));
        world.obs.instance_queue_change(instance, rt.now(), delta);
    });
}

void read_own_endpoints(object_reader& r, service_config& s, kind_reader& load, std::vector<endpoint_config> own) {
    load.read_station_keys(r, s, false);
    const std::string a = std::string_view("aeiou").find(s.kind.front()) == std::string_view::npos ? "a " : "an ";
    std::string list;
    for (const endpoint_config& e : own) list += (list.empty() ? "" : ", ") + e.method + " " + e.path;
    if (!s.endpoints.empty()) {
        r.error("endpoints",
                a + s.kind + " serves its own endpoints (" + list + "): set their latency with \"service_time\"");
    }
    if (!s.api_keys.empty()) {
        r.error("api_keys",
                a + s.kind + " is called only by what names it (services, workloads): it takes no API keys");
    }
    s.endpoints.clear();
    const value_reader time = r.member("service_time");
    const std::optional<sim::duration_distribution> service_time =
        time.present() ? std::optional(load.read_distribution(time)) : std::nullopt;
    for (endpoint_config& e : own) {
        if (service_time) e.service_time = *service_time;
        e.internal = true;
        load.add_endpoint(s, std::move(e), time);
    }
}

void serve_own_endpoints(instance_env& env, const std::vector<svc::endpoint_handler>& handlers) {
    world_context& ctx = env.world;
    const service_config& config = env.config;
    svc::service server(env.rt, template_config(config));
    std::deque<endpoint_probe> probes;  // never moved: the template keeps their addresses
    for (std::size_t i = 0; i < config.endpoints.size(); ++i) {
        const endpoint_config& e = config.endpoints[i];
        probes.emplace_back(ctx.obs, ctx.endpoint_index.at({config.name, e.path, e.version}),
                            ctx.instance_row(env.rt.self()));
        svc::endpoint_spec spec;
        spec.method = e.method;
        spec.path = e.path;
        spec.api_version = e.version;
        spec.service_time = e.service_time;
        spec.observer = &probes.back();
        server.add_endpoint(std::move(spec), handlers.at(i));
    }
    observe_queue(ctx, env.rt, server, ctx.service_index.at(config.name));
    server.serve();
}

std::size_t shard_of(std::string_view key, std::size_t shards) { return sim::stable_hash(key) % shards; }

}  // namespace meshsim::harness
