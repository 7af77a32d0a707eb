// report.html: one self-contained page per run (no network, opens from disk). This file
// builds the page's data: the summary's series as compact columns, the breaker/ejection
// state changes and node/fault events, and a bounded deterministic sample of whole
// request traces for the sequence diagram. reports/assets/report.{css,js} draw it.
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "reports/report_assets.hpp"  // generated from reports/assets/ by embed.cmake
#include "reports/report_builder.hpp"

namespace meshsim::report {

namespace {

using json = nlohmann::json;

// Bounds that keep a 20 M-event run's page small: the sample of request events (whole
// traces, chosen by a hash of the trace id so it spreads over the run), the events kept
// per trace, and the state / node / fault events listed.
constexpr std::size_t max_sampled_events = 16000;
constexpr std::size_t first_traces_kept = 40;  // every trace among the first seen is kept
constexpr std::size_t max_events_per_trace = 120;
constexpr std::size_t max_state_events = 3000;
constexpr std::size_t max_node_events = 3000;

std::uint64_t fnv1a(std::string_view text) {
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return h;
}

std::string text_field(const json& event, const char* key) {
    const auto it = event.find(key);
    if (it == event.end()) return "-";
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}

json number_field(const json& event, const char* key) {
    const auto it = event.find(key);
    if (it == event.end() || !it->is_number()) return nullptr;
    return *it;
}

std::string html_escaped(const std::string& text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

// A value rounded to a thousandth: series in milliseconds need no more, and the page
// stays small.
json compact_number(const json& value) {
    if (value.is_number_float()) {
        const double x = value.get<double>();
        if (!std::isfinite(x)) return nullptr;
        return std::round(x * 1000.0) / 1000.0;
    }
    return value;
}

// [{t_ns, arrivals, by_outcome: {ok: 3}}, ...] -> {t_ns: [...], arrivals: [...],
// by_outcome: {ok: [...]}}: one array per field (missing entries null), so a long series
// costs one number per bucket and field. t_ns is derived from the bucket when absent.
json columns(const json& series, const json& bucket_ns) {
    json out = json::object();
    if (!series.is_array()) return out;
    std::set<std::string> scalars;
    std::map<std::string, std::set<std::string>> nested;
    for (const json& row : series) {
        if (!row.is_object()) continue;
        for (const auto& [key, value] : row.items()) {
            if (value.is_object()) {
                for (const auto& [inner, unused] : value.items()) nested[key].insert(inner);
            } else {
                scalars.insert(key);
            }
        }
    }
    const bool derive_time =
        scalars.count("t_ns") == 0 && bucket_ns.is_number_unsigned() && bucket_ns.get<std::uint64_t>() > 0;
    if (derive_time) scalars.insert("t_ns");
    if (scalars.count("t_ns") != 0) scalars.erase("t");  // the label repeats t_ns
    for (const std::string& key : scalars) out[key] = json::array();
    for (const auto& [key, inners] : nested) {
        out[key] = json::object();
        for (const std::string& inner : inners) out[key][inner] = json::array();
    }
    std::uint64_t index = 0;
    for (const json& row : series) {
        const json empty = json::object();
        const json& r = row.is_object() ? row : empty;
        for (const std::string& key : scalars) {
            if (key == "t_ns" && derive_time) {
                out[key].push_back(index * bucket_ns.get<std::uint64_t>());
                continue;
            }
            const auto it = r.find(key);
            out[key].push_back(it == r.end() ? json(nullptr) : compact_number(*it));
        }
        for (const auto& [key, inners] : nested) {
            const auto it = r.find(key);
            for (const std::string& inner : inners) {
                json value = nullptr;
                if (it != r.end() && it->is_object() && it->contains(inner)) value = compact_number((*it)[inner]);
                out[key][inner].push_back(std::move(value));
            }
        }
        ++index;
    }
    return out;
}

// A flow (workload, endpoint, edge, instance) with its series as columns.
json compact_flow(const json& flow, const json& bucket_ns) {
    if (!flow.is_object()) return json::object();
    json out = json::object();
    for (const auto& [key, value] : flow.items()) {
        if (key == "series") {
            out["series"] = columns(value, bucket_ns);
        } else {
            out[key] = value;
        }
    }
    return out;
}

// Request events of a deterministic sample of traces. A trace is kept whole or not at
// all: the first traces seen, then those whose id hashes to 0 modulo 2^level, the level
// rising (and the traces that no longer qualify dropped) whenever the sample outgrows
// its bound. Any trace kept at a level qualified at every lower one, so none is partial.
class trace_sample {
public:
    void add(const json& event, bool attempt) {
        std::string key = text_field(event, "trace");
        if (key == "-") {
            const std::string correlation = text_field(event, "correlation");
            if (correlation == "-") return;
            key = "c:" + correlation;
        }
        if (!kept(key)) return;
        std::vector<json>& events = traces_[key];
        if (events.size() >= max_events_per_trace) {
            ++truncated_;
            return;
        }
        events.push_back(attempt ? attempt_row(event) : serve_row(event));
        ++size_;
        while (size_ > max_sampled_events && level_ < 60) raise_level();
    }

    json to_json() const {
        json traces = json::array();
        for (const auto& [key, events] : traces_) traces.push_back({key, events});
        return {{"names", names_}, {"traces", traces},       {"level", level_}, {"first_traces", first_traces_kept},
                {"events", size_}, {"truncated", truncated_}};
    }

private:
    bool kept(const std::string& key) {
        if (first_.count(key) != 0) return true;
        if (first_.size() < first_traces_kept && traces_.count(key) == 0) {
            first_.insert(key);
            return true;
        }
        return qualifies(key);
    }
    bool qualifies(const std::string& key) const {
        const std::uint64_t mask = (std::uint64_t{1} << level_) - 1;
        return (fnv1a(key) & mask) == 0;
    }
    void raise_level() {
        ++level_;
        for (auto it = traces_.begin(); it != traces_.end();) {
            if (first_.count(it->first) == 0 && !qualifies(it->first)) {
                size_ -= it->second.size();
                it = traces_.erase(it);
            } else {
                ++it;
            }
        }
    }
    // Repeated short strings (node names, paths, outcomes) as indexes into names_.
    std::size_t name(const std::string& text) {
        const auto [it, added] = name_index_.try_emplace(text, names_.size());
        if (added) names_.push_back(text);
        return it->second;
    }
    // ["a", t_ns, node, to, sent_ns, status, attempt, outcome, reason, method, path, correlation, span, parent]
    json attempt_row(const json& e) {
        return {"a",
                number_field(e, "t_ns"),
                name(text_field(e, "node")),
                name(text_field(e, "to")),
                number_field(e, "sent_ns"),
                number_field(e, "status"),
                number_field(e, "attempt"),
                name(text_field(e, "outcome")),
                name(text_field(e, "reason")),
                name(text_field(e, "method")),
                name(text_field(e, "path")),
                text_field(e, "correlation"),
                text_field(e, "span"),
                text_field(e, "parent")};
    }
    // ["s", t_ns, node, from, arrived_ns, started_ns, status, reason, method, path, correlation, span, parent]
    json serve_row(const json& e) {
        return {"s",
                number_field(e, "t_ns"),
                name(text_field(e, "node")),
                name(text_field(e, "from")),
                number_field(e, "arrived_ns"),
                number_field(e, "started_ns"),
                number_field(e, "status"),
                name(text_field(e, "reason")),
                name(text_field(e, "method")),
                name(text_field(e, "path")),
                text_field(e, "correlation"),
                text_field(e, "span"),
                text_field(e, "parent")};
    }

    std::map<std::string, std::vector<json>> traces_;
    std::set<std::string> first_;
    std::map<std::string, std::size_t> name_index_;
    json names_ = json::array();
    std::size_t size_ = 0;
    std::uint64_t truncated_ = 0;
    unsigned level_ = 0;
};

// An event without its time label and kind tag (the page has t_ns and the list's name).
json event_fields(const json& event) {
    json out = json::object();
    for (const auto& [key, value] : event.items()) {
        if (key != "t") out[key] = compact_number(value);
    }
    return out;
}

// An rpc_attempt of the older events.jsonl (a = status, b = attempt, detail = "<outcome>
// <correlation> <METHOD> <path>") with the named fields the sample reads.
json with_named_fields(const json& event) {
    json out = event;
    out["status"] = event.value("a", json(nullptr));
    out["attempt"] = event.value("b", json(nullptr));
    const std::string detail = text_field(event, "detail");
    std::vector<std::string> words(1);
    for (const char c : detail) {
        if (c == ' ') {
            words.emplace_back();
        } else {
            words.back() += c;
        }
    }
    words.resize(4, "-");
    out["outcome"] = words[0];
    out["correlation"] = words[1];
    out["method"] = words[2];
    out["path"] = words[3];
    return out;
}

// Summary faults are objects (schema 2) or JSON text (schema 1): always objects here.
json fault_objects(const json& faults) {
    json out = json::array();
    if (!faults.is_array()) return out;
    for (const json& f : faults) {
        if (f.is_string()) {
            json parsed = json::parse(f.get<std::string>(), nullptr, false);
            out.push_back(parsed.is_discarded() ? json{{"kind", f}} : parsed);
        } else {
            out.push_back(f);
        }
    }
    return out;
}

json page_data(const json& summary, const trace_sample& sample, const json& states, const json& nodes,
               const std::map<std::string, std::uint64_t>& event_counts, bool saw_events) {
    const auto get = [&](const char* key) { return summary.contains(key) ? summary[key] : json(nullptr); };
    const json bucket_ns = get("bucket_ns");
    json meta = json::object();
    for (const char* key :
         {"schema", "verdict", "scenario", "scenario_file", "scenario_hash", "seed", "trace_hash", "meshsim_version",
          "events", "virtual_time", "virtual_time_ns", "bucket", "bucket_ns", "warmup", "warmup_ns", "reproduce"}) {
        meta[key] = get(key);
    }
    // A 64-bit seed loses digits as a JavaScript number: the page shows it as text.
    if (meta["seed"].is_number()) meta["seed"] = meta["seed"].dump();
    meta["events_written"] = saw_events;
    meta["event_counts"] = event_counts;

    json workloads = json::object();
    if (summary.contains("workloads") && summary["workloads"].is_object()) {
        for (const auto& [name, flow] : summary["workloads"].items()) workloads[name] = compact_flow(flow, bucket_ns);
    }
    json services = json::object();
    if (summary.contains("services") && summary["services"].is_object()) {
        for (const auto& [name, service] : summary["services"].items()) {
            json s = {{"endpoints", json::array()}, {"instances", json::object()}};
            if (service.contains("queue_depth_max")) s["queue_depth_max"] = service["queue_depth_max"];
            if (service.contains("endpoints") && service["endpoints"].is_array()) {
                for (const json& endpoint : service["endpoints"]) {
                    s["endpoints"].push_back(compact_flow(endpoint, bucket_ns));
                }
            }
            if (service.contains("instances") && service["instances"].is_object()) {
                for (const auto& [node, instance] : service["instances"].items()) {
                    s["instances"][node] = compact_flow(instance, bucket_ns);
                }
            }
            services[name] = std::move(s);
        }
    }
    json edges = json::array();
    if (summary.contains("edges") && summary["edges"].is_array()) {
        for (const json& edge : summary["edges"]) edges.push_back(compact_flow(edge, bucket_ns));
    }
    json checks = json::array();
    if (summary.contains("checks") && summary["checks"].is_array()) {
        for (const json& check : summary["checks"]) {
            json c = check;
            if (c.is_object() && c.contains("lag_series")) c["lag_series"] = columns(c["lag_series"], nullptr);
            checks.push_back(std::move(c));
        }
    }
    return {{"meta", meta},
            {"faults", fault_objects(get("faults"))},
            {"workloads", workloads},
            {"services", services},
            {"edges", edges},
            {"checks", checks},
            {"states", states},
            {"nodes", nodes},
            {"sample", sample.to_json()}};
}

// JSON inside <script>: '<' only occurs in strings, where \u003c means the same and
// cannot close the element.
std::string script_safe(const std::string& json_text) {
    std::string out;
    out.reserve(json_text.size());
    for (const char c : json_text) {
        if (c == '<') {
            out += "\\u003c";
        } else {
            out += c;
        }
    }
    return out;
}

class html_report final : public report_builder {
public:
    void add_event(const nlohmann::json& event) override {
        saw_events_ = true;
        const std::string kind = text_field(event, "kind");
        ++event_counts_[kind];
        if (kind == "rpc_attempt" || kind == "rpc_serve") {
            if (!event.contains("outcome") && !event.contains("reason") && event.contains("detail")) {
                sample_.add(with_named_fields(event), kind == "rpc_attempt");
                return;
            }
            sample_.add(event, kind == "rpc_attempt");
        } else if (kind == "state") {
            keep(states_, event, max_state_events);
        } else if (kind == "fault_start" || kind == "fault_end" || kind.rfind("node_", 0) == 0 ||
                   kind == "fiber_exception") {
            keep(nodes_, event, max_node_events);
        }
    }

    void write(const nlohmann::json& summary, std::ostream& out) override {
        const json data = page_data(summary, sample_, states_, nodes_, event_counts_, saw_events_);
        const std::string scenario = html_escaped(text_field(summary, "scenario"));
        const std::string verdict = html_escaped(text_field(summary, "verdict"));
        out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            << "<title>meshsim " << scenario << ": " << verdict << "</title>\n<style>\n"
            << assets::report_css << "</style>\n</head>\n<body data-render=\"pending\">\n"
            << "<noscript><p>This report draws its charts with JavaScript; summary.json beside it holds the same "
               "numbers.</p></noscript>\n"
            << "<div id=\"app\"></div>\n<script type=\"application/json\" id=\"meshsim-data\">"
            << script_safe(data.dump(-1, ' ', false, json::error_handler_t::replace)) << "</script>\n<script>\n"
            << assets::report_js << "</script>\n</body></html>\n";
    }

private:
    static void keep(json& list, const json& event, std::size_t cap) {
        if (list.size() < cap) list.push_back(event_fields(event));
    }

    trace_sample sample_;
    json states_ = json::array();
    json nodes_ = json::array();
    std::map<std::string, std::uint64_t> event_counts_;
    bool saw_events_ = false;
};

}  // namespace

std::unique_ptr<report_builder> make_html_report() { return std::make_unique<html_report>(); }

}  // namespace meshsim::report
