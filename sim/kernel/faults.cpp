#include "sim/kernel/faults.hpp"

#include <cmath>
#include <map>
#include <set>
#include <type_traits>
#include <utility>

#include "sim/kernel/simulation.hpp"

namespace meshsim::sim::kernel {

std::string_view to_string(partition_shape s) {
    switch (s) {
        case partition_shape::groups: return "groups";
        case partition_shape::one_way: return "one_way";
        case partition_shape::halves: return "halves";
        case partition_shape::random_halves: return "random_halves";
        case partition_shape::isolate: return "isolate";
        case partition_shape::majorities_ring: return "majorities_ring";
        case partition_shape::bridge: return "bridge";
    }
    return "unknown";
}

namespace {

template <class... Kinds>
constexpr std::array<std::string_view, sizeof...(Kinds)> names_of(const std::variant<Kinds...>*) {
    return {Kinds::name...};
}
constexpr auto fault_kind_names = names_of(static_cast<const fault_params*>(nullptr));

template <std::size_t... I>
constexpr std::array<fault_kind, sizeof...(I)> kinds_of(std::index_sequence<I...>) {
    return {static_cast<fault_kind>(I)...};
}

static_assert(std::variant_size_v<fault_params> == static_cast<std::size_t>(fault_kind::delay) + 1,
              "fault_kind lists every fault_params alternative");
static_assert(
    std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(fault_kind::slow), fault_params>, slow_fault>);
static_assert(
    std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(fault_kind::abort), fault_params>, abort_fault>);

}  // namespace

const std::array<fault_kind, fault_kind_count>& all_fault_kinds() {
    static constexpr auto kinds = kinds_of(std::make_index_sequence<fault_kind_count>{});
    return kinds;
}

std::string_view to_string(fault_kind k) {
    const auto i = static_cast<std::size_t>(k);
    return i < fault_kind_names.size() ? fault_kind_names[i] : "unknown";
}

service_fault_rule abort_fault::rule() const {
    service_fault_rule r;
    r.port = port;
    r.path = path;
    r.abort_probability = probability;
    r.abort_status = status;
    return r;
}

service_fault_rule delay_fault::rule() const {
    service_fault_rule r;
    r.port = port;
    r.path = path;
    r.delay_probability = probability;
    r.delay = delay;
    return r;
}

// ---------------------------------------------------------------- validation

namespace {

struct checker {
    const simulation& sim;
    std::vector<std::string>& errors;

    void fail(const std::string& where, const std::string& what) { errors.push_back(where + ": " + what); }

    void node(const std::string& where, const std::string& name, bool allow_any = true) {
        if (name.empty()) {
            fail(where, "missing node name");
        } else if (name == any_node) {
            if (!allow_any) fail(where, "'*' (a random node) is not allowed here");
            if (sim.node_count() == 0) fail(where, "'*' needs at least one node");
        } else if (sim.find_node(name) == no_node) {
            fail(where, "unknown node '" + name + "'");
        }
    }

    void nodes(const std::string& where, const std::vector<std::string>& names, std::set<std::string>& seen) {
        for (std::size_t i = 0; i < names.size(); ++i) {
            const std::string at = where + "[" + std::to_string(i) + "]";
            node(at, names[i], false);
            if (!names[i].empty() && !seen.insert(names[i]).second) fail(at, "node '" + names[i] + "' named twice");
        }
    }

    void operator()(const link_fault& f, const std::string& where) {
        for (const std::string& e : f.config.validate(where + ".config")) errors.push_back(e);
        std::set<std::string> seen_from;
        std::set<std::string> seen_to;
        nodes(where + ".from", f.from, seen_from);
        nodes(where + ".to", f.to, seen_to);
    }

