// SLO checkers: error rate and a latency quantile per service/endpoint or
// workload, over every sliding window after the warmup; and the blast radius,
// the services whose error rate broke a bound in some window.
#include <algorithm>
#include <cstdio>

#include "harness/checkers/reading.hpp"
#include "harness/checkers/windows.hpp"

namespace meshsim::harness {

using namespace detail;

namespace {

// The bounds both checkers judge windows by.
struct window_bounds {
    sim::duration window = sim::seconds(10);
    std::optional<double> error_rate_max;
    std::optional<double> latency_quantile;
    std::optional<sim::duration> latency_max;
};

struct slo_parameters final : checker_parameters {
    request_subject subject;  // exactly one of service (+ endpoint) and workload
    window_bounds bounds;
};

struct blast_radius_parameters final : checker_parameters {
    window_bounds bounds;  // error rate only
    std::uint32_t max_services = 0;
};

// The first window breaking the bound, and the worst value over all windows.
struct verdict {
    bool failed = false;
    sim::time_point first_failed;
    double worst_error_rate = 0;
    sim::duration worst_latency{0};
};

verdict judge_windows(const std::vector<window_totals>& windows, const window_bounds& e) {
    verdict v;
    for (const window_totals& w : windows) {
        const double rate = w.error_rate();
        const sim::duration latency = e.latency_quantile ? w.latency.quantile(*e.latency_quantile) : sim::duration{0};
        v.worst_error_rate = std::max(v.worst_error_rate, rate);
        v.worst_latency = std::max(v.worst_latency, latency);
        const bool broke =
            (e.error_rate_max && rate > *e.error_rate_max) || (e.latency_max && latency > *e.latency_max);
        if (broke && !v.failed) {
            v.failed = true;
            v.first_failed = w.end;
        }
    }
    return v;
}

std::string quantile_name(double q) {
    char text[32];
    std::snprintf(text, sizeof text, "p%g", q * 100);
    return text;
}

std::shared_ptr<const checker_parameters> read_slo(object_reader& r, expectation_names& names) {
    auto p = std::make_shared<slo_parameters>();
    p->subject.service = read_service(r, names, false);
    p->subject.workload = read_workload(r, names);
    if (r.valid() && p->subject.service.empty() == p->subject.workload.empty()) {
        r.error("an slo names exactly one of \"service\" and \"workload\"");
    }
    p->subject.endpoint = r.optional<std::string>("endpoint", "", {.non_empty = true});
    if (!p->subject.endpoint.empty() && !p->subject.service.empty()) {
        names.endpoint(r.member("endpoint"), p->subject.service, p->subject.endpoint);
    }
    window_bounds& b = p->bounds;
    b.window = r.optional<sim::duration>("window", b.window, {.min = sim::nanoseconds(1)});
    b.error_rate_max = r.maybe<double>("error_rate_max", {.min = 0, .max = 1});
    if (auto l = r.maybe_object("latency")) {
        b.latency_quantile = l->required<double>("quantile", {.min = 0, .min_exclusive = true, .max = 1});
        b.latency_max = l->required<sim::duration>("max", {.min = sim::nanoseconds(1)});
        l->finish();
    }
    if (r.valid() && !b.error_rate_max && !r.has("latency")) {
        r.error("an slo needs \"error_rate_max\", \"latency\" or both");
    }
    return p;
}

void slo_observes(const expectation_config& e, const expectation_scope& scope) {
    const request_subject& s = parameters_of<slo_parameters>(e).subject;
    if (s.service.empty()) scope.needs_workload_requests(s.workload);
    scope.needs_requests_at(s.service, s.endpoint);
}

check_result check_slo(const expectation_config& e, const run_view& run) {
    const slo_parameters& p = parameters_of<slo_parameters>(e);
    const request_subject& s = p.subject;
    const window_bounds& b = p.bounds;
    const auto flows =
        s.workload.empty() ? service_flows(run.obs, s.service, s.endpoint) : workload_flows(run.obs, s.workload);
    const std::size_t first = first_bucket_after(run.obs, run.config.warmup);
    const auto windows = sliding_windows(run.obs, flows, b.window, first);
    const verdict v = judge_windows(windows, b);
    check_result r;
    r.check = "slo";
    r.label = e.label.empty() ? "slo " + subject_of(s) : e.label;
    std::string expected, measured;
    if (b.error_rate_max) {
        expected = "error rate <= " + percent(*b.error_rate_max);
        measured = "worst error rate " + percent(v.worst_error_rate);
    }
    if (b.latency_quantile) {
        const std::string q = quantile_name(*b.latency_quantile);
        expected += (expected.empty() ? "" : " and ") + q + " <= " + sim::format_duration_hms(*b.latency_max);
        measured += (measured.empty() ? "" : ", ") + std::string("worst ") + q + " " + format_latency(v.worst_latency);
    }
    r.expected = expected + " in every " + sim::format_duration_hms(b.window) + " window";
    r.measured = measured;
    r.passed = !v.failed;
    if (v.failed) r.first_failed = v.first_failed;
    const std::size_t empty = static_cast<std::size_t>(
        std::count_if(windows.begin(), windows.end(), [](const window_totals& w) { return w.completed() == 0; }));
    if (empty > 0)
        r.measured +=
            " (" + std::to_string(empty) + " of " + std::to_string(windows.size()) + " windows had no requests)";
    if (answered_from(flows, first) == 0) {
        judge_empty(r, e, "no request of " + any_subject_of(s) + " was answered after the warmup");
    }
    return r;
}

std::shared_ptr<const checker_parameters> read_blast_radius(object_reader& r, expectation_names&) {
    auto p = std::make_shared<blast_radius_parameters>();
    p->bounds.window = r.optional<sim::duration>("window", p->bounds.window, {.min = sim::nanoseconds(1)});
    p->bounds.error_rate_max = read_ratio(r, "error_rate_max");
    p->max_services = r.required<std::uint32_t>("max_services");
    return p;
}

check_result check_blast_radius(const expectation_config& e, const run_view& run) {
    const blast_radius_parameters& p = parameters_of<blast_radius_parameters>(e);
    std::vector<std::pair<sim::time_point, std::string>> broken;
    const std::size_t first = first_bucket_after(run.obs, run.config.warmup);
    std::uint64_t answered = 0;
    for (const std::string& service : run.obs.service_names()) {
        const auto flows = service_flows(run.obs, service);
        answered += answered_from(flows, first);
        const auto windows = sliding_windows(run.obs, flows, p.bounds.window, first);
        const verdict v = judge_windows(windows, p.bounds);
        if (v.failed) broken.emplace_back(v.first_failed, service);
    }
    std::sort(broken.begin(), broken.end());
    check_result r;
    r.check = "blast_radius";
    r.label = e.label.empty() ? "blast radius" : e.label;
    r.expected = "at most " + std::to_string(p.max_services) + " service(s) with error rate above " +
                 percent(*p.bounds.error_rate_max) + " in a " + sim::format_duration_hms(p.bounds.window) + " window";
    r.measured = std::to_string(broken.size()) + " service(s)";
    for (std::size_t i = 0; i < broken.size(); ++i) r.measured += (i == 0 ? ": " : ", ") + broken[i].second;
    r.passed = broken.size() <= p.max_services;
    if (!r.passed) r.first_failed = broken[p.max_services].first;
    if (answered == 0) judge_empty(r, e, "no service answered a request after the warmup");
    return r;
}

}  // namespace

checker_info slo_checker() {
    return {"slo", "error rate and/or latency quantile bound per service, endpoint or workload in every sliding window",
            read_slo, slo_observes, check_slo};
}

checker_info blast_radius_checker() {
    return {"blast_radius", "number of services whose error rate broke a bound in some window, at most a count",
            read_blast_radius, [](const expectation_config&, const expectation_scope&) {}, check_blast_radius};
}

}  // namespace meshsim::harness
