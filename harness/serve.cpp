// meshsim serve (see serve.hpp). The world is built as harness/world/world.cpp
// builds it for a simulation (same kinds, same observations, same node ids), but on
// a real::host; a simulation object that never runs only names the nodes for the
// fault specs (validation and the nemesis plan). Real clocks and threads stay in
// runtime/ (outside the determinism lint); nothing here reads a clock.
#include "harness/serve.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <system_error>

#include <unistd.h>

#include "harness/checkers/checker.hpp"
#include "harness/kinds/autoscaler.hpp"
#include "harness/kinds/service_kind.hpp"
#include "harness/scenario/limits.hpp"
#include "harness/summary.hpp"
#include "harness/terminal_text.hpp"
#include "harness/workload/generator.hpp"
#include "harness/world/faults.hpp"
#include "harness/world/network.hpp"
#include "harness/world/world.hpp"
#include "runtime/host.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness {

namespace {

namespace fs = std::filesystem;

std::string make_data_dir(const std::string& wanted, std::vector<std::string>& errors) {
    if (wanted.empty()) {
        std::string pattern = (fs::temp_directory_path() / "meshsim-serve-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            errors.push_back("cannot create a data directory under " + fs::temp_directory_path().string());
            return {};
        }
        return pattern;
    }
    std::error_code ec;
    fs::create_directories(wanted, ec);
    if (ec || !fs::is_directory(wanted)) {
        errors.push_back("--data-dir " + printable(wanted) + ": cannot create the directory" +
                         (ec ? ": " + ec.message() : std::string()));
        return {};
    }
    if (::access(wanted.c_str(), W_OK | X_OK) != 0) {
        errors.push_back("--data-dir " + printable(wanted) + ": not writable");
        return {};
    }
    return wanted;
}

// Applies one fault spec's occurrences on the host in real time.
class fault_applier {
public:
    fault_applier(real::host& h, const sim::kernel::simulation& names, std::uint64_t seed)
        : host_(h), names_(names), rng_(seed, "faults") {}

