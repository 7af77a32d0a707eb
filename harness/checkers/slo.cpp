// SLO checkers: error rate and a latency quantile per service/endpoint or
// workload, over every sliding window after the warmup; and the blast radius,
// the services whose error rate broke a bound in some window.
#include "harness/checkers/slos.hpp"

#include <algorithm>
#include <cstdio>

#include "harness/checkers/windows.hpp"

namespace meshsim::harness::detail {

namespace {

// The first window breaking the bound, and the worst value over all windows.
struct verdict {
    bool failed = false;
    sim::time_point first_failed;
    double worst_error_rate = 0;
    sim::duration worst_latency{0};
};

verdict judge_windows(const std::vector<window_totals>& windows, const expectation_config& e) {
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

}  // namespace

check_result check_slo(const expectation_config& e, const run_view& run) {
    const auto flows =
        e.workload.empty() ? service_flows(run.obs, e.service, e.endpoint) : workload_flows(run.obs, e.workload);
    const std::size_t first = first_bucket_after(run.obs, run.config.warmup);
    const auto windows = sliding_windows(run.obs, flows, e.window, first);
    const verdict v = judge_windows(windows, e);
    check_result r;
    r.check = "slo";
    r.label = e.label.empty() ? "slo " + subject_of(e) : e.label;
    std::string expected, measured;
    if (e.error_rate_max) {
        expected = "error rate <= " + percent(*e.error_rate_max);
        measured = "worst error rate " + percent(v.worst_error_rate);
    }
    if (e.latency_quantile) {
        const std::string q = quantile_name(*e.latency_quantile);
        expected += (expected.empty() ? "" : " and ") + q + " <= " + sim::format_duration_hms(*e.latency_max);
        measured += (measured.empty() ? "" : ", ") + std::string("worst ") + q + " " + format_latency(v.worst_latency);
    }
    r.expected = expected + " in every " + sim::format_duration_hms(e.window) + " window";
    r.measured = measured;
    r.passed = !v.failed;
    if (v.failed) r.first_failed = v.first_failed;
    const std::size_t empty = static_cast<std::size_t>(
        std::count_if(windows.begin(), windows.end(), [](const window_totals& w) { return w.completed() == 0; }));
    if (empty > 0)
        r.measured +=
            " (" + std::to_string(empty) + " of " + std::to_string(windows.size()) + " windows had no requests)";
    if (answered_from(flows, first) == 0) {
        judge_empty(r, e, "no request of " + any_subject_of(e) + " was answered after the warmup");
    }
    return r;
}

check_result check_blast_radius(const expectation_config& e, const run_view& run) {
    expectation_config bound = e;
    bound.latency_quantile.reset();
    bound.latency_max.reset();
    std::vector<std::pair<sim::time_point, std::string>> broken;
    const std::size_t first = first_bucket_after(run.obs, run.config.warmup);
    std::uint64_t answered = 0;
    for (const std::string& service : run.obs.service_names()) {
        const auto flows = service_flows(run.obs, service);
        answered += answered_from(flows, first);
        const auto windows = sliding_windows(run.obs, flows, e.window, first);
        const verdict v = judge_windows(windows, bound);
        if (v.failed) broken.emplace_back(v.first_failed, service);
    }
    std::sort(broken.begin(), broken.end());
    check_result r;
    r.check = "blast_radius";
    r.label = e.label.empty() ? "blast radius" : e.label;
    r.expected = "at most " + std::to_string(*e.max_services) + " service(s) with error rate above " +
                 percent(*e.error_rate_max) + " in a " + sim::format_duration_hms(e.window) + " window";
    r.measured = std::to_string(broken.size()) + " service(s)";
    for (std::size_t i = 0; i < broken.size(); ++i) r.measured += (i == 0 ? ": " : ", ") + broken[i].second;
    r.passed = broken.size() <= *e.max_services;
    if (!r.passed) r.first_failed = broken[*e.max_services].first;
    if (answered == 0) judge_empty(r, e, "no service answered a request after the warmup");
    return r;
}

}  // namespace meshsim::harness::detail
