// Cascade checkers: retry amplification, goodput, queue growth and metastability.
#include <algorithm>
#include <cstdio>

#include "harness/checkers/reading.hpp"
#include "harness/checkers/windows.hpp"

namespace meshsim::harness {

using namespace detail;

namespace {

std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", v);
    return text;
}

struct retry_amplification_parameters final : checker_parameters {
    std::string service;
    double max_ratio = 0;
};

struct goodput_parameters final : checker_parameters {
    std::string workload;  // "" = every workload
    double min_ratio = 0;
};

struct queue_growth_parameters final : checker_parameters {
    std::string service;
    std::uint64_t max_depth = 0;
};

struct metastability_parameters final : checker_parameters {
    std::string workload;                      // "" = every workload
    std::optional<sim::duration> trigger_end;  // default: the end of the last fault
    sim::duration within{0};
    sim::duration window = sim::seconds(1);
    double min_ratio = 0;
};

struct breaker_parameters final : checker_parameters {
    std::string service;     // the caller
    std::string to_service;  // the callee
    std::string state;       // open, closed, half_open
    std::string when;        // ever, never, at_end
};

std::shared_ptr<const checker_parameters> read_retry_amplification(object_reader& r, expectation_names& names) {
    auto p = std::make_shared<retry_amplification_parameters>();
    p->service = read_service(r, names, true);
    p->max_ratio = r.required<double>("max", {.min = 0});
    return p;
}

std::shared_ptr<const checker_parameters> read_goodput(object_reader& r, expectation_names& names) {
    auto p = std::make_shared<goodput_parameters>();
    p->workload = read_workload(r, names);
    p->min_ratio = read_ratio(r, "min_ratio");
    return p;
}

std::shared_ptr<const checker_parameters> read_queue_growth(object_reader& r, expectation_names& names) {
    auto p = std::make_shared<queue_growth_parameters>();
    p->service = read_service(r, names, true);
    p->max_depth = r.required<std::uint64_t>("max_depth");
    return p;
}

std::shared_ptr<const checker_parameters> read_metastability(object_reader& r, expectation_names& names) {
    auto p = std::make_shared<metastability_parameters>();
    p->workload = read_workload(r, names);
    p->trigger_end = r.maybe<sim::duration>("trigger_end");
    p->within = r.required<sim::duration>("within");
    p->window = r.optional<sim::duration>("window", p->window, {.min = sim::nanoseconds(1)});
    p->min_ratio = read_ratio(r, "goodput_min_ratio");
    return p;
}

std::shared_ptr<const checker_parameters> read_breaker(object_reader& r, expectation_names& names) {
    auto p = std::make_shared<breaker_parameters>();
    p->service = read_service(r, names, true);
    p->to_service = r.required<std::string>("to", {.non_empty = true});
    names.service(r.member("to"), p->to_service);
    p->state = r.enumeration("state", {"open", "closed", "half_open"});
    p->when = r.enumeration("when", {"ever", "never", "at_end"}, "ever");
    return p;
}

// Recovery is judged from trigger end + within: both must be known and leave a window.
void metastability_observes(const expectation_config& e, const expectation_scope& scope) {
    const metastability_parameters& p = parameters_of<metastability_parameters>(e);
    scope.needs_workload_requests(p.workload);
    const scenario& s = scope.config();
    const std::optional<sim::duration> trigger = p.trigger_end ? p.trigger_end : scope.last_fault_end();
    if (!p.trigger_end && s.faults.empty() && !s.nemesis) {
        scope.report("", "no fault is scheduled and no \"trigger_end\" is given: there is nothing to recover from");
    } else if (trigger && (*trigger >= s.duration || p.within >= s.duration - *trigger)) {
        scope.report("within", "recovery would be judged from " + sim::format_duration(*trigger) + " + " +
                                   sim::format_duration(p.within) +
                                   " (trigger end + within), not before the run ends (" +
                                   sim::format_duration(s.duration) + "): the check would see no window");
    }
}

// A breaker check needs calls on the edge, and a breaker on it.
void breaker_observes(const expectation_config& e, const expectation_scope& scope) {
    const breaker_parameters& p = parameters_of<breaker_parameters>(e);
    scope.needs_requests_at(p.service);
    if (!scope.receives_requests(p.service)) return;
    if (!scope.calls(p.service, p.to_service)) {
        scope.report("to", "service " + quote(p.service) + " never calls " + quote(p.to_service) +
                               " (no endpoint of it that requests reach calls or publishes to " + quote(p.to_service) +
                               "): there is no edge for the check to see");
    } else if (!scope.config().policy_for(p.service, p.to_service).circuit_breaker) {
        scope.report("to", "the edge " + quote(p.service) + " -> " + quote(p.to_service) +
                               " has no circuit breaker (no \"breaker\" in its edge or in default_edge): the check "
                               "would test nothing");
    }
}

// Attempts that reached the service per request the workloads sent.
check_result check_retry_amplification(const expectation_config& e, const run_view& run) {
    const retry_amplification_parameters& p = parameters_of<retry_amplification_parameters>(e);
    // Attempts sent to the service by its callers (retries and hedges included),
    // counted at the callers: an attempt refused or aborted before the handler counts too.
    std::uint64_t at_service = 0;
    for (std::size_t i = 0; i < run.obs.edge_keys().size(); ++i) {
        if (run.obs.edge_keys()[i].second == p.service) at_service += run.obs.edges()[i].attempts;
    }
    for (std::size_t i = 0; i < run.config.workloads.size(); ++i) {
        if (run.config.workloads[i].service == p.service) at_service += run.obs.workloads()[i].attempts;
    }
    std::uint64_t at_entry = 0;
    for (const flow_stats& w : run.obs.workloads()) at_entry += w.arrivals;
    const double ratio = at_entry == 0 ? 0 : static_cast<double>(at_service) / static_cast<double>(at_entry);
    check_result r;
    r.check = "retry_amplification";
    r.label = e.label.empty() ? "retry amplification at " + p.service : e.label;
    r.expected = "<= " + number(p.max_ratio) + " attempts at " + p.service + " per request at the entry";
    r.measured = number(ratio) + " (" + std::to_string(at_service) + " / " + std::to_string(at_entry) + ")";
    r.passed = ratio <= p.max_ratio;
    if (at_entry == 0) {
        judge_empty(r, e, "the workloads sent no request (no root request to amplify)");
    } else if (at_service == 0) {
        judge_empty(r, e,
                    "no attempt reached " + p.service + " (of " + std::to_string(at_entry) + " requests at the entry)");
    }
    return r;
}

check_result check_goodput(const expectation_config& e, const run_view& run) {
    const goodput_parameters& p = parameters_of<goodput_parameters>(e);
    const auto flows = workload_flows(run.obs, p.workload);
    const std::size_t first = first_bucket_after(run.obs, run.config.warmup);
    std::uint64_t ok = 0, done = 0;
    std::optional<sim::time_point> first_failed;
    for (std::size_t b = first; b < run.obs.bucket_count(); ++b) {
        for (const flow_stats* f : flows) {
            ok += f->buckets[b].goodput;
            done += f->buckets[b].goodput + f->buckets[b].errors;
        }
        if (!first_failed && done > 0 && static_cast<double>(ok) < p.min_ratio * static_cast<double>(done)) {
            first_failed = run.obs.bucket_start(b + 1);  // the running ratio first dipped here
        }
    }
    const double ratio = done == 0 ? 1 : static_cast<double>(ok) / static_cast<double>(done);
    check_result r;
    r.check = "goodput";
    r.label = e.label.empty() ? "goodput of " + subject_of({.workload = p.workload}) : e.label;
    r.expected = "successful share of answered requests >= " + percent(p.min_ratio);
    r.measured = percent(ratio) + " (" + std::to_string(ok) + " / " + std::to_string(done) + ")";
    r.passed = ratio >= p.min_ratio;
    if (!r.passed) r.first_failed = first_failed;
    if (done == 0)
        judge_empty(r, e,
                    "no request of " + any_subject_of({.workload = p.workload}) + " was answered after the warmup");
    return r;
}

check_result check_queue_growth(const expectation_config& e, const run_view& run) {
    const queue_growth_parameters& p = parameters_of<queue_growth_parameters>(e);
    std::size_t service = 0;
    while (run.obs.service_names()[service] != p.service) ++service;
    const auto& depths = run.obs.queue_depths()[service];
    check_result r;
    r.check = "queue_growth";
    r.label = e.label.empty() ? "queue of " + p.service : e.label;
    r.expected = "at most " + std::to_string(p.max_depth) + " requests waiting (all instances)";
    r.measured = "at most " + std::to_string(run.obs.queue_depth_max()[service]) + " waiting";
    for (std::size_t b = 0; b < depths.size(); ++b) {
        if (depths[b] > p.max_depth) {
            r.passed = false;
            r.first_failed = run.obs.bucket_start(b + 1);
            break;
        }
    }
    std::uint64_t arrivals = 0;
    for (const flow_stats* f : service_flows(run.obs, p.service)) arrivals += f->arrivals;
    if (arrivals == 0) judge_empty(r, e, "no request reached " + p.service + ", so its queue was never tested");
    return r;
}

// Goodput must be back above the level `within` after the trigger ended.
check_result check_metastability(const expectation_config& e, const run_view& run) {
    const metastability_parameters& p = parameters_of<metastability_parameters>(e);
    const sim::time_point trigger = p.trigger_end ? sim::time_zero + *p.trigger_end : run.last_fault_end;
    const sim::time_point from = sim::saturating_add(trigger, p.within);
    const auto windows = sliding_windows(run.obs, workload_flows(run.obs, p.workload), p.window,
                                         first_bucket_after(run.obs, from - sim::time_zero));
    check_result r;
    r.check = "metastability";
    r.label = e.label.empty() ? "recovery of " + subject_of({.workload = p.workload}) : e.label;
    r.expected = "goodput >= " + percent(p.min_ratio) + " in every " + sim::format_duration_hms(p.window) +
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
        if (r.passed && w.goodput_ratio() < p.min_ratio) {
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
        judge_empty(r, e,
                    "no request of " + any_subject_of({.workload = p.workload}) + " was answered after " +
                        format_instant(from));
    }
    return r;
}

check_result check_breaker(const expectation_config& e, const run_view& run) {
    const breaker_parameters& p = parameters_of<breaker_parameters>(e);
    std::optional<std::size_t> edge;
    for (std::size_t i = 0; i < run.obs.edge_keys().size(); ++i) {
        if (run.obs.edge_keys()[i] == std::pair{p.service, p.to_service}) edge = i;
    }
    check_result r;
    r.check = "breaker";
    r.label = e.label.empty() ? "breaker " + p.service + " -> " + p.to_service : e.label;
    r.expected = "state " + p.state + " " + (p.when == "at_end" ? "at the end" : p.when);
    if (!edge || run.obs.edges()[*edge].arrivals == 0) {
        judge_empty(r, e, p.service + " never called " + p.to_service);
        return r;
    }
    if (run.obs.breaker_at_end(*edge) == breaker_level::none) {
        r.passed = false;
        r.measured = "the edge has no circuit breaker";
        return r;
    }
    std::optional<sim::time_point> seen;
    for (const breaker_transition& t : run.obs.breaker_transitions(*edge)) {
        if (to_string(t.to) == p.state) {
            seen = t.at;
            break;
        }
    }
    if (p.state == "closed" && !seen && run.obs.breaker_at_end(*edge) != breaker_level::none) {
        seen = sim::time_zero;  // breakers start closed
    }
    if (p.when == "at_end") {
        const auto end = run.obs.breaker_at_end(*edge);
        r.measured = "state at the end: " + std::string(to_string(end));
        r.passed = to_string(end) == p.state;
        if (!r.passed) r.first_failed = run.end;
    } else if (p.when == "ever") {
        r.measured = seen ? "first " + p.state + " at " + format_instant(*seen) : "never " + p.state;
        r.passed = seen.has_value();
        if (!r.passed) r.first_failed = run.end;
    } else {
        r.measured = seen ? p.state + " at " + format_instant(*seen) : "never " + p.state;
        r.passed = !seen;
        if (seen) r.first_failed = *seen;
    }
    return r;
}

}  // namespace

