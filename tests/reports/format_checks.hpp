// Checkers for the report formats, used on hand-written fixtures and on real runs:
// each returns the problems it found (empty: the file is valid), so a test can show
// them all, and a checker's own test can show it finds what it must.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshsim::testing {

inline bool is_lower_hex(const std::string& s, std::size_t digits) {
    return s.size() == digits && s.find_first_not_of("0123456789abcdef") == std::string::npos &&
           s.find_first_not_of('0') != std::string::npos;
}

struct chrome_trace_counts {
    std::size_t complete = 0, async_pairs = 0, flows = 0, instants = 0, counters = 0, threads = 0;
};

// The Chrome Trace Event format as Perfetto's JSON importer reads it: every slice on a
// thread nests (a slice either ends by the next one's start or contains it), every
// async begin has its one end, later, every flow start its one end, every process and
// thread that has slices a name, timestamps whole microseconds, the run's labels.
inline std::vector<std::string> check_chrome_trace(const nlohmann::json& doc, chrome_trace_counts* counts = nullptr) {
    std::vector<std::string> problems;
    chrome_trace_counts n;
    if (!doc.is_object() || !doc.contains("traceEvents") || !doc["traceEvents"].is_array()) {
        return {"no traceEvents array"};
    }
    const auto& other = doc.value("otherData", nlohmann::json::object());
    for (const char* key : {"scenario", "seed", "trace_hash"}) {
        if (!other.contains("meshsim") || !other["meshsim"].contains(key)) {
            problems.push_back(std::string("otherData.meshsim has no ") + key);
        }
    }
    std::map<std::pair<std::int64_t, std::int64_t>, std::vector<std::pair<std::int64_t, std::int64_t>>> slices;
    std::map<std::tuple<std::int64_t, std::string, std::string, std::string>,
             std::vector<std::pair<char, std::int64_t>>>
        async;
    std::map<std::string, std::pair<int, int>> flows;  // bind_id -> (outs, ins)
    std::set<std::int64_t> named_pids, used_pids;
    std::set<std::pair<std::int64_t, std::int64_t>> named_threads;
    for (const auto& e : doc["traceEvents"]) {
        if (!e.is_object() || !e.contains("ph") || !e["ph"].is_string() || !e.contains("pid") ||
            !e["pid"].is_number_integer()) {
            problems.push_back("an event without ph or pid: " + e.dump());
            continue;
        }
        const std::string ph = e["ph"];
        const std::int64_t pid = e["pid"];
        const std::int64_t tid = e.value("tid", std::int64_t{-1});
        if (ph == "M") {
            if (e["name"] == "process_name") named_pids.insert(pid);
            if (e["name"] == "thread_name") named_threads.insert({pid, tid});
            continue;
        }
        used_pids.insert(pid);
        if (!e.contains("ts") || !e["ts"].is_number_integer()) {
            problems.push_back("ts is not whole microseconds: " + e.dump());
            continue;
        }
        const std::int64_t ts = e["ts"];
        if (e.contains("bind_id")) {
            const std::string id = e["bind_id"].is_string() ? e["bind_id"].get<std::string>() : e["bind_id"].dump();
            if (e.value("flow_out", false)) ++flows[id].first;
            if (e.value("flow_in", false)) ++flows[id].second;
        }
        if (ph == "X") {
            if (!e.contains("dur") || !e["dur"].is_number_integer() || e["dur"].get<std::int64_t>() < 0) {
                problems.push_back("X without a whole dur >= 0: " + e.dump());
                continue;
            }
            if (!named_threads.count({pid, tid}) && tid < 0) problems.push_back("X without tid: " + e.dump());
            slices[{pid, tid}].emplace_back(ts, ts + e["dur"].get<std::int64_t>());
            ++n.complete;
        } else if (ph == "b" || ph == "e") {
            if (!e.contains("id") || !e["id"].is_string() || !e.contains("name") || !e["name"].is_string()) {
                problems.push_back("async event without a string id and name: " + e.dump());
                continue;
            }
            async[{pid, e.value("cat", std::string()), e["id"].get<std::string>(), e["name"].get<std::string>()}]
                .emplace_back(ph[0], ts);
        } else if (ph == "i") {
            ++n.instants;
        } else if (ph == "C") {
            if (!e.contains("args") || !e["args"].is_object() || e["args"].empty()) {
                problems.push_back("counter without args: " + e.dump());
            }
            ++n.counters;
        } else {
            problems.push_back("unexpected phase " + ph);
        }
    }
    for (const std::int64_t pid : used_pids) {
        if (!named_pids.count(pid)) problems.push_back("pid " + std::to_string(pid) + " has no process_name");
    }
    for (auto& [thread, list] : slices) {
        if (!named_threads.count(thread)) {
            problems.push_back("thread " + std::to_string(thread.second) + " has slices but no thread_name");
        }
        std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
            return a.first != b.first ? a.first < b.first : a.second > b.second;
        });
        std::vector<std::int64_t> open_ends;
        for (const auto& [start, end] : list) {
            while (!open_ends.empty() && open_ends.back() <= start) open_ends.pop_back();
            if (!open_ends.empty() && end > open_ends.back()) {
                problems.push_back("slices overlap without nesting on pid " + std::to_string(thread.first) + " tid " +
                                   std::to_string(thread.second) + " at ts " + std::to_string(start));
            }
            open_ends.push_back(end);
        }
    }
    for (const auto& [key, list] : async) {
        const std::string what = "async slice " + std::get<3>(key) + " id " + std::get<2>(key);
        if (list.size() != 2 || list[0].first != 'b' || list[1].first != 'e') {
            problems.push_back(what + ": not one begin then one end");
        } else if (list[1].second < list[0].second) {
            problems.push_back(what + ": ends before it begins");
        } else {
            ++n.async_pairs;
        }
    }
    for (const auto& [id, ends] : flows) {
        if (ends.first != 1 || ends.second != 1) {
            problems.push_back("flow " + id + ": " + std::to_string(ends.first) + " starts, " +
                               std::to_string(ends.second) + " ends");
        } else {
            ++n.flows;
        }
    }
    n.threads = named_threads.size();
    if (counts != nullptr) *counts = n;
    return problems;
}

