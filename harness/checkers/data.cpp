// Safety and liveness checkers over the data ledger: no acknowledged write lost,
// no duplicate effect, no unauthenticated request served, replicas converge.
#include <algorithm>
#include <string>

#include "harness/checkers/slos.hpp"
#include "harness/checkers/windows.hpp"

namespace meshsim::harness::detail {

namespace {

std::string count(std::size_t n, std::string_view what) {
    return std::to_string(n) + " " + std::string(what) + (n == 1 ? "" : "s");
}

// A few of the offending keys, so a failure names something to look for in the events.
std::string examples(const std::vector<std::string>& keys) {
    if (keys.empty()) return {};
    std::string text = " (e.g. ";
    for (std::size_t i = 0; i < std::min<std::size_t>(keys.size(), 3); ++i) text += (i ? ", " : "") + keys[i];
    return text + ")";
}

}  // namespace

// Every write the service acknowledged is in its stores when the run ends.
check_result check_no_lost_writes(const expectation_config& e, const run_view& run) {
    const service_data& d = run.data.service(run.data.service_index(e.service));
    std::vector<std::string> lost;
    std::optional<sim::time_point> first;
    for (const auto& [key, at] : d.acked) {
        if (d.stored.contains(key)) continue;
        lost.push_back(key);
        if (!first || at < *first) first = at;
    }
    check_result r;
    r.check = "no_lost_writes";
    r.label = e.label.empty() ? "no acknowledged write lost at " + e.service : e.label;
    r.expected = "every write " + e.service + " acknowledged still stored at the end";
    r.measured =
        count(d.acked.size(), "acknowledged write") + ", " + std::to_string(lost.size()) + " lost" + examples(lost);
    r.passed = lost.empty();
    if (!r.passed) r.first_failed = first;  // acknowledged then, lost later
    if (d.acked.empty()) judge_empty(r, e, e.service + " acknowledged no write");
    return r;
}

// No write's effect was applied twice (retries and duplicates deduplicated).
check_result check_no_duplicate_effects(const expectation_config& e, const run_view& run) {
    const service_data& d = run.data.service(run.data.service_index(e.service));
    std::vector<std::string> twice;
    std::uint64_t extra = 0;
    for (const auto& [key, n] : d.effects) {
        if (n < 2) continue;
        twice.push_back(key);
        extra += n - 1;
    }
    check_result r;
    r.check = "no_duplicate_effects";
    r.label = e.label.empty() ? "no duplicate effect at " + e.service : e.label;
    r.expected = "each write's effect applied at most once at " + e.service;
    r.measured = count(d.effects.size(), "write") + " applied, " + std::to_string(twice.size()) + " more than once (" +
                 std::to_string(extra) + " extra effects)" + examples(twice);
    r.passed = twice.empty();
    if (!r.passed) r.first_failed = d.first_duplicate;
    if (d.effects.empty()) judge_empty(r, e, e.service + " applied no write");
    return r;
}

// No request was served without an authenticated principal (at one service, or anywhere).
check_result check_no_unauthenticated(const expectation_config& e, const run_view& run) {
    std::uint64_t unauthenticated = 0, served = 0;
    std::optional<sim::time_point> first;
    std::vector<std::string> where;
    for (std::size_t i = 0; i < run.data.service_names().size(); ++i) {
        if (!e.service.empty() && run.data.service_names()[i] != e.service) continue;
        const service_data& d = run.data.service(i);
        served += d.served_authenticated + d.served_unauthenticated;
        unauthenticated += d.served_unauthenticated;
        if (d.served_unauthenticated == 0) continue;
        where.push_back(run.data.service_names()[i] + ": " + std::to_string(d.served_unauthenticated));
        if (!first || *d.first_unauthenticated < *first) first = d.first_unauthenticated;
    }
    check_result r;
    r.check = "no_unauthenticated";
    const std::string scope = e.service.empty() ? "any service" : e.service;
    r.label = e.label.empty() ? "no unauthenticated request served by " + scope : e.label;
    r.expected = "0 requests served by " + scope + " without an authenticated principal";
    r.measured = std::to_string(unauthenticated) + " of " + std::to_string(served) + " served unauthenticated";
    if (!where.empty()) {
        r.measured += " (";
        for (std::size_t i = 0; i < where.size(); ++i) r.measured += (i ? ", " : "") + where[i];
        r.measured += ")";
    }
    r.passed = unauthenticated == 0;
    if (!r.passed) r.first_failed = first;
    if (served == 0) judge_empty(r, e, "no request served by " + scope);
    return r;
}

// Every record the source holds at the end reaches every replica within `within`
// of the later of its commit and the end of the last fault; no replica holds a
// record the source does not. Records committed too close to the end to be due
// are reported as in flight, not failed.
check_result check_convergence(const expectation_config& e, const run_view& run) {
    const std::size_t source = run.data.service_index(e.service);
    const service_data& src = run.data.service(source);
    const sim::time_point faults_over = run.last_fault_end;
    std::vector<std::string> missing, phantom;
    std::size_t in_flight = 0;
    std::optional<sim::time_point> first;
    sim::duration caught_up{0};  // after the last fault: when the replicas had every earlier record
    sim::duration max_lag{0};
    for (const std::string& replica_name : e.replicas) {
        const std::size_t replica = run.data.service_index(replica_name);
        const auto& applied = run.data.applied(replica, source);
        const auto& held = run.data.replicated(replica, source);
        for (const std::string& key : src.stored) {
            const auto commit = src.committed.find(key);
            if (commit == src.committed.end()) continue;  // never made durable: not yet the truth
            const sim::time_point from = std::max(commit->second, faults_over);
            const sim::time_point due = sim::saturating_add(from, e.within);
            const auto got = applied.find(key);
            if (held.contains(key) && got != applied.end()) {
                const sim::duration lag = std::max(sim::duration{0}, got->second - from);
                max_lag = std::max(max_lag, lag);
                if (commit->second <= faults_over) caught_up = std::max(caught_up, lag);
                if (got->second > due && (!first || due < *first)) first = due;
                if (got->second > due) missing.push_back(replica_name + ":" + key);
            } else if (due <= run.end) {
                missing.push_back(replica_name + ":" + key);
                if (!first || due < *first) first = due;
            } else {
                ++in_flight;
            }
        }
        for (const std::string& key : held) {
            if (src.stored.contains(key)) continue;
            phantom.push_back(replica_name + ":" + key);
            const auto got = applied.find(key);
            if (got != applied.end() && (!first || got->second < *first)) first = got->second;
        }
    }
    check_result r;
    r.check = "convergence";
    std::string replicas;
    for (std::size_t i = 0; i < e.replicas.size(); ++i) replicas += (i ? ", " : "") + e.replicas[i];
    r.label = e.label.empty() ? replicas + (e.replicas.size() == 1 ? " converges to " : " converge to ") + e.service
                              : e.label;
    r.expected = "every record of " + e.service + " at " + replicas + " within " + sim::format_duration_hms(e.within) +
                 " (of its commit, or of the last fault's end), and nothing else";
    r.measured = "caught up " + format_latency(caught_up) + " after the last fault ended; max lag " +
                 format_latency(max_lag) + "; " + std::to_string(missing.size()) + " missing or late, " +
                 std::to_string(phantom.size()) + " phantom, " + std::to_string(in_flight) + " in flight at the end" +
                 examples(missing.empty() ? phantom : missing);
    r.passed = missing.empty() && phantom.empty();
    if (!r.passed) r.first_failed = first;
    const bool any_record = std::any_of(src.stored.begin(), src.stored.end(),
                                        [&](const std::string& key) { return src.committed.contains(key); });
    if (!any_record) judge_empty(r, e, e.service + " holds no committed record to replicate");
    return r;
}

// The key a contend workload updates ends at least at the number of updates the
// clients of every contend workload on that key saw succeed (a read-modify-write
// whose write overwrote another's, unseen, is a lost update). More is no loss: an
// update applied whose answer never arrived.
check_result check_no_lost_updates(const expectation_config& e, const run_view& run) {
    const auto& workloads = run.config.workloads;
    const auto named = std::find_if(workloads.begin(), workloads.end(),
                                    [&](const workload_config& w) { return w.name == e.workload; });
    check_result r;
    r.check = "no_lost_updates";
    r.label = e.label.empty() ? "no lost update by workload " + e.workload : e.label;
    if (named == workloads.end() || !named->contend) {  // the loader rejects both
        r.passed = false;
        r.measured = "workload " + e.workload + " is not a contend workload";
        return r;
    }
    const std::string& key = named->contend->key;
    std::uint64_t succeeded = 0;
    for (std::size_t i = 0; i < workloads.size(); ++i) {
        if (workloads[i].contend && workloads[i].service == named->service && workloads[i].contend->key == key)
            succeeded += run.obs.workloads()[i].outcomes.ok();
    }
    const auto& values = run.data.service(run.data.service_index(named->service)).values;
    const auto it = values.find(key);
    const std::int64_t value = it == values.end() ? 0 : it->second;
    r.expected = "key " + key + " of " + named->service + " ends at least at the updates that succeeded";
    r.measured = count(succeeded, "successful update") + ", final value " + std::to_string(value);
    r.passed = value >= static_cast<std::int64_t>(succeeded);
    if (!r.passed) r.measured += " (" + std::to_string(static_cast<std::int64_t>(succeeded) - value) + " lost)";
    if (succeeded == 0) judge_empty(r, e, "no update of " + key + " succeeded");
    return r;
}

}  // namespace meshsim::harness::detail