    void operator()(const partition_fault& f, const std::string& where) {
        const std::size_t n = sim.node_count();
        auto need_nodes = [&](std::size_t min) {
            if (n < min)
                fail(where + ".shape", std::string(to_string(f.shape)) + " needs at least " + std::to_string(min) +
                                           " nodes, the simulation has " + std::to_string(n));
        };
        switch (f.shape) {
            case partition_shape::groups: {
                if (f.groups.empty()) fail(where + ".groups", "no groups given");
                std::set<std::string> seen;
                for (std::size_t g = 0; g < f.groups.size(); ++g) {
                    const std::string at = where + ".groups[" + std::to_string(g) + "]";
                    if (f.groups[g].empty()) fail(at, "empty partition group");
                    nodes(at, f.groups[g], seen);
                }
                break;
            }
            case partition_shape::one_way: {
                if (f.from.empty()) fail(where + ".from", "empty: a one-way cut needs senders");
                if (f.to.empty()) fail(where + ".to", "empty: a one-way cut needs receivers");
                std::set<std::string> seen_from;
                std::set<std::string> seen_to;
                nodes(where + ".from", f.from, seen_from);
                nodes(where + ".to", f.to, seen_to);
                for (const std::string& name : f.from) {
                    if (seen_to.count(name) != 0) fail(where + ".to", "node '" + name + "' is in both from and to");
                }
                break;
            }
            case partition_shape::isolate:
                node(where + ".node", f.node);
                need_nodes(2);
                break;
            case partition_shape::halves:
            case partition_shape::random_halves: need_nodes(2); break;
            case partition_shape::majorities_ring:
            case partition_shape::bridge: need_nodes(3); break;
        }
    }

    void operator()(const crash_fault& f, const std::string& where) { node(where + ".node", f.node); }
    void operator()(const pause_fault& f, const std::string& where) { node(where + ".node", f.node); }

    void operator()(const clock_fault& f, const std::string& where) {
        node(where + ".node", f.node);
        if (!std::isfinite(f.drift_ppm) || f.drift_ppm <= -1e6) {
            fail(where + ".drift_ppm",
                 "must be finite and > -1000000 (a clock cannot run backwards), got " + std::to_string(f.drift_ppm));
        }
    }

    void operator()(const slow_fault& f, const std::string& where) {
        node(where + ".node", f.node);
        if (!std::isfinite(f.factor) || f.factor <= 0) {
            fail(where + ".factor", "must be finite and > 0, got " + std::to_string(f.factor));
        }
    }

    void probability(const std::string& where, double p) {
        if (!(p > 0 && p <= 1)) fail(where + ".probability", "must be in (0, 1], got " + std::to_string(p));
    }

    void operator()(const abort_fault& f, const std::string& where) {
        node(where + ".node", f.node);
        probability(where, f.probability);
        if (f.status < 100 || f.status > 599) {
            fail(where + ".status", "must be an HTTP status in [100, 599], got " + std::to_string(f.status));
        }
    }

