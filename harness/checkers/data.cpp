// Safety and liveness checkers over the data ledger: no acknowledged write lost,
// no duplicate effect, no unauthenticated request served, replicas converge.
#include <algorithm>
#include <set>
#include <string>

#include "harness/checkers/reading.hpp"
#include "harness/checkers/windows.hpp"

namespace meshsim::harness {

using namespace detail;

namespace {

// The service whose writes (or served requests) a check is about.
struct service_parameters final : checker_parameters {
    std::string service;  // no_unauthenticated: "" = every service
};

struct convergence_parameters final : checker_parameters {
    std::string service;  // the source of truth
    std::vector<std::string> replicas;
    sim::duration within{0};
};

// A service with a write endpoint, which requests must reach.
std::shared_ptr<const checker_parameters> read_writing_service(object_reader& r, expectation_names& names) {
    auto p = std::make_shared<service_parameters>();
    p->service = read_service(r, names, true);
    names.writing_service(r.member("service"), p->service);
    return p;
}

// A service whose writes or whose kind's effects (a consumer, a worker) the check judges.
std::shared_ptr<const checker_parameters> read_effect_service(object_reader& r, expectation_names& names) {
    auto p = std::make_shared<service_parameters>();
    p->service = read_service(r, names, true);
    names.effect_service(r.member("service"), p->service);
    return p;
}

void writes_observed(const expectation_config& e, const expectation_scope& scope) {
    scope.needs_writes_at(parameters_of<service_parameters>(e).service);
}

std::shared_ptr<const checker_parameters> read_convergence(object_reader& r, expectation_names& names) {
    auto p = std::make_shared<convergence_parameters>();
    p->service = read_service(r, names, true);
    names.writing_service(r.member("service"), p->service);
    for (const value_reader& item : r.array("replicas", {.min_items = 1})) {
        p->replicas.push_back(item.as<std::string>({.non_empty = true}));
        names.service(item, p->replicas.back());
    }
    p->within = r.required<sim::duration>("within");
    names.replicas(r.member("replicas"), p->service, p->replicas);
    return p;
}

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

// Every write the service acknowledged is in its stores when the run ends.
check_result check_no_lost_writes(const expectation_config& e, const run_view& run) {
    const service_parameters& p = parameters_of<service_parameters>(e);
    const service_data& d = run.data.service(run.data.service_index(p.service));
    std::vector<std::string> lost;
    std::optional<sim::time_point> first;
    for (const auto& [key, at] : d.acked) {
        if (d.stored.contains(key)) continue;
        lost.push_back(key);
        if (!first || at < *first) first = at;
    }
    check_result r;
    r.check = "no_lost_writes";
    r.label = e.label.empty() ? "no acknowledged write lost at " + p.service : e.label;
    r.expected = "every write " + p.service + " acknowledged still stored at the end";
    r.measured =
        count(d.acked.size(), "acknowledged write") + ", " + std::to_string(lost.size()) + " lost" + examples(lost);
    r.passed = lost.empty();
    if (!r.passed) r.first_failed = first;  // acknowledged then, lost later
    if (d.acked.empty()) judge_empty(r, e, p.service + " acknowledged no write");
    return r;
}

// No write's effect was applied twice (retries and duplicates deduplicated).
check_result check_no_duplicate_effects(const expectation_config& e, const run_view& run) {
    const service_parameters& p = parameters_of<service_parameters>(e);
    const service_data& d = run.data.service(run.data.service_index(p.service));
    std::vector<std::string> twice;
    std::uint64_t extra = 0;
    for (const auto& [key, n] : d.effects) {
        if (n < 2) continue;
        twice.push_back(key);
        extra += n - 1;
    }
    check_result r;
    r.check = "no_duplicate_effects";
    r.label = e.label.empty() ? "no duplicate effect at " + p.service : e.label;
    r.expected = "each write's effect applied at most once at " + p.service;
    r.measured = count(d.effects.size(), "write") + " applied, " + std::to_string(twice.size()) + " more than once (" +
                 std::to_string(extra) + " extra effects)" + examples(twice);
    r.passed = twice.empty();
    if (!r.passed) r.first_failed = d.first_duplicate;
    if (d.effects.empty()) judge_empty(r, e, p.service + " applied no write");
    return r;
}

// No request was served without an authenticated principal (at one service, or anywhere).
check_result check_no_unauthenticated(const expectation_config& e, const run_view& run) {
    const service_parameters& p = parameters_of<service_parameters>(e);
    std::uint64_t unauthenticated = 0, served = 0;
    std::optional<sim::time_point> first;
    std::vector<std::string> where;
    for (std::size_t i = 0; i < run.data.service_names().size(); ++i) {
        if (!p.service.empty() && run.data.service_names()[i] != p.service) continue;
        const service_data& d = run.data.service(i);
        served += d.served_authenticated + d.served_unauthenticated;
        unauthenticated += d.served_unauthenticated;
        if (d.served_unauthenticated == 0) continue;
        where.push_back(run.data.service_names()[i] + ": " + std::to_string(d.served_unauthenticated));
        if (!first || *d.first_unauthenticated < *first) first = d.first_unauthenticated;
    }
    check_result r;
    r.check = "no_unauthenticated";
    const std::string scope = p.service.empty() ? "any service" : p.service;
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
// The replication lag per metric bucket: at each bucket's end, the records committed
// at the source and not yet applied at a replica (pending), and the lag of the oldest
// of them (or of a record applied in the bucket, if that waited longer), from its commit.
std::vector<lag_point> lag_series_of(const run_view& run,
                                     const std::vector<std::pair<sim::time_point, sim::time_point>>& records) {
    const observations& obs = run.obs;
    const std::size_t buckets = obs.bucket_count();
    // Per bucket: the commits that become pending, the ones that stop, the lags applied in it.
    std::vector<std::vector<sim::time_point>> opens(buckets), closes(buckets);
    std::vector<sim::duration> applied_lag(buckets, sim::duration{0});
    const auto end_of = [&](std::size_t b) { return obs.bucket_start(b + 1); };
    for (const auto& [commit, applied] : records) {
        std::size_t b = obs.bucket_of(commit);
        if (commit > end_of(b)) continue;  // past the last bucket: never pending at a bucket's end
        if (applied != sim::time_never) {
            const std::size_t a = obs.bucket_of(applied);
            applied_lag[a] = std::max(applied_lag[a], applied - commit);
            // Pending at the ends of buckets b .. (the last whose end is before applied).
            if (end_of(b) >= applied) continue;
            std::size_t last = a;
            while (last > b && end_of(last) >= applied) --last;
            opens[b].push_back(commit);
            if (last + 1 < buckets) closes[last + 1].push_back(commit);
        } else {
            opens[b].push_back(commit);
        }
    }
    std::vector<lag_point> out;
    std::multiset<sim::time_point> pending;
    for (std::size_t b = 0; b < buckets; ++b) {
        for (const sim::time_point c : closes[b]) pending.erase(pending.find(c));
        for (const sim::time_point c : opens[b]) pending.insert(c);
        sim::duration lag = applied_lag[b];
        if (!pending.empty()) lag = std::max(lag, end_of(b) - *pending.begin());
        out.push_back({obs.bucket_start(b), lag, pending.size()});
    }
    return out;
}

// of the later of its commit and the end of the last fault; no replica holds a
// record the source does not. Records committed too close to the end to be due
// are reported as in flight, not failed.
check_result check_convergence(const expectation_config& e, const run_view& run) {
    const convergence_parameters& p = parameters_of<convergence_parameters>(e);
    const std::size_t source = run.data.service_index(p.service);
    const service_data& src = run.data.service(source);
    const sim::time_point faults_over = run.last_fault_end;
    std::vector<std::string> missing, phantom;
    std::size_t in_flight = 0;
    std::size_t judged = 0;  // records that reached a replica, or were due there before the end
    std::size_t absent = 0;  // due before the end and never arrived
    std::optional<sim::time_point> first;
    sim::duration caught_up{0};  // after the last fault: when the replicas had every earlier record
    sim::duration max_lag{0};
    std::vector<std::pair<sim::time_point, sim::time_point>> records;  // commit, applied (never: time_never)
    for (const std::string& replica_name : p.replicas) {
        const std::size_t replica = run.data.service_index(replica_name);
        const auto& applied = run.data.applied(replica, source);
        const auto& held = run.data.replicated(replica, source);
        for (const std::string& key : src.stored) {
            const auto commit = src.committed.find(key);
            if (commit == src.committed.end()) continue;  // never made durable: not yet the truth
            const sim::time_point from = std::max(commit->second, faults_over);
            const sim::time_point due = sim::saturating_add(from, p.within);
            const auto got = applied.find(key);
            const bool arrived = held.contains(key) && got != applied.end();
            records.emplace_back(commit->second, arrived ? got->second : sim::time_never);
            if (arrived) {
                ++judged;
                const sim::duration lag = std::max(sim::duration{0}, got->second - from);
                max_lag = std::max(max_lag, lag);
                if (commit->second <= faults_over) caught_up = std::max(caught_up, lag);
                if (got->second > due && (!first || due < *first)) first = due;
                if (got->second > due) missing.push_back(replica_name + ":" + key);
            } else if (due <= run.end) {
                ++judged;
                ++absent;
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
    for (std::size_t i = 0; i < p.replicas.size(); ++i) replicas += (i ? ", " : "") + p.replicas[i];
    r.label = e.label.empty() ? replicas + (p.replicas.size() == 1 ? " converges to " : " converge to ") + p.service
                              : e.label;
    r.expected = "every record of " + p.service + " at " + replicas + " within " + sim::format_duration_hms(p.within) +
                 " (of its commit, or of the last fault's end), and nothing else";
    // "Caught up" only when no due record is absent: it would read as recovery.
    r.measured = (absent == 0 ? "caught up " + format_latency(caught_up) + " after the last fault ended"
                              : std::string("not caught up")) +
                 "; max lag " + format_latency(max_lag) + "; " + std::to_string(missing.size()) + " missing or late, " +
                 std::to_string(phantom.size()) + " phantom, " + std::to_string(in_flight) + " in flight at the end" +
                 examples(missing.empty() ? phantom : missing);
    r.passed = missing.empty() && phantom.empty();
    if (!r.passed) r.first_failed = first;
    r.lag_series = lag_series_of(run, records);
    const bool any_record = std::any_of(src.stored.begin(), src.stored.end(),
                                        [&](const std::string& key) { return src.committed.contains(key); });
    if (!any_record) {
        judge_empty(r, e, p.service + " holds no committed record to replicate");
    } else if (judged == 0) {
        // Every record still in flight (a fault that lasts to the end, or within too long):
        // nothing was due, so nothing was judged.
        judge_empty(r, e,
                    "no record of " + p.service + " was due at a replica before the run ended (" +
                        std::to_string(in_flight) + " in flight; due " + sim::format_duration_hms(p.within) +
                        " after the later of its commit and the last fault's end, " +
                        detail::format_instant(faults_over) + ")");
    }
    return r;
}

}  // namespace

std::optional<convergence_names> convergence_of(const expectation_config& e) {
    if (e.check != "convergence" || !e.parameters) return std::nullopt;
    const auto& p = parameters_of<convergence_parameters>(e);
    return convergence_names{p.service, p.replicas};
}

checker_info no_lost_writes_checker() {
    return {"no_lost_writes", "every write a service acknowledged is in its stores when the run ends",
            read_writing_service, writes_observed, check_no_lost_writes};
}

checker_info no_duplicate_effects_checker() {
    return {"no_duplicate_effects", "no write's effect applied more than once (retries and duplicates deduplicated)",
            read_effect_service, writes_observed, check_no_duplicate_effects};
}

checker_info no_unauthenticated_checker() {
    return {"no_unauthenticated",
            "no request served without an API key the service checked or a principal passed on by one that did",
            [](object_reader& r, expectation_names& names) -> std::shared_ptr<const checker_parameters> {
                auto p = std::make_shared<service_parameters>();
                p->service = read_service(r, names, false);
                return p;
            },
            [](const expectation_config& e, const expectation_scope& scope) {
                scope.needs_requests_at(parameters_of<service_parameters>(e).service);
            },
            check_no_unauthenticated};
}

checker_info convergence_checker() {
    return {"convergence",
            "after the last fault, every replica holds every record of its source within a time, and nothing else",
            read_convergence,
            [](const expectation_config& e, const expectation_scope& scope) {
                scope.needs_writes_at(parameters_of<convergence_parameters>(e).service);
            },
            check_convergence};
}

}  // namespace meshsim::harness
