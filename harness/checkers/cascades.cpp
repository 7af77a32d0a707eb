// Cascade checkers: retry amplification, goodput, queue growth and metastability.
#include <algorithm>
#include <cstdio>

#include "harness/checkers/slos.hpp"
#include "harness/checkers/windows.hpp"

namespace meshsim::harness::detail {

namespace {
std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", v);
    return text;
}
}  // namespace

// Attempts that reached the service per request the workloads sent.
check_result check_retry_amplification(const expectation_config& e, const run_view& run) {
    // Attempts sent to the service by its callers (retries and hedges included),
    // counted at the callers: an attempt refused or aborted before the handler counts too.
    std::uint64_t at_service = 0;
    for (std::size_t i = 0; i < run.obs.edge_keys().size(); ++i) {
        if (run.obs.edge_keys()[i].second == e.service) at_service += run.obs.edges()[i].attempts;
    }
    for (std::size_t i = 0; i < run.config.workloads.size(); ++i) {
        if (run.config.workloads[i].service == e.service) at_service += run.obs.workloads()[i].attempts;
    }
    std::uint64_t at_entry = 0;
    for (const flow_stats& w : run.obs.workloads()) at_entry += w.arrivals;
    const double ratio = at_entry == 0 ? 0 : static_cast<double>(at_service) / static_cast<double>(at_entry);
    check_result r;
    r.check = "retry_amplification";
    r.label = e.label.empty() ? "retry amplification at " + e.service : e.label;
    r.expected = "<= " + number(*e.max_ratio) + " attempts at " + e.service + " per request at the entry";
    r.measured = number(ratio) + " (" + std::to_string(at_service) + " / " + std::to_string(at_entry) + ")";
    r.passed = ratio <= *e.max_ratio;
    if (at_entry == 0) {
        judge_empty(r, e, "the workloads sent no request (no root request to amplify)");
    } else if (at_service == 0) {
        judge_empty(r, e,
                    "no attempt reached " + e.service + " (of " + std::to_string(at_entry) + " requests at the entry)");
    }
    return r;
}

check_result check_goodput(const expectation_config& e, const run_view& run) {
    const auto flows = workload_flows(run.obs, e.workload);
    const std::size_t first = first_bucket_after(run.obs, run.config.warmup);
    std::uint64_t ok = 0, done = 0;
    std::optional<sim::time_point> first_failed;
    for (std::size_t b = first; b < run.obs.bucket_count(); ++b) {
        for (const flow_stats* f : flows) {
            ok += f->buckets[b].goodput;
            done += f->buckets[b].goodput + f->buckets[b].errors;
        }
        if (!first_failed && done > 0 && static_cast<double>(ok) < *e.min_ratio * static_cast<double>(done)) {
            first_failed = run.obs.bucket_start(b + 1);  // the running ratio first dipped here
        }
    }
    const double ratio = done == 0 ? 1 : static_cast<double>(ok) / static_cast<double>(done);
    check_result r;
    r.check = "goodput";
    r.label = e.label.empty() ? "goodput of " + subject_of(e) : e.label;
    r.expected = "successful share of answered requests >= " + percent(*e.min_ratio);
    r.measured = percent(ratio) + " (" + std::to_string(ok) + " / " + std::to_string(done) + ")";
    r.passed = ratio >= *e.min_ratio;
    if (!r.passed) r.first_failed = first_failed;
    if (done == 0) judge_empty(r, e, "no request of " + any_subject_of(e) + " was answered after the warmup");
    return r;
}

check_result check_queue_growth(const expectation_config& e, const run_view& run) {
    std::size_t service = 0;
    while (run.obs.service_names()[service] != e.service) ++service;
    const auto& depths = run.obs.queue_depths()[service];
    check_result r;
    r.check = "queue_growth";
    r.label = e.label.empty() ? "queue of " + e.service : e.label;
    r.expected = "at most " + std::to_string(*e.max_depth) + " requests waiting (all instances)";
    r.measured = "at most " + std::to_string(run.obs.queue_depth_max()[service]) + " waiting";
    for (std::size_t b = 0; b < depths.size(); ++b) {
        if (depths[b] > *e.max_depth) {
            r.passed = false;
            r.first_failed = run.obs.bucket_start(b + 1);
            break;
        }
    }
    std::uint64_t arrivals = 0;
    for (const flow_stats* f : service_flows(run.obs, e.service)) arrivals += f->arrivals;
    if (arrivals == 0) judge_empty(r, e, "no request reached " + e.service + ", so its queue was never tested");
    return r;
}