    void operator()(const delay_fault& f, const std::string& where) {
        node(where + ".node", f.node);
        probability(where, f.probability);
        if (f.delay.count() < 0) fail(where + ".delay", "must not be negative, got " + format_duration(f.delay));
    }
};

std::string dur(duration d) { return format_duration(d); }

}  // namespace

std::vector<std::string> fault_spec::validate(const simulation& sim, const std::string& where) const {
    std::vector<std::string> errors;
    checker check{sim, errors};
    if (at < time_zero) check.fail(where + ".at", "must not be negative");
    if (length.count() < 0) check.fail(where + ".length", "must not be negative, got " + dur(length));
    if (repeat_every.count() < 0) check.fail(where + ".repeat_every", "must not be negative, got " + dur(repeat_every));
    if (repeat_every.count() > 0 && (length.count() <= 0 || length >= repeat_every)) {
        check.fail(where + ".repeat_every", "a repeating fault needs 0 < length < repeat_every (length " + dur(length) +
                                                ", repeat_every " + dur(repeat_every) + ")");
    }
    const std::string params = where + "." + std::string(to_string(kind()));
    std::visit([&](const auto& f) { check(f, params); }, what);
    return errors;
}

// ---------------------------------------------------------------- JSON

nlohmann::json to_json(const link_config& l) {
    nlohmann::json latency = {{"shape", to_string(l.latency.kind)}, {"value", dur(l.latency.value)}};
    if (l.latency.kind == duration_distribution::shape::uniform) latency["max"] = dur(l.latency.max);
    if (l.latency.kind == duration_distribution::shape::normal) latency["stddev"] = dur(l.latency.stddev);
    if (l.latency.kind == duration_distribution::shape::lognormal ||
        l.latency.kind == duration_distribution::shape::pareto) {
        latency["shape_param"] = l.latency.shape_param;
    }
    return {{"latency", latency},
            {"jitter", dur(l.jitter)},
            {"delay_correlation", l.delay_correlation},
            {"loss", l.loss},
            {"loss_correlation", l.loss_correlation},
            {"duplicate", l.duplicate},
            {"reorder", l.reorder},
            {"corrupt", l.corrupt},
            {"bandwidth_bytes_per_s", l.bandwidth_bytes_per_s},
            {"queue_capacity_bytes", l.queue_capacity_bytes}};
}

namespace {
struct json_of {
    nlohmann::json operator()(const link_fault& f) const {
        return {{"from", f.from}, {"to", f.to}, {"config", to_json(f.config)}};
    }
    nlohmann::json operator()(const partition_fault& f) const {
        nlohmann::json j = {{"shape", to_string(f.shape)}, {"mode", to_string(f.mode)}};
        if (f.shape == partition_shape::groups) j["groups"] = f.groups;
        if (f.shape == partition_shape::one_way) {
            j["from"] = f.from;
            j["to"] = f.to;
        }
        if (f.shape == partition_shape::isolate) j["node"] = f.node;
        return j;
    }
    nlohmann::json operator()(const crash_fault& f) const {
        return {{"node", f.node}, {"restart_at_end", f.restart_at_end}};
    }
    nlohmann::json operator()(const pause_fault& f) const { return {{"node", f.node}}; }
    nlohmann::json operator()(const clock_fault& f) const {
        return {{"node", f.node}, {"offset", dur(f.offset)}, {"drift_ppm", f.drift_ppm}};
    }
    nlohmann::json operator()(const slow_fault& f) const { return {{"node", f.node}, {"factor", f.factor}}; }
    nlohmann::json operator()(const abort_fault& f) const {
        return {
            {"node", f.node}, {"port", f.port}, {"path", f.path}, {"probability", f.probability}, {"status", f.status}};
    }
    nlohmann::json operator()(const delay_fault& f) const {
        return {{"node", f.node},
                {"port", f.port},
                {"path", f.path},
                {"probability", f.probability},
                {"delay", dur(f.delay)}};
    }
};
}  // namespace

nlohmann::json fault_spec::to_json() const {
    nlohmann::json j = {{"kind", to_string(kind())}, {"at", format_time(at)}, {"params", std::visit(json_of{}, what)}};
    if (!name.empty()) j["name"] = name;
    if (length.count() > 0) j["length"] = dur(length);
    if (repeat_every.count() > 0) {
        j["repeat_every"] = dur(repeat_every);
        if (repeat_until != time_never) j["repeat_until"] = format_time(repeat_until);
    }
    return j;
}

// ---------------------------------------------------------------- injector

struct fault_injector::state {
    struct active_fault {
        fault_kind kind;
        node_id node = no_node;
        std::uint64_t handle = 0;  // overlay, cut or service rule id
        bool restart = false;
        time_point started;
        duration prev_offset{0};
        double prev_drift_ppm = 0;
        double prev_slowness = 1;
        std::string detail;
    };

    explicit state(simulation& s) : sim(s) {}

