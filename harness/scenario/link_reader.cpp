#include "harness/scenario/link_reader.hpp"

#include <algorithm>

namespace meshsim::harness {

using sim::duration;

namespace {

// True when key holds one of names: reads that depend on a choice are skipped
// (and their keys allowed) when it is wrong, so one typo gives one error.
bool chose(object_reader& r, std::string_view key, std::initializer_list<std::string_view> names) {
    const value_reader v = r.member(key);
    if (!v.is_string()) return false;
    const auto& text = v.json()->get_ref<const std::string&>();
    return std::find(names.begin(), names.end(), text) != names.end();
}

}  // namespace

sim::duration_distribution read_distribution(const value_reader& v) {
    if (v.is_string()) return sim::duration_distribution::constant(v.as<duration>());
    object_reader r = v.object();
    using shape = sim::duration_distribution::shape;
    const shape kind = r.choice<shape>("dist", {{"constant", shape::constant},
                                                {"uniform", shape::uniform},
                                                {"normal", shape::normal},
                                                {"lognormal", shape::lognormal},
                                                {"exponential", shape::exponential},
                                                {"pareto", shape::pareto}});
    sim::duration_distribution d;
    d.kind = kind;
    if (!r.valid()) return d;
    if (!chose(r, "dist", {"constant", "uniform", "normal", "lognormal", "exponential", "pareto"})) {
        r.allow({"value", "min", "max", "mean", "stddev", "median", "sigma", "scale", "alpha"});
        r.finish();
        return d;
    }
    switch (kind) {
        case shape::constant: d.value = r.required<duration>("value"); break;
        case shape::uniform:
            d.value = r.required<duration>("min");
            d.max = r.required<duration>("max");
            if (d.max < d.value) r.error("max", "max must not be less than min");
            break;
        case shape::normal:
            d.value = r.required<duration>("mean");
            d.stddev = r.required<duration>("stddev");
            break;
        case shape::lognormal:
            d.value = r.required<duration>("median", {.min = sim::nanoseconds(1)});
            d.shape_param = r.required<double>("sigma", {.min = 0, .max = 10});
            break;
        case shape::exponential: d.value = r.required<duration>("mean", {.min = sim::nanoseconds(1)}); break;
        case shape::pareto:
            d.value = r.required<duration>("scale", {.min = sim::nanoseconds(1)});
            d.shape_param = r.required<double>("alpha", {.min = 0, .min_exclusive = true, .max = 100});
            break;
    }
    r.finish();
    return d;
}

sim::kernel::link_config read_link(object_reader& r, sim::kernel::link_config l) {
    if (const value_reader v = r.member("latency"); v.present()) l.latency = read_distribution(v);
    l.jitter = r.optional<duration>("jitter", l.jitter);
    l.delay_correlation = r.optional<double>("delay_correlation", l.delay_correlation, {.min = 0, .max = 1});
    l.loss = r.optional<double>("loss", l.loss, {.min = 0, .max = 1});
    l.loss_correlation = r.optional<double>("loss_correlation", l.loss_correlation, {.min = 0, .max = 1});
    l.duplicate = r.optional<double>("duplicate", l.duplicate, {.min = 0, .max = 1});
    l.reorder = r.optional<double>("reorder", l.reorder, {.min = 0, .max = 1});
    l.corrupt = r.optional<double>("corrupt", l.corrupt, {.min = 0, .max = 1});
    l.bandwidth_bytes_per_s = r.optional<std::uint64_t>("bandwidth_bytes_per_s", l.bandwidth_bytes_per_s);
    l.queue_capacity_bytes = r.optional<std::uint64_t>("queue_capacity_bytes", l.queue_capacity_bytes, {.min = 1});
    return l;
}

nlohmann::json write_distribution(const sim::duration_distribution& d) {
    using shape = sim::duration_distribution::shape;
    const auto text = [](duration v) { return sim::format_duration(v); };
    switch (d.kind) {
        case shape::constant: return text(d.value);
        case shape::uniform: return {{"dist", "uniform"}, {"min", text(d.value)}, {"max", text(d.max)}};
        case shape::normal: return {{"dist", "normal"}, {"mean", text(d.value)}, {"stddev", text(d.stddev)}};
        case shape::lognormal: return {{"dist", "lognormal"}, {"median", text(d.value)}, {"sigma", d.shape_param}};
        case shape::exponential: return {{"dist", "exponential"}, {"mean", text(d.value)}};
        case shape::pareto: return {{"dist", "pareto"}, {"scale", text(d.value)}, {"alpha", d.shape_param}};
    }
    return text(d.value);
}

void write_link(nlohmann::json& entry, const sim::kernel::link_config& l, const sim::kernel::link_config& base) {
    const nlohmann::json latency = write_distribution(l.latency);
    if (latency != write_distribution(base.latency)) entry["latency"] = latency;
    if (l.jitter != base.jitter) entry["jitter"] = sim::format_duration(l.jitter);
    const auto number = [&](const char* key, auto value, auto base_value) {
        if (value != base_value) entry[key] = value;
    };
    number("delay_correlation", l.delay_correlation, base.delay_correlation);
    number("loss", l.loss, base.loss);
    number("loss_correlation", l.loss_correlation, base.loss_correlation);
    number("duplicate", l.duplicate, base.duplicate);
    number("reorder", l.reorder, base.reorder);
    number("corrupt", l.corrupt, base.corrupt);
    number("bandwidth_bytes_per_s", l.bandwidth_bytes_per_s, base.bandwidth_bytes_per_s);
    number("queue_capacity_bytes", l.queue_capacity_bytes, base.queue_capacity_bytes);
}

}  // namespace meshsim::harness