// Goodput must be back above the level `within` after the trigger ended.
check_result check_metastability(const expectation_config& e, const run_view& run) {
    const sim::time_point trigger = e.trigger_end ? sim::time_zero + *e.trigger_end : run.last_fault_end;
    const sim::time_point from = sim::saturating_add(trigger, e.within);
    const auto windows = sliding_windows(run.obs, workload_flows(run.obs, e.workload), e.window,
                                         first_bucket_after(run.obs, from - sim::time_zero));
    check_result r;
    r.check = "metastability";
    r.label = e.label.empty() ? "recovery of " + subject_of(e) : e.label;
    r.expected = "goodput >= " + percent(*e.min_ratio) + " in every " + sim::format_duration_hms(e.window) +
                 " window from " + format_instant(from) + " (trigger ended " + format_instant(trigger) + ")";
    // A window with no answers says nothing about goodput: counted, not judged.
    double worst = 1;
    std::size_t empty = 0;
    for (const window_totals& w : windows) {
        if (w.completed() == 0) {
            ++empty;
            continue;
        }
        worst = std::min(worst, w.goodput_ratio());
        if (r.passed && w.goodput_ratio() < *e.min_ratio) {
            r.passed = false;
            r.first_failed = w.end;
        }
    }
    r.measured = windows.empty() ? "no window after " + format_instant(from) : "worst goodput " + percent(worst);
    if (empty > 0 && empty < windows.size()) {
        r.measured +=
            " (" + std::to_string(empty) + " of " + std::to_string(windows.size()) + " windows had no answers)";
    }
    if (windows.empty()) {
        r.passed = false;  // the scenario ends too early to judge: not a matter of samples
    } else if (empty == windows.size()) {
        judge_empty(r, e, "no request of " + any_subject_of(e) + " was answered after " + format_instant(from));
    }
    return r;
}

check_result check_breaker(const expectation_config& e, const run_view& run) {
    std::optional<std::size_t> edge;
    for (std::size_t i = 0; i < run.obs.edge_keys().size(); ++i) {
        if (run.obs.edge_keys()[i] == std::pair{e.service, e.to_service}) edge = i;
    }
    check_result r;
    r.check = "breaker";
    r.label = e.label.empty() ? "breaker " + e.service + " -> " + e.to_service : e.label;
    r.expected = "state " + e.state + " " + (e.when == "at_end" ? "at the end" : e.when);
    if (!edge || run.obs.edges()[*edge].arrivals == 0) {
        judge_empty(r, e, e.service + " never called " + e.to_service);
        return r;
    }
    if (run.obs.breaker_at_end(*edge) == breaker_level::none) {
        r.passed = false;
        r.measured = "the edge has no circuit breaker";
        return r;
    }
    std::optional<sim::time_point> seen;
    for (const breaker_transition& t : run.obs.breaker_transitions(*edge)) {
        if (to_string(t.to) == e.state) {
            seen = t.at;
            break;
        }
    }
    if (e.state == "closed" && !seen && run.obs.breaker_at_end(*edge) != breaker_level::none) {
        seen = sim::time_zero;  // breakers start closed
    }
    if (e.when == "at_end") {
        const auto end = run.obs.breaker_at_end(*edge);
        r.measured = "state at the end: " + std::string(to_string(end));
        r.passed = to_string(end) == e.state;
        if (!r.passed) r.first_failed = run.end;
    } else if (e.when == "ever") {
        r.measured = seen ? "first " + e.state + " at " + format_instant(*seen) : "never " + e.state;
        r.passed = seen.has_value();
        if (!r.passed) r.first_failed = run.end;
    } else {
        r.measured = seen ? e.state + " at " + format_instant(*seen) : "never " + e.state;
        r.passed = !seen;
        if (seen) r.first_failed = *seen;
    }
    return r;
}

}  // namespace meshsim::harness::detail