    simulation& sim;
    std::map<std::uint64_t, active_fault> active;
    std::uint64_t next_id = 1;
    std::uint64_t started = 0;
    std::uint64_t ended = 0;

    random_stream& rng() { return sim.random("faults"); }

    node_id resolve(const std::string& name) {
        if (name == any_node) return static_cast<node_id>(rng().below(sim.node_count()));
        return sim.find_node(name);
    }
    std::vector<node_id> resolve(const std::vector<std::string>& names) {
        std::vector<node_id> ids;
        ids.reserve(names.size());
        for (const std::string& name : names) ids.push_back(resolve(name));
        return ids;
    }

    cut_matrix build_cut(const partition_fault& f, active_fault& a) {
        const auto n = static_cast<std::uint32_t>(sim.node_count());
        switch (f.shape) {
            case partition_shape::groups: {
                std::vector<std::vector<node_id>> groups;
                for (const auto& g : f.groups) groups.push_back(resolve(g));
                return cut_matrix::groups(n, groups);
            }
            case partition_shape::one_way: return cut_matrix::one_way(n, resolve(f.from), resolve(f.to));
            case partition_shape::halves: return cut_matrix::halves(n);
            case partition_shape::random_halves: return cut_matrix::random_halves(n, rng());
            case partition_shape::isolate: a.node = resolve(f.node); return cut_matrix::isolate(n, a.node);
            case partition_shape::majorities_ring: return cut_matrix::majorities_ring(n, rng());
            case partition_shape::bridge: return cut_matrix::bridge(n);
        }
        return cut_matrix(n);
    }

    std::uint64_t start(const fault_spec& spec, std::uint64_t occurrence) {
        const std::uint64_t id = next_id++;
        active_fault a{spec.kind(), no_node, 0, false, sim.now(), {}, 0, 1, {}};
        nlohmann::json detail = spec.to_json();
        detail["id"] = id;
        detail["occurrence"] = occurrence;
        std::visit([&](const auto& f) { apply(f, a, detail); }, spec.what);
        if (a.node != no_node) detail["target"] = sim.get_node(a.node).node_name();
        a.detail = detail.dump();
        sim.trace().record(sim.now(), event_kind::fault_start, a.node, id, static_cast<std::uint64_t>(a.kind),
                           a.detail);
        active.emplace(id, std::move(a));
        ++started;
        return id;
    }

    void apply(const link_fault& f, active_fault& a, nlohmann::json&) {
        a.handle = sim.net().add_link_overlay(resolve(f.from), resolve(f.to), f.config);
    }
    void apply(const partition_fault& f, active_fault& a, nlohmann::json& detail) {
        cut_matrix cut = build_cut(f, a);
        detail["blocked_pairs"] = cut.blocked_pairs();
        a.handle = sim.net().add_cut(std::move(cut), f.mode);
    }
    void apply(const crash_fault& f, active_fault& a, nlohmann::json&) {
        a.node = resolve(f.node);
        a.restart = f.restart_at_end;
        sim.crash(a.node);
    }
    void apply(const pause_fault& f, active_fault& a, nlohmann::json&) {
        a.node = resolve(f.node);
        sim.pause(a.node);
    }
    void apply(const clock_fault& f, active_fault& a, nlohmann::json&) {
        a.node = resolve(f.node);
        node& n = sim.get_node(a.node);
        a.prev_offset = n.to_local(sim.now()) - sim.now();
        a.prev_drift_ppm = n.clock_drift_ppm();
        n.set_clock_drift_ppm(f.drift_ppm);  // folds the clock's reading so far into its offset
        n.set_clock_offset(saturating_add(n.clock_offset(), f.offset));
    }
    void apply(const slow_fault& f, active_fault& a, nlohmann::json&) {
        a.node = resolve(f.node);
        node& n = sim.get_node(a.node);
        a.prev_slowness = n.slowness();
        n.set_slowness(f.factor);
    }
    void apply(const abort_fault& f, active_fault& a, nlohmann::json&) {
        a.node = resolve(f.node);
        a.handle = sim.get_node(a.node).service_faults().add(f.rule());
    }
    void apply(const delay_fault& f, active_fault& a, nlohmann::json&) {
        a.node = resolve(f.node);
        a.handle = sim.get_node(a.node).service_faults().add(f.rule());
    }