    // False when real mode cannot apply the spec's kind.
    bool schedule(const sim::kernel::fault_spec& spec, sim::time_point end) {
        using k = sim::kernel::fault_kind;
        const k kind = spec.kind();
        if (kind == k::clock) return false;  // the process has one real clock
        std::uint64_t occurrence = 0;
        for (sim::time_point t = spec.at; t < end && t <= spec.repeat_until; ++occurrence) {
            const std::uint64_t id = next_id_++;
            host_.at(t, [this, &spec, id, occurrence] { start(spec, id, occurrence); });
            if (spec.length.count() > 0) {
                const sim::time_point stop = sim::saturating_add(t, spec.length);
                if (stop < end) host_.at(stop, [this, &spec, id] { finish(spec, id); });
            }
            if (spec.repeat_every.count() == 0) break;
            t = sim::saturating_add(t, spec.repeat_every);
        }
        return true;
    }

private:
    struct active {
        sim::node_id node = sim::no_node;
        std::uint64_t handle = 0;
        std::string detail;
    };
    sim::node_id resolve(const std::string& name) {
        if (name == sim::kernel::any_node)
            return static_cast<sim::node_id>(rng_.below(static_cast<std::uint64_t>(names_.node_count())));
        return names_.find_node(name);
    }
    std::vector<sim::node_id> resolve(const std::vector<std::string>& list) {
        std::vector<sim::node_id> ids;
        for (const std::string& name : list) ids.push_back(resolve(name));
        return ids;
    }
    // The simulation's cut for the shape (sim/kernel/faults.cpp), over the scenario's nodes.
    sim::kernel::cut_matrix build_cut(const sim::kernel::partition_fault& f, active& a) {
        using shape = sim::kernel::partition_shape;
        using sim::kernel::cut_matrix;
        const auto n = static_cast<std::uint32_t>(names_.node_count());
        switch (f.shape) {
            case shape::groups: {
                std::vector<std::vector<sim::node_id>> groups;
                for (const auto& g : f.groups) groups.push_back(resolve(g));
                return cut_matrix::groups(n, groups);
            }
            case shape::one_way: return cut_matrix::one_way(n, resolve(f.from), resolve(f.to));
            case shape::halves: return cut_matrix::halves(n);
            case shape::random_halves: return cut_matrix::random_halves(n, rng_);
            case shape::isolate: a.node = resolve(f.node); return cut_matrix::isolate(n, a.node);
            case shape::majorities_ring: return cut_matrix::majorities_ring(n, rng_);
            case shape::bridge: return cut_matrix::bridge(n);
        }
        return cut_matrix(n);
    }
    void start(const sim::kernel::fault_spec& spec, std::uint64_t id, std::uint64_t occurrence) {
        active a;
        nlohmann::json detail = spec.to_json();
        std::visit(
            [&](const auto& f) {
                using T = std::decay_t<decltype(f)>;
                if constexpr (std::is_same_v<T, sim::kernel::link_fault>)
                    a.handle = host_.add_link_fault(resolve(f.from), resolve(f.to), f.config);
                if constexpr (std::is_same_v<T, sim::kernel::partition_fault>) {
                    sim::kernel::cut_matrix cut = build_cut(f, a);
                    detail["blocked_pairs"] = cut.blocked_pairs();
                    a.handle = host_.add_cut(std::move(cut), f.mode);
                }
                if constexpr (requires { f.node; } && !std::is_same_v<T, sim::kernel::partition_fault>)
                    a.node = resolve(f.node);
                if (a.node == sim::no_node) return;
                if constexpr (std::is_same_v<T, sim::kernel::crash_fault>) host_.crash(a.node);
                if constexpr (std::is_same_v<T, sim::kernel::pause_fault>) host_.pause(a.node);
                if constexpr (std::is_same_v<T, sim::kernel::slow_fault>) host_.set_slowness(a.node, f.factor);
                if constexpr (std::is_same_v<T, sim::kernel::abort_fault> ||
                              std::is_same_v<T, sim::kernel::delay_fault>)
                    a.handle = host_.service_faults(a.node).add(f.rule());
            },
            spec.what);
        detail["id"] = id;
        detail["occurrence"] = occurrence;
        if (a.node != sim::no_node) detail["target"] = host_.name_of(a.node);
        a.detail = detail.dump();
        host_.record(sim::event_kind::fault_start, a.node, id, spec.what.index(), a.detail);
        active_[id] = std::move(a);
    }
    void finish(const sim::kernel::fault_spec& spec, std::uint64_t id) {
        const auto it = active_.find(id);
        if (it == active_.end()) return;
        const active& a = it->second;
        if (spec.kind() == sim::kernel::fault_kind::link) host_.remove_link_fault(a.handle);
        if (spec.kind() == sim::kernel::fault_kind::partition) host_.heal(a.handle);
        if (a.node != sim::no_node) {
            std::visit(
                [&](const auto& f) {
                    using T = std::decay_t<decltype(f)>;
                    if constexpr (std::is_same_v<T, sim::kernel::crash_fault>) {
                        if (f.restart_at_end) host_.start(a.node);
                    }
                    if constexpr (std::is_same_v<T, sim::kernel::pause_fault>) host_.resume(a.node);
                    if constexpr (std::is_same_v<T, sim::kernel::slow_fault>) host_.set_slowness(a.node, 1.0);
                    if constexpr (std::is_same_v<T, sim::kernel::abort_fault> ||
                                  std::is_same_v<T, sim::kernel::delay_fault>)
                        host_.service_faults(a.node).remove(a.handle);
                },
                spec.what);
        }
        host_.record(sim::event_kind::fault_end, a.node, id, spec.what.index(), a.detail);
        active_.erase(it);
    }

    real::host& host_;
    const sim::kernel::simulation& names_;
    sim::random_stream rng_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, active> active_;
};

// The scenario's network as link faults that never end, under the scheduled ones (the
// simulation's precedence: a fault's overlay, then a pair's own link, then the
// default). The default link's latency is what the loopback stands for, so a
// default without faults needs nothing.
void apply_network(const network_config& network, const instance_addresses& instances, real::host& h) {
    if (network.defaults.has_faults()) h.add_link_fault({}, {}, network.defaults);
    for (const link_override& o : network.links) {
        const auto expand = [&](const std::string& service) {
            std::vector<sim::node_id> ids;
            if (service == "*") return ids;  // every node
            for (const sim::address& a : instances.at(service)) ids.push_back(a.node);
            return ids;
        };
        h.add_link_fault(expand(o.from), expand(o.to), o.link);
    }
}

sim::time_point last_fault_end(const std::vector<const sim::kernel::fault_spec*>& specs, sim::time_point run_end) {
    sim::time_point last = sim::time_zero;
    for (const auto* f : specs) {
        sim::time_point end =
            f->length.count() == 0 ? run_end : std::min(run_end, sim::saturating_add(f->at, f->length));
        if (f->repeat_every.count() > 0)
            end =
                std::min(run_end, f->repeat_until == sim::time_never ? run_end
                                                                     : sim::saturating_add(f->repeat_until, f->length));
        last = std::max(last, end);
    }
    return last;
}

nlohmann::json network_json(const real::network_counts& c) {
    return {{"delayed", c.delayed},     {"lost", c.lost},           {"duplicated", c.duplicated},
            {"reordered", c.reordered}, {"corrupted", c.corrupted}, {"cut_dropped", c.cut_dropped},
            {"held", c.held},           {"released", c.released}};
}

}  // namespace

