#include "harness/world/actions.hpp"

#include "harness/kinds/autoscaler.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "harness/kinds/autoscaler.hpp"
#include "harness/scenario/diagnostics.hpp"

namespace meshsim::harness {

namespace {

constexpr std::size_t max_actions = 1'000;
constexpr std::size_t max_rollout_steps = 1'000;

struct rollout_step {
    sim::duration at{0};
    double percent = 0;
};

struct flag_params final : action_params {
    std::string name;
    std::vector<rollout_step> rollout;  // by at
};

struct rolling_restart_params final : action_params {
    std::string service;
    sim::duration at{0};
    sim::duration drain = sim::seconds(1);    // out of the pool this long before it stops
    sim::duration startup = sim::seconds(1);  // down this long, then back in the pool
    sim::duration pause{0};                   // between one instance back and the next one's drain
};

struct blue_green_params final : action_params {
    std::string service;
    sim::duration at{0};
    sim::duration drain = sim::seconds(1);  // blue stops this long after the switch
};

const flag_params* flag_of(const action_config& a) {
    return a.kind == "flag" ? static_cast<const flag_params*>(a.params.get()) : nullptr;
}

// A state change in the trace (events.jsonl), on the node it concerns.
void mark(world_context& ctx, sim::node_id node, const std::string& what) {
    ctx.sim.trace().record(ctx.sim.now(), sim::event_kind::state, node, 0, 0, what);
}

std::string percent_text(double p) {
    char text[32];
    std::snprintf(text, sizeof text, "%g%%", p);
    return text;
}

// --- flag -----------------------------------------------------------------------------

void read_flag(object_reader& r, action_config& a, kind_reader& load) {
    auto p = std::make_shared<flag_params>();
    p->name = r.required<std::string>("name", {.non_empty = true});
    const value_reader name_at = r.member("name");
    std::vector<value_reader> step_at;
    for (const value_reader& item : r.array("rollout", {.min_items = 1, .max_items = max_rollout_steps})) {
        object_reader s = item.object();
        rollout_step step;
        step.at = s.required<sim::duration>("at");
        step.percent = s.required<double>("percent", {.min = 0, .max = 100});
        if (s.valid() && !p->rollout.empty() && step.at <= p->rollout.back().at)
            s.error("at", "rollout steps must be in time order: " + sim::format_duration(step.at) + " is not after " +
                              sim::format_duration(p->rollout.back().at));
        step_at.push_back(s.member("at"));
        s.finish();
        p->rollout.push_back(step);
    }
    const std::string name = p->name;
    const std::vector<rollout_step> rollout = p->rollout;
    load.later([name, name_at, rollout, step_at](const scenario& sc) {
        if (name.empty()) return;
        std::size_t defined = 0;
        for (const action_config& other : sc.actions) {
            if (const flag_params* f = flag_of(other)) defined += f->name == name;
        }
        if (defined > 1) name_at.error("flag " + quote(name) + " is defined more than once");
        bool read = false;
        for (const service_config& s : sc.services) {
            for (const endpoint_config& e : s.endpoints) read |= e.flag && e.flag->flag == name;
        }
        if (!read)
            name_at.error("flag " + quote(name) +
                          " is read by no endpoint (give one a \"flag\": {\"name\": " + quote(name) + ", ...})");
        for (std::size_t i = 0; i < rollout.size() && i < step_at.size(); ++i) {
            if (rollout[i].at >= sc.duration)
                step_at[i].error("rollout step at " + sim::format_duration(rollout[i].at) +
                                 " is not before the end of the run (" + sim::format_duration(sc.duration) + ")");
        }
    });
    a.params = std::move(p);
}

void schedule_flag(const action_config& a, world_context& ctx) {
    const flag_params& p = *flag_of(a);
    for (const rollout_step& step : p.rollout) {
        ctx.sim.at(sim::time_zero + step.at,
                   [&ctx, &p, step] { mark(ctx, sim::no_node, "flag " + p.name + "=" + percent_text(step.percent)); });
    }
}

// --- deploys --------------------------------------------------------------------------

// The service a rolling restart or blue/green switch deploys; "" for other actions.
std::string deploy_target(const action_config& a) {
    if (a.params == nullptr) return {};
    if (a.kind == "rolling_restart") return static_cast<const rolling_restart_params&>(*a.params).service;
    if (a.kind == "blue_green") return static_cast<const blue_green_params&>(*a.params).service;
    return {};
}

// A deploy's target: a service whose callers follow the mesh's pool, starting
// before the run ends.
void check_deploy_target(kind_reader& load, object_reader& r, const std::string& service, sim::duration at,
                         bool even_fleets) {
    if (service.empty()) return;
    const value_reader service_at = r.member("service");
    const value_reader at_at = r.member("at");
    load.service_reference(service_at, service);
    check_pool_target(load, service_at, service);
    load.later([service, service_at, at, at_at, even_fleets](const scenario& sc) {
        const service_config* s = sc.find_service(service);
        if (s == nullptr) return;
        if (even_fleets && (s->instances < 2 || s->instances % 2 != 0))
            service_at.error("blue/green needs an even number of instances (first half blue, second half green); " +
                             quote(service) + " has " + std::to_string(s->instances));
        if (at >= sc.duration)
            at_at.error("at " + sim::format_duration(at) + " is not before the end of the run (" +
                        sim::format_duration(sc.duration) + ")");
        // One owner of the pool callers follow: a deploy beside an autoscaler, or beside
        // another deploy, would each set it from a fleet the other has changed.
        if (const std::string scaler = scaler_of(sc, service); !scaler.empty())
            service_at.error("service " + quote(service) + " is scaled by autoscaler " + quote(scaler) +
                             ", which owns its pool; deploy a service that is not autoscaled");
        std::size_t deploys = 0;
        for (const action_config& a : sc.actions) deploys += deploy_target(a) == service ? 1 : 0;
        if (deploys > 1)
            service_at.error("service " + quote(service) + " has " + std::to_string(deploys) +
                             " deploys; one deploy per service (each owns the pool its callers follow)");
    });
}

void read_rolling_restart(object_reader& r, action_config& a, kind_reader& load) {
    auto p = std::make_shared<rolling_restart_params>();
    p->service = r.required<std::string>("service", {.non_empty = true});
    p->at = r.required<sim::duration>("at");
    p->drain = r.optional<sim::duration>("drain", p->drain);
    p->startup = r.optional<sim::duration>("startup", p->startup, {.min = sim::milliseconds(1)});
    p->pause = r.optional<sim::duration>("pause", p->pause);
    check_deploy_target(load, r, p->service, p->at, false);
    a.params = std::move(p);
}

void schedule_rolling_restart(const action_config& a, world_context& ctx) {
    const auto& p = static_cast<const rolling_restart_params&>(*a.params);
    const std::vector<sim::address>& fleet = ctx.instances_of(p.service);
    if (p.drain > sim::duration::zero() && ctx.pools.pool(p.service) == nullptr) ctx.pools.set(p.service, fleet);
    sim::time_point t = sim::time_zero + p.at;
    for (const sim::address a_ : fleet) {
        const sim::address instance = a_;
        const sim::time_point stop = t + p.drain;
        const sim::time_point back = stop + p.startup;
        if (p.drain > sim::duration::zero()) {
            // Out of the pool first: callers send it nothing new; what it has in hand finishes.
            ctx.sim.at(t, [&ctx, &p, instance] {
                ctx.pools.remove(p.service, instance);
                mark(ctx, instance.node, "deploy " + p.service + "=draining");
            });
        }
        ctx.sim.at(stop, [&ctx, &p, instance] {
            mark(ctx, instance.node, "deploy " + p.service + "=restarting");
            ctx.sim.crash(instance.node);
        });
        ctx.sim.at(back, [&ctx, &p, instance] {
            ctx.sim.start(instance.node);
            if (ctx.pools.pool(p.service) != nullptr) ctx.pools.add(p.service, instance);
            mark(ctx, instance.node, "deploy " + p.service + "=ready");
        });
        t = back + p.pause;
    }
}

void read_blue_green(object_reader& r, action_config& a, kind_reader& load) {
    auto p = std::make_shared<blue_green_params>();
    p->service = r.required<std::string>("service", {.non_empty = true});
    p->at = r.required<sim::duration>("at");
    p->drain = r.optional<sim::duration>("drain", p->drain);
    check_deploy_target(load, r, p->service, p->at, true);
    a.params = std::move(p);
}

void schedule_blue_green(const action_config& a, world_context& ctx) {
    const auto& p = static_cast<const blue_green_params&>(*a.params);
    const std::vector<sim::address>& fleet = ctx.instances_of(p.service);
    const std::size_t half = fleet.size() / 2;
    const std::vector<sim::address> blue(fleet.begin(), fleet.begin() + static_cast<std::ptrdiff_t>(half));
    const std::vector<sim::address> green(fleet.begin() + static_cast<std::ptrdiff_t>(half), fleet.end());
    ctx.pools.set(p.service, blue);  // green runs idle until the switch
    const sim::time_point switch_at = sim::time_zero + p.at;
    ctx.sim.at(switch_at, [&ctx, &p, green] {
        ctx.pools.set(p.service, green);
        for (const sim::address g : green) mark(ctx, g.node, "deploy " + p.service + "=live (green)");
    });
    for (const sim::address b : blue) {
        ctx.sim.at(switch_at, [&ctx, &p, b] { mark(ctx, b.node, "deploy " + p.service + "=draining (blue)"); });
        ctx.sim.at(switch_at + p.drain, [&ctx, &p, b] {
            mark(ctx, b.node, "deploy " + p.service + "=stopped (blue)");
            ctx.sim.crash(b.node);
        });
    }
}

}  // namespace

void check_pool_target(kind_reader& load, value_reader service_at, const std::string& service) {
    load.later([service, service_at](const scenario& sc) {
        const service_config* s = sc.find_service(service);
        if (s == nullptr) return;
        if (s->discovery)
            service_at.error("service " + quote(service) +
                             " is found through a registry (\"discovery\"), not through the mesh's pool that "
                             "deploys and autoscalers change; remove one of them");
        for (const workload_config& w : sc.workloads) {
            if (w.service == service) {
                service_at.error("service " + quote(service) + " is called by workload " + quote(w.name) +
                                 " directly, whose client keeps every configured instance; put a service in "
                                 "front of it");
                break;
            }
        }
    });
}

const std::vector<action_kind>& all_action_kinds() {
    static const std::vector<action_kind> kinds = {
        {"flag", "a feature flag rolled out by percentage over time; endpoints with a \"flag\" read it per request",
         "name, rollout: [{at, percent}]", read_flag, schedule_flag},
        {"rolling_restart",
         "restarts a service's instances one at a time: out of the mesh's pool, drained, restarted, back in",
         "service, at, drain, startup, pause", read_rolling_restart, schedule_rolling_restart},
        {"blue_green",
         "callers switch at once from the blue half of a service's instances to the green half; blue drains, "
         "then stops",
         "service, at, drain", read_blue_green, schedule_blue_green},
    };
    return kinds;
}

void read_actions(object_reader& root, scenario& s, kind_reader& load) {
    std::vector<std::string_view> names;
    for (const action_kind& k : all_action_kinds()) names.push_back(k.name);
    for (const value_reader& item : root.array("actions", {.max_items = max_actions})) {
        object_reader r = item.object();
        if (!r.valid()) continue;
        const value_reader kind_at = r.member("kind");
        std::optional<std::size_t> picked;
        if (kind_at.present()) {
            picked = kind_at.pick(names);
        } else {
            (void)r.required<std::string>("kind");
        }
        if (!picked) {
            (void)r.entries();  // one typo, one error: the kind's keys are not judged
            continue;
        }
        const action_kind& kind = all_action_kinds()[*picked];
        action_config a;
        a.kind = kind.name;
        kind.read(r, a, load);
        r.finish();
        s.actions.push_back(std::move(a));
    }
}

void read_flag_variant(object_reader& r, endpoint_config& e, kind_reader& load) {
    auto o = r.maybe_object("flag");
    if (!o) return;
    flag_variant v;
    v.flag = o->required<std::string>("name", {.non_empty = true});
    const value_reader name_at = o->member("name");
    v.error_rate = o->maybe<double>("error_rate", {.min = 0, .max = 1});
    v.error_status = o->optional<std::uint16_t>("error_status", v.error_status, {.min = 400, .max = 599});
    const value_reader extra = o->member("extra_time");
    if (extra.present()) v.extra_time = load.read_distribution(extra);
    if (o->valid() && !o->member("error_rate").present() && !extra.present())
        o->error("a flag's variant must change something: give it \"error_rate\" or \"extra_time\"");
    o->finish();
    if (!v.flag.empty()) {
        load.later([name = v.flag, name_at](const scenario& sc) {
            std::vector<std::string> flags;
            for (const action_config& a : sc.actions) {
                if (const flag_params* f = flag_of(a)) flags.push_back(f->name);
            }
            if (std::find(flags.begin(), flags.end(), name) != flags.end()) return;
            std::string message = "no flag named " + quote(name) +
                                  " (define it in \"actions\": {\"kind\": \"flag\", "
                                  "\"name\": " +
                                  quote(name) + ", \"rollout\": [...]})";
            if (auto suggestion = did_you_mean(name, flags))
                message = "no flag named " + quote(name) + " (did you mean " + quote(*suggestion) + "?)";
            name_at.error(message);
        });
    }
    e.flag = std::move(v);
}

void schedule_actions(world_context& ctx) {
    for (const action_config& a : ctx.config.actions) {
        for (const action_kind& k : all_action_kinds()) {
            if (k.name == a.kind) k.schedule(a, ctx);
        }
    }
}

double flag_percent(const scenario& s, std::string_view flag, sim::time_point now) {
    for (const action_config& a : s.actions) {
        const flag_params* f = flag_of(a);
        if (f == nullptr || f->name != flag) continue;
        double percent = 0;
        for (const rollout_step& step : f->rollout) {
            if (sim::time_zero + step.at <= now) percent = step.percent;
        }
        return percent;
    }
    return 0;
}

std::optional<std::uint16_t> serve_flagged(sim::runtime& rt, const scenario& s, const endpoint_config& e) {
    const flag_variant& v = *e.flag;
    const double percent = flag_percent(s, v.flag, rt.now());
    const bool on = percent >= 100 || (percent > 0 && rt.random("flag/" + v.flag).bernoulli(percent / 100));
    if (on && v.extra_time) rt.compute(v.extra_time->sample(rt.random("flag-time" + e.path)));
    const bool variant_errors = on && v.error_rate.has_value();
    const double rate = variant_errors ? *v.error_rate : e.error_rate;
    if (rate > 0 && rt.random((variant_errors ? "flag-errors" : "errors") + e.path).bernoulli(rate))
        return variant_errors ? v.error_status : e.error_status;
    return std::nullopt;
}

}  // namespace meshsim::harness