struct otlp_counts {
    std::size_t resources = 0, spans = 0, roots = 0, client = 0, server = 0, errors = 0;
};

// OTLP/JSON ExportTraceServiceRequest as Jaeger reads it: resources with service.name;
// ids lowercase hex of the right length, span ids unique; a parentSpanId is absent (a
// root) or names a span of the same trace in the file; times strings of nanoseconds,
// end >= start; kinds CLIENT or SERVER; the attributes the docs promise.
inline std::vector<std::string> check_otlp(const nlohmann::json& doc, otlp_counts* counts = nullptr) {
    std::vector<std::string> problems;
    otlp_counts n;
    if (!doc.is_object() || !doc.contains("resourceSpans") || !doc["resourceSpans"].is_array()) {
        return {"no resourceSpans array"};
    }
    std::map<std::string, std::string> trace_of;               // span id -> trace id
    std::vector<std::pair<std::string, std::string>> parents;  // (span's trace, parent id)
    std::set<std::string> services;
    for (const auto& rs : doc["resourceSpans"]) {
        ++n.resources;
        std::string service;
        for (const auto& a : rs["resource"]["attributes"]) {
            if (a["key"] == "service.name") service = a["value"]["stringValue"];
        }
        if (service.empty()) problems.push_back("a resource without service.name");
        if (!services.insert(service).second) problems.push_back("two resources for service " + service);
        for (const auto& ss : rs["scopeSpans"]) {
            for (const auto& s : ss["spans"]) {
                ++n.spans;
                const std::string trace = s.value("traceId", std::string());
                const std::string span = s.value("spanId", std::string());
                if (!is_lower_hex(trace, 32)) problems.push_back("traceId not 32 hex: " + trace);
                if (!is_lower_hex(span, 16)) problems.push_back("spanId not 16 hex: " + span);
                if (!trace_of.emplace(span, trace).second) problems.push_back("spanId twice: " + span);
                const std::string parent = s.value("parentSpanId", std::string());
                if (parent.empty()) {
                    ++n.roots;
                } else if (!is_lower_hex(parent, 16)) {
                    problems.push_back("parentSpanId not 16 hex: " + parent);
                } else {
                    parents.emplace_back(trace, parent);
                }
                const int kind = s.value("kind", 0);
                if (kind == 2) ++n.server;
                if (kind == 3) ++n.client;
                if (kind != 2 && kind != 3) problems.push_back("kind neither SERVER nor CLIENT: " + span);
                if (!s.contains("startTimeUnixNano") || !s["startTimeUnixNano"].is_string() ||
                    !s.contains("endTimeUnixNano") || !s["endTimeUnixNano"].is_string()) {
                    problems.push_back("times not strings: " + span);
                    continue;
                }
                const std::string start = s["startTimeUnixNano"], end = s["endTimeUnixNano"];
                if (start.empty() || end.empty() || start.find_first_not_of("0123456789") != std::string::npos ||
                    end.find_first_not_of("0123456789") != std::string::npos || std::stoull(end) < std::stoull(start)) {
                    problems.push_back("times not nanoseconds with end >= start: " + span);
                }
                if (s.value("name", std::string()).empty()) problems.push_back("a span without a name: " + span);
                const int code = s.contains("status") ? s["status"].value("code", 0) : 0;
                if (code == 2) ++n.errors;
                std::set<std::string> keys;
                for (const auto& a : s.value("attributes", nlohmann::json::array())) keys.insert(a.value("key", ""));
                for (const char* key :
                     {"http.method", "http.route", "meshsim.outcome", "meshsim.reason", "meshsim.correlation_id"}) {
                    if (!keys.count(key)) problems.push_back(std::string("no attribute ") + key + ": " + span);
                }
            }
        }
    }
    for (const auto& [trace, parent] : parents) {
        const auto it = trace_of.find(parent);
        if (it == trace_of.end()) {
            problems.push_back("parentSpanId " + parent + " is not in the file");
        } else if (it->second != trace) {
            problems.push_back("parentSpanId " + parent + " is of another trace");
        }
    }
    if (counts != nullptr) *counts = n;
    return problems;
}

}  // namespace meshsim::testing
