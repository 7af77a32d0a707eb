#include "harness/summary.hpp"

#include <cstdio>

#include "harness/terminal_text.hpp"
#include "meshsim_version.hpp"
#include "sim/trace.hpp"

namespace meshsim::harness {

namespace {

double ms(sim::duration d) { return sim::to_seconds(d) * 1e3; }

nlohmann::json latency_json(const svc::histogram& h) {
    return {{"count", h.count()},
            {"mean_ms", ms(h.mean())},
            {"p50_ms", ms(h.quantile(0.5))},
            {"p90_ms", ms(h.quantile(0.9))},
            {"p99_ms", ms(h.quantile(0.99))},
            {"p999_ms", ms(h.quantile(0.999))},
            {"max_ms", ms(h.max())}};
}

nlohmann::json outcomes_json(const outcome_counts& c) {
    nlohmann::json by_kind = nlohmann::json::object();
    for (std::size_t k = 0; k < c.by_kind.size(); ++k) {
        if (c.by_kind[k] != 0) by_kind[std::string(svc::to_string(static_cast<svc::outcome_kind>(k)))] = c.by_kind[k];
    }
    nlohmann::json by_status = nlohmann::json::object();
    for (const auto& [status, n] : c.by_status) by_status[std::to_string(status)] = n;
    return {{"total", c.total()},
            {"ok", c.ok()},
            {"failed", c.failed()},
            {"by_outcome", by_kind},
            {"by_status", by_status}};
}

std::int64_t ns(sim::time_point t) { return (t - sim::time_zero).count(); }

nlohmann::json by_outcome_json(const outcome_array& counts) {
    nlohmann::json j = nlohmann::json::object();
    for (std::size_t k = 0; k < counts.size(); ++k) {
        if (counts[k] != 0) j[std::string(svc::to_string(static_cast<svc::outcome_kind>(k)))] = counts[k];
    }
    return j;
}

nlohmann::json series_json(const observations& obs, const flow_stats& f, const std::vector<std::uint64_t>* depths,
                           bool with_attempts, const std::vector<caller_breaker>* breakers) {
    nlohmann::json series = nlohmann::json::array();
    for (std::size_t b = 0; b < f.buckets.size(); ++b) {
        const bucket& x = f.buckets[b];
        nlohmann::json j = {{"t", sim::format_time_hms(obs.bucket_start(b))},
                            {"t_ns", ns(obs.bucket_start(b))},
                            {"arrivals", x.arrivals},
                            {"goodput", x.goodput},
                            {"errors", x.errors},
                            {"by_outcome", by_outcome_json(x.by_outcome)},
                            {"p50_ms", ms(x.latency.quantile(0.5))},
                            {"p90_ms", ms(x.latency.quantile(0.9))},
                            {"p99_ms", ms(x.latency.quantile(0.99))}};
        if (depths != nullptr) j["queue_depth_max"] = (*depths)[b];
        if (with_attempts) {
            j["attempts"] = x.attempts;
            j["retries"] = x.retries;
            j["hedges"] = x.hedges;
            j["retries_refused"] = x.retries_refused;
        }
        if (breakers != nullptr) {
            nlohmann::json states = nlohmann::json::object();
            for (const caller_breaker& c : *breakers) {
                if (c.buckets[b] != breaker_level::none) states[c.node_name] = to_string(c.buckets[b]);
            }
            j["breakers"] = std::move(states);
        }
        if (x.breaker != breaker_level::none) j["breaker"] = to_string(x.breaker);
        series.push_back(std::move(j));
    }
    return series;
}

nlohmann::json instances_json(const observations& obs, std::size_t service) {
    nlohmann::json rows = nlohmann::json::object();
    for (const instance_stats& row : obs.instances()) {
        if (row.service != service) continue;
        nlohmann::json series = nlohmann::json::array();
        for (std::size_t b = 0; b < row.buckets.size(); ++b) {
            const instance_bucket& x = row.buckets[b];
            series.push_back({{"t_ns", ns(obs.bucket_start(b))},
                              {"arrivals", x.arrivals},
                              {"goodput", x.goodput},
                              {"errors", x.errors},
                              {"by_outcome", by_outcome_json(x.by_outcome)},
                              {"queue_depth_max", x.queue_depth_max}});
        }
        nlohmann::json down = nlohmann::json::array();
        for (const down_interval& d : row.down) {
            down.push_back({ns(d.start), d.end ? nlohmann::json(ns(*d.end)) : nlohmann::json(nullptr)});
        }
        rows[row.node_name] = {{"series", std::move(series)}, {"down", std::move(down)}};
    }
    return rows;
}

// Edges pass their callers' breakers (each caller's state per bucket).
nlohmann::json flow_json(const observations& obs, const flow_stats& f, const std::vector<std::uint64_t>* depths,
                         bool with_attempts, const std::vector<caller_breaker>* breakers = nullptr) {
    nlohmann::json j = {{"arrivals", f.arrivals},
                        {"outcomes", outcomes_json(f.outcomes)},
                        {"latency", latency_json(f.latency)},
                        {"series", series_json(obs, f, depths, with_attempts, breakers)}};
    if (with_attempts) {
        j["attempts"] = f.attempts;
        // Counted by the clients where they decided them, not derived from attempts: a
        // call a breaker rejected has no attempt, which would hide its retries.
        j["retries"] = f.retries;
        j["hedges"] = f.hedges;
        // Why each call's retry loop stopped; a refused retry (budget, throttle) is a
        // failure the retry policy alone would have retried.
        nlohmann::json ends = nlohmann::json::object();
        for (std::size_t e = 0; e < f.ends.size(); ++e) {
            if (f.ends[e] > 0) ends[std::string(svc::to_string(static_cast<svc::call_end>(e)))] = f.ends[e];
        }
        j["call_ends"] = std::move(ends);
    }
    return j;
}

}  // namespace

nlohmann::json make_summary(const run_identity& id, const observations& obs, const data_ledger& data,
                            const std::vector<check_result>& checks, const nlohmann::json& faults) {
    bool passed = true;
    nlohmann::json checks_json = nlohmann::json::array();
    for (const check_result& c : checks) {
        passed = passed && c.passed;
        checks_json.push_back(c.to_json());
    }
    nlohmann::json services = nlohmann::json::object();
    for (std::size_t s = 0; s < obs.service_names().size(); ++s) {
        services[obs.service_names()[s]] = {{"queue_depth_max", obs.queue_depth_max()[s]},
                                            {"endpoints", nlohmann::json::array()},
                                            {"instances", instances_json(obs, s)}};
    }
    for (std::size_t s = 0; s < data.service_names().size(); ++s) {
        const service_data& d = data.service(s);
        std::uint64_t duplicates = 0;
        for (const auto& [key, n] : d.effects) duplicates += n - 1;
        services[data.service_names()[s]]["data"] = {{"writes_acknowledged", d.acked.size()},
                                                     {"writes_committed", d.committed.size()},
                                                     {"records_stored", d.stored.size()},
                                                     {"effects", d.effects.size()},
                                                     {"duplicate_effects", duplicates},
                                                     {"served_authenticated", d.served_authenticated},
                                                     {"served_unauthenticated", d.served_unauthenticated},
                                                     {"session_reads_found", d.session_reads_found},
                                                     {"session_reads_missed", d.session_reads_missed},
                                                     {"replica_records", nlohmann::json::object()}};
        for (std::size_t source = 0; source < data.service_names().size(); ++source) {
            const std::size_t n = data.replicated(s, source).size();
            if (n > 0) services[data.service_names()[s]]["data"]["replica_records"][data.service_names()[source]] = n;
        }
    }
    for (std::size_t i = 0; i < obs.endpoint_keys().size(); ++i) {
        const endpoint_key& k = obs.endpoint_keys()[i];
        std::size_t s = 0;
        while (obs.service_names()[s] != k.service) ++s;
        nlohmann::json e = flow_json(obs, obs.endpoints()[i], &obs.queue_depths()[s], false);
        e["path"] = k.path;
        e["version"] = k.version;
        e["partial"] = obs.endpoints()[i].partial;
        services[k.service]["endpoints"].push_back(std::move(e));
    }
    nlohmann::json edges = nlohmann::json::array();
    for (std::size_t i = 0; i < obs.edge_keys().size(); ++i) {
        nlohmann::json e = flow_json(obs, obs.edges()[i], nullptr, true, &obs.breakers(i));
        e["from"] = obs.edge_keys()[i].first;
        e["to"] = obs.edge_keys()[i].second;
        e["breaker_at_end"] = to_string(obs.breaker_at_end(i));
        nlohmann::json transitions = nlohmann::json::array();
        for (const breaker_transition& t : obs.breaker_transitions(i)) {
            transitions.push_back({{"t_ns", ns(t.at)}, {"instance", t.caller_node}, {"to", to_string(t.to)}});
        }
        e["breaker_transitions"] = std::move(transitions);
        edges.push_back(std::move(e));
    }
    nlohmann::json workloads = nlohmann::json::object();
    for (std::size_t i = 0; i < obs.workload_names().size(); ++i) {
        workloads[obs.workload_names()[i]] = flow_json(obs, obs.workloads()[i], nullptr, true);
    }
    return {{"schema", "meshsim.summary/2"},
            {"verdict", passed ? "pass" : "fail"},
            {"scenario", id.scenario_name},
            {"scenario_file", id.scenario_file},
            {"scenario_hash", sim::format_hash(id.scenario_hash)},
            {"seed", id.seed},
            {"trace_hash", sim::format_hash(id.trace_hash)},
            {"meshsim_version", meshsim::version},
            {"events", id.events},
            {"virtual_time", sim::format_time_hms(id.virtual_end)},
            {"virtual_time_ns", ns(id.virtual_end)},
            {"bucket", sim::format_duration_hms(obs.bucket_width())},
            {"bucket_ns", obs.bucket_width().count()},
            {"warmup", sim::format_duration_hms(obs.warmup())},
            {"warmup_ns", obs.warmup().count()},
            {"reproduce", id.reproduce},
            {"faults", faults},
            {"checks", checks_json},
            {"workloads", workloads},
            {"services", services},
            {"edges", edges}};
}

void add_breaker_settings(nlohmann::json& summary, const scenario& s) {
    const auto ns = [](sim::duration d) { return d.count(); };
    for (nlohmann::json& e : summary["edges"]) {
        const edge_policy& policy = s.policy_for(e["from"].get<std::string>(), e["to"].get<std::string>());
        if (!policy.circuit_breaker) continue;
        const svc::circuit_breaker_config& b = *policy.circuit_breaker;
        const bool by_count = b.window_type == svc::sliding_window_type::count_based;
        e["breaker"] = {
            {"failure_rate_threshold_percent", b.failure_rate_threshold_percent},
            {"slow_call_rate_threshold_percent", b.slow_call_rate_threshold_percent},
            {"slow_call_duration_threshold_ns", ns(b.slow_call_duration_threshold)},
            {"window", by_count ? std::to_string(b.sliding_window_size_calls) + " calls"
                                : std::to_string(b.sliding_window_size_seconds) + " s"},
            {"minimum_calls", b.minimum_number_of_calls},
            {"wait_in_open_ns", ns(b.wait_duration_in_open_state)},
            {"permitted_calls_in_half_open", b.permitted_number_of_calls_in_half_open_state},
        };
    }
}

std::string text_summary(const nlohmann::json& s) {
    // Every string here came from input or from text derived from it: printable()
    // keeps a name from forging lines ("\nverdict: PASS") or driving the terminal.
    const auto text = [](const nlohmann::json& j) {
        return printable(j.is_string() ? j.get<std::string>() : j.dump());
    };
    const auto count = [](const nlohmann::json& j) { return std::to_string(j.get<std::uint64_t>()); };
    const auto millis = [](const nlohmann::json& j) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.2fms", j.get<double>());
        return std::string(buf);
    };
    // A real-time run (meshsim serve) keeps no trace: no event count, no trace hash.
    const bool real_time = s.value("mode", std::string{}) == "real-time";
    std::string out = "scenario: " + text(s["scenario"]) + " (seed " + count(s["seed"]) + ", " +
                      (real_time ? text(s["virtual_time"]) + " real time)\n"
                                 : text(s["virtual_time"]) + " virtual, " + count(s["events"]) + " events)\n");
    for (const auto& [name, w] : s["workloads"].items()) {
        const auto& o = w["outcomes"];
        out += "workload " + printable(name) + ": " + count(w["arrivals"]) + " sent, " + count(o["ok"]) + " ok, " +
               count(o["failed"]) + " failed, p50 " + millis(w["latency"]["p50_ms"]) + " p99 " +
               millis(w["latency"]["p99_ms"]) + "\n";
    }
    for (const auto& c : s["checks"]) {
        out += std::string(c["passed"].get<bool>() ? "  ok    " : "  FAIL  ") + text(c["label"]) + ": expected " +
               text(c["expected"]) + "; measured " + text(c["measured"]);
        if (!c["first_failed"].is_null()) out += "; first failed at " + text(c["first_failed"]);
        out += "\n";
    }
    out += real_time ? std::string("trace_hash: none (real time: no trace; a rerun gives other numbers)\n")
                     : "trace_hash=" + text(s["trace_hash"]) + "\n";
    const bool pass = s["verdict"].get<std::string>() == "pass";
    out += std::string("verdict: ") + (pass ? "PASS" : "FAIL") + "\n";
    if (!pass) out += "reproduce: " + text(s["reproduce"]) + "\n";
    return out;
}

}  // namespace meshsim::harness
