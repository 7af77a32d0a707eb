// The mesh workload: a generated scenario shaped like scenarios/mesh_100.json (a
// gateway fanning out in parallel to about 2 mid-tier services, each calling about 2
// of its leaves in sequence), loaded, built and run through the same loader, world
// and runner as `meshsim run FILE --events none --report none`.
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "harness/bench/bench.hpp"
#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

namespace meshsim::harness::bench {

namespace {

// mesh_100 writes its probabilities with 6 decimals; so do we, so its shape comes out exactly.
double about_two_of(std::size_t count) {
    return count <= 2 ? 1.0 : std::round(2.0 / static_cast<double>(count) * 1e6) / 1e6;
}

nlohmann::json service(const std::string& name, std::uint32_t instances, std::uint32_t concurrency) {
    return {{"name", name}, {"instances", instances}, {"concurrency", concurrency}};
}

nlohmann::json endpoint(const std::string& path, const char* mean) {
    return {{"path", path}, {"service_time", {{"dist", "exponential"}, {"mean", mean}}}};
}

nlohmann::json call(const std::string& service, const char* path, double probability) {
    return {{"service", service}, {"endpoint", path}, {"probability", probability}};
}

}  // namespace

mesh_shape shape_of(std::uint32_t services) {
    // 1 gateway + m mid-tier + the rest leaves, about sqrt(services) leaves per mid: 100 -> 1 + 9 + 90.
    const auto root = static_cast<std::uint32_t>(std::lround(std::sqrt(static_cast<double>(services - 1))));
    mesh_shape shape;
    shape.mids = std::max<std::uint32_t>(1, root - 1);
    shape.leaves = services - 1 - shape.mids;
    return shape;
}

nlohmann::json mesh_scenario(const mesh_options& o) {
    if (o.services < 3) throw std::invalid_argument("a mesh needs at least 3 services");
    const mesh_shape shape = shape_of(o.services);
    const auto instances = [&](std::uint32_t mesh_100_default) { return o.instances.value_or(mesh_100_default); };

    nlohmann::json gateway = service("gateway", instances(4), 256);
    gateway["queue"] = {{"capacity", 1000}};
    nlohmann::json api = endpoint("/api", "100us");
    api["fanout"] = "parallel";
    api["calls"] = nlohmann::json::array();
    nlohmann::json services = nlohmann::json::array({nullptr});  // the gateway goes first, once complete
    for (std::uint32_t m = 0; m < shape.mids; ++m) {
        const std::string mid_name = "mid-" + std::to_string(m);
        api["calls"].push_back(call(mid_name, "/op", about_two_of(shape.mids)));
        // Leaf j belongs to mid j % mids: the leaves of one mid differ by at most one.
        const std::uint32_t own_leaves = shape.leaves / shape.mids + (m < shape.leaves % shape.mids ? 1 : 0);
        nlohmann::json mid = service(mid_name, instances(2), 64);
        nlohmann::json op = endpoint("/op", "200us");
        std::vector<nlohmann::json> leaves;
        for (std::uint32_t k = 0; k < own_leaves; ++k) {
            const std::string leaf_name = "leaf-" + std::to_string(m) + "-" + std::to_string(k);
            op["calls"].push_back(call(leaf_name, "/get", about_two_of(own_leaves)));
            nlohmann::json leaf = service(leaf_name, instances(1), 16);
            leaf["endpoints"] = {endpoint("/get", "300us")};
            leaves.push_back(std::move(leaf));
        }
        mid["endpoints"] = {std::move(op)};
        services.push_back(std::move(mid));
        for (auto& leaf : leaves) services.push_back(std::move(leaf));
    }
    gateway["endpoints"] = {std::move(api)};
    services[0] = std::move(gateway);

    return {{"name", "bench_mesh"},
            {"seed", o.seed},
            {"duration", sim::format_duration(o.virtual_duration)},
            {"warmup", sim::format_duration(std::min(o.virtual_duration / 10, sim::duration(std::chrono::seconds(1))))},
            {"bucket", sim::format_duration(std::min(o.virtual_duration, sim::duration(std::chrono::seconds(1))))},
            {"network", {{"defaults", {{"latency", {{"dist", "lognormal"}, {"median", "200us"}, {"sigma", 0.3}}}}}}},
            {"services", std::move(services)},
            {"default_edge",
             {{"timeout", "200ms"},
              {"deadline", "1s"},
              {"retry", {{"max_attempts", 2}, {"backoff_base", "5ms"}, {"backoff_max", "50ms"}}}}},
            {"workloads",
             {{{"name", "traffic"},
               {"service", "gateway"},
               {"endpoint", "/api"},
               {"open", {{"arrivals", "poisson"}, {"rate_per_s", o.rate_per_s}}},
               {"client", {{"timeout", "2s"}, {"deadline", "2s"}}}}}}};
}

scenario build_mesh(const mesh_options& options) {
    diagnostics problems;
    std::optional<scenario> s = load_scenario_text(mesh_scenario(options).dump(), "bench_mesh", problems);
    if (!s) throw bad_mesh(problems.format());
    return std::move(*s);
}

mesh_result run_mesh(scenario s) {
    std::uint64_t instances = 0;
    for (const auto& svc : s.services) instances += svc.instances;
    const auto services = static_cast<std::uint32_t>(s.services.size());
    const sim::duration length = s.duration;
    run_options hash_only;  // as `meshsim run --events none --report none`
    hash_only.keep_events = false;
    const auto start = std::chrono::steady_clock::now();
    const run_result run = run_scenario(std::move(s), hash_only);
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!run.setup_errors.empty()) throw bad_mesh(run.setup_errors.front());

    mesh_result r;
    r.services = services;
    r.instances = instances;
    r.events = run.summary["events"].get<std::uint64_t>();
    r.requests = run.summary["workloads"]["traffic"]["arrivals"].get<std::uint64_t>();
    r.wall_s = wall_s;
    r.events_per_s = static_cast<double>(r.events) / wall_s;
    r.requests_per_s = static_cast<double>(r.requests) / wall_s;
    r.peak_rss_bytes = peak_rss_bytes();
    r.trace_hash = run.summary["trace_hash"].get<std::string>();
    r.virtual_s = sim::to_seconds(length);
    return r;
}

void compare_with(mesh_result& mesh, const ring_result& ring) {
    mesh.ring_msgs_per_s = ring.msgs_per_s;
    mesh.baseline_msgs_per_s = ring.baseline_msgs_per_s;
    mesh.ratio_to_baseline = ring.baseline_msgs_per_s / mesh.events_per_s;
    mesh.cost_per_event_vs_ring = ring.msgs_per_s / mesh.events_per_s;
}

nlohmann::json to_json(const mesh_result& r) {
    return {{"workload", "mesh"},
            {"services", r.services},
            {"instances", r.instances},
            {"requests", r.requests},
            {"events", r.events},
            {"wall_s", r.wall_s},
            {"events_per_s", r.events_per_s},
            {"requests_per_s", r.requests_per_s},
            {"baseline_msgs_per_s", r.baseline_msgs_per_s},
            {"ratio_to_baseline", r.ratio_to_baseline},
            {"ring_msgs_per_s", r.ring_msgs_per_s},
            {"cost_per_event_vs_ring", r.cost_per_event_vs_ring},
            {"peak_rss_bytes", r.peak_rss_bytes},
            {"virtual_s", r.virtual_s},
            {"trace_hash", r.trace_hash}};
}

}  // namespace meshsim::harness::bench