    void end(std::uint64_t id) {
        auto it = active.find(id);
        if (it == active.end()) return;
        const active_fault& a = it->second;
        switch (a.kind) {
            case fault_kind::link: sim.net().remove_link_overlay(a.handle); break;
            case fault_kind::partition: sim.net().heal(a.handle); break;
            case fault_kind::crash:
                if (a.restart) sim.restart(a.node);
                break;
            case fault_kind::pause: sim.resume(a.node); break;
            case fault_kind::clock: {
                // Back to the clock the node would read had the fault never happened.
                node& n = sim.get_node(a.node);
                const long double elapsed = static_cast<long double>((sim.now() - a.started).count());
                const auto drift =
                    duration{static_cast<std::int64_t>(std::llround(elapsed * a.prev_drift_ppm * 1e-6L))};
                n.set_clock_drift_ppm(a.prev_drift_ppm);
                n.set_clock_offset(saturating_add(a.prev_offset, drift));
                break;
            }
            case fault_kind::slow: sim.get_node(a.node).set_slowness(a.prev_slowness); break;
            case fault_kind::abort:
            case fault_kind::delay: sim.get_node(a.node).service_faults().remove(a.handle); break;
        }
        sim.trace().record(sim.now(), event_kind::fault_end, a.node, id, static_cast<std::uint64_t>(a.kind), a.detail);
        active.erase(it);
        ++ended;
    }
};

fault_injector::fault_injector(simulation& sim) : state_(std::make_shared<state>(sim)) {}
fault_injector::~fault_injector() = default;

std::vector<std::string> fault_injector::schedule(const std::vector<fault_spec>& specs) {
    std::vector<std::string> errors;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        for (std::string& e : specs[i].validate(state_->sim, "faults[" + std::to_string(i) + "]")) {
            errors.push_back(std::move(e));
        }
    }
    if (!errors.empty()) return errors;
    for (const fault_spec& spec : specs)
        schedule_occurrence(state_, std::make_shared<const fault_spec>(spec), spec.at, 0);
    return errors;
}

void fault_injector::schedule_occurrence(const std::shared_ptr<state>& st, std::shared_ptr<const fault_spec> spec,
                                         time_point t, std::uint64_t occurrence) {
    st->sim.at(t, [st, spec, t, occurrence] {
        const std::uint64_t id = st->start(*spec, occurrence);
        // A length or period at the top of the range means "never": the fault lasts (or
        // does not repeat) until the run ends, rather than wrapping to a past time.
        const time_point ends = saturating_add(t, spec->length);
        if (spec->length.count() > 0 && ends != time_never) st->sim.at(ends, [st, id] { st->end(id); });
        const time_point next = saturating_add(t, spec->repeat_every);
        if (spec->repeat_every.count() > 0 && next != time_never && next <= spec->repeat_until) {
            schedule_occurrence(st, spec, next, occurrence + 1);
        }
    });
}

std::uint64_t fault_injector::start_now(const fault_spec& spec, std::vector<std::string>* errors) {
    std::vector<std::string> found = spec.validate(state_->sim);
    if (!found.empty()) {
        if (errors != nullptr) *errors = std::move(found);
        return 0;
    }
    return state_->start(spec, 0);
}

void fault_injector::stop(std::uint64_t fault_id) { state_->end(fault_id); }
std::size_t fault_injector::active() const { return state_->active.size(); }
std::uint64_t fault_injector::started() const { return state_->started; }
std::uint64_t fault_injector::ended() const { return state_->ended; }

}  // namespace meshsim::sim::kernel