checker_info retry_amplification_checker() {
    return {"retry_amplification", "attempts arriving at a service per request sent by the workloads, at most a bound",
            read_retry_amplification,
            [](const expectation_config& e, const expectation_scope& scope) {
                scope.needs_requests_at(parameters_of<retry_amplification_parameters>(e).service);
            },
            check_retry_amplification};
}

checker_info goodput_checker() {
    return {"goodput", "share of answered workload requests that succeeded, at least a bound", read_goodput,
            [](const expectation_config& e, const expectation_scope& scope) {
                scope.needs_workload_requests(parameters_of<goodput_parameters>(e).workload);
            },
            check_goodput};
}

checker_info queue_growth_checker() {
    return {"queue_growth", "requests waiting in a service's queues (all instances) never above a bound",
            read_queue_growth,
            [](const expectation_config& e, const expectation_scope& scope) {
                scope.needs_requests_at(parameters_of<queue_growth_parameters>(e).service);
            },
            check_queue_growth};
}

checker_info metastability_checker() {
    return {"metastability", "goodput back above a level a given time after the trigger (last fault) ended",
            read_metastability, metastability_observes, check_metastability};
}

checker_info breaker_checker() {
    return {"breaker", "a call edge's circuit breaker reached a state (ever), never did, or is in it at the end",
            read_breaker, breaker_observes, check_breaker};
}

}  // namespace meshsim::harness