std::string port_map_text(const nlohmann::json& ports) {
    std::string out;
    for (const auto& p : ports) {
        out +=
            "  " + printable(p["node"].get<std::string>()) + "  tcp 127.0.0.1:" + std::to_string(p["port"].get<int>());
        if (p.contains("http")) out += "  http://127.0.0.1:" + std::to_string(p["http"].get<int>());
        out += "\n";
    }
    return out;
}

serve_result serve_scenario(scenario s, const serve_options& options) {
    serve_result result;
    const sim::duration length = options.until.value_or(s.duration);
    for (const limit_problem& p : check_run_limits(s, length, false)) result.setup_errors.push_back(p.message);
    for (const service_config& svc_config : s.services) {
        if (svc_config.kind == "autoscaler")
            result.setup_errors.push_back("service " + printable(svc_config.name) +
                                          ": autoscalers are not supported by meshsim serve (simulation only)");
    }
    std::uint64_t instance_count = 0;
    for (const service_config& svc_config : s.services) instance_count += svc_config.instances;
    const std::uint64_t ports_needed = instance_count * (options.http ? 2 : 1);
    if (options.base_port != 0 && options.base_port + ports_needed - 1 > 65535) {
        result.setup_errors.push_back("--base-port " + std::to_string(options.base_port) + ": " +
                                      std::to_string(instance_count) + " instances need " +
                                      std::to_string(ports_needed) + " ports, beyond port 65535");
    }
    if (!result.setup_errors.empty()) return result;
    s.duration = length;
    if (s.warmup >= s.duration) s.warmup = sim::duration{0};
    const std::string data_dir = make_data_dir(options.data_dir, result.setup_errors);
    if (!result.setup_errors.empty()) return result;
    if (!s.actions.empty()) result.not_applied.push_back("actions (deploys, rollouts): simulation only");

    // Names the nodes for the fault specs; it never runs.
    sim::kernel::simulation names(
        {.seed = s.seed, .fiber_stack_bytes = 64 * 1024, .trace = sim::trace_mode::hash_only});
    // The loopback stands for the default link's latency (its mean; at most 1s, for
    // a heavy-tailed one): link faults add what their latency exceeds it by.
    const sim::duration base_latency = std::min<sim::duration>(s.network.defaults.latency.mean(), sim::seconds(1));
    real::host host(
        {.seed = s.seed, .data_dir = data_dir, .handle_signals = options.handle_signals, .base_latency = base_latency});
    world_context ctx(s, names);
    ctx.real_clock = [&host] { return host.now(); };
    register_stats(ctx);

    std::uint16_t next_port = options.base_port;
    const auto take_port = [&]() -> std::uint16_t { return options.base_port == 0 ? 0 : next_port++; };
    std::vector<sim::node_id> instances;
    for (const service_config& svc_config : s.services) {
        const service_kind* kind = find_service_kind(svc_config.kind);
        for (std::uint32_t i = 1; i <= svc_config.instances; ++i) {
            const std::string name = instance_name(svc_config.name, i);
            const sim::node_id id = host.add_node(
                name,
                [&ctx, &svc_config, kind, i](sim::runtime& rt) {
                    instance_env env{rt, ctx, svc_config, i};
                    kind->run(env);
                },
                take_port());
            names.add_node(name, [](sim::runtime&) {});
            ctx.instances[svc_config.name].push_back({id, service_port});
            const bool starts = !held_back(s, svc_config, i);
            ctx.instance_rows[id] = ctx.obs.add_instance(ctx.service_index.at(svc_config.name), name, id, starts);
            if (starts) host.start_at_begin(id);
            instances.push_back(id);
        }
    }
    if (options.workloads) {
        ctx.workload_plans.reserve(s.workloads.size());
        for (const workload_config& w : s.workloads) ctx.workload_plans.push_back(plan_workload(ctx, s, w));
        for (const workload_plan& plan : ctx.workload_plans) {
            const std::string name = workload_node_name(plan.config->name);
            const sim::node_id id = host.add_node(
                name, [&ctx, &plan](sim::runtime& rt) { run_workload(rt, plan, ctx.obs); }, 0);
            names.add_node(name, [](sim::runtime&) {});
            host.start_at_begin(id);
        }
    } else {
        for (const workload_config& w : s.workloads) ctx.obs.add_workload(w.name);
    }
    if (options.http) {
        for (const sim::node_id id : instances) host.add_http_edge(id, service_port, take_port());
    }
    apply_network(s.network, ctx.instances, host);
    if (s.network.defaults.bandwidth_bytes_per_s != 0 ||
        std::any_of(s.network.links.begin(), s.network.links.end(),
                    [](const link_override& o) { return o.link.bandwidth_bytes_per_s != 0; }))
        result.not_applied.push_back("network bandwidth and its queue: simulation only (frames go at loopback speed)");

    std::vector<sim::kernel::fault_spec> specs;
    result.setup_errors = schedule_faults(s, names, specs);
    if (!result.setup_errors.empty()) return result;
    fault_applier faults(host, names, s.seed);
    std::vector<const sim::kernel::fault_spec*> applied;
    for (const auto& spec : specs) {
        if (faults.schedule(spec, sim::time_zero + s.duration)) {
            applied.push_back(&spec);
            const auto* link = std::get_if<sim::kernel::link_fault>(&spec.what);
            if (link != nullptr && link->config.bandwidth_bytes_per_s != 0)
                result.not_applied.push_back(spec.name +
                                             " (link): its bandwidth and queue are not applied in real mode "
                                             "(its latency, jitter, loss, duplication, reordering and "
                                             "corruption are)");
        } else {
            result.not_applied.push_back(spec.name + " (" + std::string(sim::kernel::to_string(spec.kind())) +
                                         "): not applied in real mode");
        }
    }
    const sim::event_kind_mask node_kinds = sim::mask_of(sim::event_kind::log) | sim::mask_of(sim::event_kind::state) |
                                            sim::mask_of(sim::event_kind::rpc_attempt) |
                                            sim::mask_of(sim::event_kind::rpc_serve);
    const sim::event_kind_mask wanted = options.on_event ? options.event_kinds : 0;
    host.set_event_sink(
        [&ctx, &host, &options, wanted](const sim::trace_event& e) {
            if (observations::observes(e.kind)) ctx.obs.trace_event(e);
            if ((wanted & sim::mask_of(e.kind)) == 0) return;
            options.on_event(e, e.node < host.node_count() ? &host.name_of(e.node) : nullptr);
        },
        wanted & node_kinds);

    try {
        host.open();
    } catch (const real::host_error& e) {
        result.setup_errors.push_back(e.what());
        return result;
    }
    nlohmann::json ports = nlohmann::json::array();
    for (const sim::node_id id : instances) {
        nlohmann::json p = {{"node", host.name_of(id)}, {"port", host.port_of(id)}};
        if (options.http) p["http"] = host.http_port_of(id);
        ports.push_back(std::move(p));
    }
    if (options.on_note) {
        for (const std::string& note : result.not_applied) options.on_note(note);
    }
    if (options.on_ready) options.on_ready(ports);
    if (options.on_stop_handle) options.on_stop_handle([&host] { host.stop(); });

    real::run_end how = real::run_end::elapsed;
    sim::time_point stopped_at = sim::time_zero + s.duration;
    real::run_on_own_thread([&] {
        how = host.run(s.duration);
        stopped_at = std::min(stopped_at, host.now());
    });
    result.interrupted = how != real::run_end::elapsed;
    const sim::time_point end = result.interrupted ? stopped_at : sim::time_zero + s.duration;

    ctx.obs.finish();
    collect_data(ctx, [&host](sim::node_id id) -> const sim::store& { return host.store_of(id); });
    const std::vector<check_result> checks = run_checkers({s, ctx.obs, ctx.data, last_fault_end(applied, end), end});
    std::vector<sim::kernel::fault_spec> applied_specs;
    for (const auto* spec : applied) applied_specs.push_back(*spec);
    const nlohmann::json fault_json = fault_entries(s, applied_specs, ctx.obs.fault_occurrences());
    run_identity id;
    id.scenario_name = s.name;
    id.scenario_file = s.source_file;
    id.scenario_hash = s.source_hash;
    id.seed = s.seed;
    id.virtual_end = end;
    id.reproduce = "meshsim serve " + shell_quote(s.source_file.empty() ? s.name : s.source_file);
    result.summary = make_summary(id, ctx.obs, ctx.data, checks, fault_json);
    // Real time: no trace, so no trace hash; a rerun gives other numbers.
    result.summary["trace_hash"] = nullptr;
    result.summary["events"] = nullptr;  // no trace is kept, so no count of its events
    result.summary["mode"] = "real-time";
    result.summary["real_time"] = {{"ports", ports},
                                   {"data_dir", data_dir},
                                   {"interrupted", result.interrupted},
                                   {"messages_sent", host.messages_sent()},
                                   {"fiber_errors", host.fiber_errors()},
                                   {"network", network_json(host.network())},
                                   {"not_applied", result.not_applied}};
    result.passed = result.summary["verdict"].get<std::string>() == "pass";
    return result;
}

}  // namespace meshsim::harness
