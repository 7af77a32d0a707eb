// trace.json: the run in the Chrome Trace Event format, as ui.perfetto.dev opens it.
// A process per service (a workload's client is a service of its own), a thread per
// instance: handler work as complete slices ("X") on the instance's threads, one more
// thread ("lane") per request it served concurrently, so slices on a thread never
// overlap; each client attempt an async slice ("b"/"e") in its caller's process, with a
// flow arrow to the handler that served it; queueing as async slices; crashes,
// restarts, pauses and state changes (breakers, ejections) as instants; faults as
// async slices of a "faults" process; queue depth and breaker state as counters from
// summary.json. Timestamps are virtual microseconds (whole: nanoseconds floored, so
// slices that touch or nest still do). Requests are the sample of rpc_spans.hpp.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "reports/report_builder.hpp"
#include "reports/rpc_spans.hpp"

namespace meshsim::report {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_instants = 20'000;

std::int64_t micros(std::int64_t ns) { return ns >= 0 ? ns / 1000 : -((-ns + 999) / 1000); }

// "api-2" before "api-10".
bool natural_less(const std::string& a, const std::string& b) {
    const auto split = [](const std::string& s) {
        std::size_t i = s.size();
        while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9') --i;
        const std::string digits = s.substr(i);
        return std::make_tuple(s.substr(0, i), digits.size(), digits);
    };
    return split(a) < split(b);
}

struct natural_order {
    bool operator()(const std::string& a, const std::string& b) const { return natural_less(a, b); }
};

struct instant {
    std::int64_t t_ns;
    std::string kind, node;
    json args;
};

bool is_instant_kind(const std::string& kind) {
    static const std::set<std::string> kinds = {"node_start", "node_crash",  "node_restart",
                                                "node_pause", "node_resume", "fault_start",
                                                "fault_end",  "state",       "fiber_exception"};
    return kinds.count(kind) > 0;
}

int breaker_level(const std::string& state) {
    if (state == "open") return 2;
    if (state == "half_open") return 1;
    return 0;
}

std::string rpc_name(const rpc_span& s) { return s.method + " " + s.path; }

class chrome_trace final : public report_builder {
public:
    void add_event(const json& event) override {
        ++events_;
        if (std::optional<rpc_span> span = span_from_event(event)) {
            sample_.add(std::move(*span));
            return;
        }
        const auto kind = event.find("kind");
        if (kind == event.end() || !kind->is_string() || !is_instant_kind(kind->get<std::string>())) return;
        if (instants_.size() >= max_instants) {
            ++instants_dropped_;
            return;
        }
        instant i;
        i.t_ns = int_value(event, "t_ns", 0);
        i.kind = kind->get<std::string>();
        i.node = text_value(event, "node", "-");
        i.args = json::object();
        for (const auto& [key, value] : event.items()) {
            if (key != "t_ns" && key != "t" && key != "kind" && key != "node") i.args[key] = value;
        }
        instants_.push_back(std::move(i));
    }

    void write(const json& summary, std::ostream& out) override;

private:
    std::uint64_t events_ = 0;
    span_sample sample_;
    std::vector<instant> instants_;
    std::uint64_t instants_dropped_ = 0;
};

// Where every node's slices go: pids per service, tids per (instance, lane).
class track_layout {
public:
    track_layout(const node_directory& directory) : directory_(directory) {
        for (const auto& [service, nodes] : directory.instances()) {
            for (const std::string& node : nodes) nodes_[service].insert(node);
        }
    }
    void add_node(const std::string& node) {
        if (node.empty() || node == "-") return;
        nodes_[directory_.service_of(node)].insert(node);
    }
    // After every add_node.
    void number() {
        int pid = 1;
        for (auto& [service, nodes] : nodes_) pids_[service] = pid++;
        faults_pid_ = pid;
    }
    bool known(const std::string& node) const { return pids_.count(directory_.service_of(node)) > 0; }
    int pid(const std::string& node) const { return pids_.at(directory_.service_of(node)); }
    int service_pid(const std::string& service) const { return pids_.at(service); }
    int faults_pid() const { return faults_pid_; }
    // Lane 0 is the instance's own thread; `lanes_needed` is set before tids are read.
    void need_lanes(const std::string& node, std::size_t lanes) { lanes_[node] = std::max(lanes_[node], lanes); }
    void number_threads() {
        int tid = 1;
        for (auto& [service, nodes] : nodes_) {
            for (const std::string& node : nodes) {
                first_tid_[node] = tid;
                tid += static_cast<int>(std::max<std::size_t>(1, lanes_[node]));
            }
        }
    }
    int tid(const std::string& node, std::size_t lane) const { return first_tid_.at(node) + static_cast<int>(lane); }
    void metadata(std::vector<json>& events) const {
        for (const auto& [service, nodes] : nodes_) {
            const int p = pids_.at(service);
            events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", p}, {"args", {{"name", service}}}});
            events.push_back({{"ph", "M"}, {"name", "process_sort_index"}, {"pid", p}, {"args", {{"sort_index", p}}}});
            for (const std::string& node : nodes) {
                const std::size_t lanes = std::max<std::size_t>(1, lanes_.count(node) ? lanes_.at(node) : 1);
                for (std::size_t lane = 0; lane < lanes; ++lane) {
                    const int t = tid(node, lane);
                    const std::string name = lane == 0 ? node : node + " (" + std::to_string(lane + 1) + ")";
                    events.push_back(
                        {{"ph", "M"}, {"name", "thread_name"}, {"pid", p}, {"tid", t}, {"args", {{"name", name}}}});
                    events.push_back({{"ph", "M"},
                                      {"name", "thread_sort_index"},
                                      {"pid", p},
                                      {"tid", t},
                                      {"args", {{"sort_index", t}}}});
                }
            }
        }
        events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", faults_pid_}, {"args", {{"name", "faults"}}}});
        events.push_back(
            {{"ph", "M"}, {"name", "process_sort_index"}, {"pid", faults_pid_}, {"args", {{"sort_index", 0}}}});
    }

private:
    const node_directory& directory_;
    std::map<std::string, std::set<std::string, natural_order>> nodes_;  // service -> its nodes
    std::map<std::string, int> pids_;
    int faults_pid_ = 0;
    std::map<std::string, std::size_t> lanes_;
    std::map<std::string, int> first_tid_;
};

// Handler slices of one instance on the fewest lanes where none overlap: each takes
// the lowest lane free by its start (a lane is free once its last slice has ended).
std::map<const rpc_span*, std::size_t> assign_lanes(std::vector<const rpc_span*> served, std::size_t& lanes) {
    std::sort(served.begin(), served.end(), [](const rpc_span* a, const rpc_span* b) {
        return std::tuple(micros(a->work_start_ns), micros(a->end_ns), a->span) <
               std::tuple(micros(b->work_start_ns), micros(b->end_ns), b->span);
    });
    std::vector<std::int64_t> lane_end;
    std::map<const rpc_span*, std::size_t> lane_of;
    for (const rpc_span* s : served) {
        const std::int64_t start = micros(s->work_start_ns);
        std::size_t lane = 0;
        while (lane < lane_end.size() && lane_end[lane] > start) ++lane;
        if (lane == lane_end.size()) lane_end.push_back(0);
        lane_end[lane] = micros(s->end_ns);
        lane_of[s] = lane;
    }
    lanes = lane_end.size();
    return lane_of;
}

// (caller instance, callee service) -> [(t_ns, level)], from edges[].breaker_transitions.
std::map<std::pair<std::string, std::string>, std::vector<std::pair<std::int64_t, int>>> breaker_transitions(
    const json& summary) {
    std::map<std::pair<std::string, std::string>, std::vector<std::pair<std::int64_t, int>>> out;
    const auto edges = summary.find("edges");
    if (edges == summary.end() || !edges->is_array()) return out;
    for (const json& edge : *edges) {
        if (!edge.is_object() || !edge.contains("breaker_transitions") || !edge["breaker_transitions"].is_array()) {
            continue;
        }
        const std::string to = text_value(edge, "to", "?");
        for (const json& tr : edge["breaker_transitions"]) {
            if (!tr.is_object() || !tr.contains("instance") || !tr["instance"].is_string()) continue;
            const auto t = tr.find("t_ns");
            const auto state = tr.find("to");
            out[{tr["instance"].get<std::string>(), to}].emplace_back(
                t != tr.end() && t->is_number_integer() ? t->get<std::int64_t>() : 0,
                breaker_level(state != tr.end() && state->is_string() ? state->get<std::string>() : ""));
        }
    }
    return out;
}

json fault_list(const json& summary) {
    json faults = json::array();
    const auto it = summary.find("faults");
    if (it == summary.end() || !it->is_array()) return faults;
    for (const json& f : *it) {
        if (f.is_object()) {
            faults.push_back(f);
        } else if (f.is_string()) {
            json parsed = json::parse(f.get<std::string>(), nullptr, false);
            if (parsed.is_object()) faults.push_back(std::move(parsed));
        }
    }
    return faults;
}

void chrome_trace::write(const json& summary, std::ostream& out) {
    const node_directory directory(summary);
    const std::vector<const rpc_span*> spans = sample_.connected();
    const std::int64_t end_ns = int_value(summary, "virtual_time_ns", 0);

    const auto breaker_changes = breaker_transitions(summary);
    track_layout layout(directory);
    for (const rpc_span* s : spans) {
        layout.add_node(s->node);
        layout.add_node(s->peer);
    }
    for (const instant& i : instants_) layout.add_node(i.node);
    for (const auto& [instance, unused] : breaker_changes) layout.add_node(instance.first);
    layout.number();

    std::map<std::string, std::vector<const rpc_span*>> served_by;  // server node -> its handler slices
    std::set<std::string> client_spans;                             // the kept attempts
    std::set<std::string> served_attempts;                          // the kept attempts whose server span is kept
    for (const rpc_span* s : spans) {
        if (s->side == span_side::client) client_spans.insert(s->span);
    }
    for (const rpc_span* s : spans) {
        if (s->side != span_side::server) continue;
        served_by[s->node].push_back(s);
        if (client_spans.count(s->parent) > 0) served_attempts.insert(s->parent);
    }
    std::map<const rpc_span*, std::size_t> lane_of;
    for (const auto& [node, served] : served_by) {
        std::size_t lanes = 0;
        for (const auto& [span, lane] : assign_lanes(served, lanes)) lane_of[span] = lane;
        layout.need_lanes(node, lanes);
    }
    layout.number_threads();

    std::vector<json> events;
    layout.metadata(events);
    const json labels = run_labels(summary);
    json run_args = labels;
    run_args["events"] = events_;
    run_args["spans_seen"] = sample_.seen();
    run_args["spans_in_file"] = spans.size();
    if (sample_.seen() == 0) {
        run_args["missing"] =
            "no rpc_attempt/rpc_serve events: the run wrote no events.jsonl or wrote it at level none or summary "
            "(meshsim run --events requests adds them)";
    }
    events.push_back({{"ph", "i"},
                      {"s", "g"},
                      {"name", "meshsim run"},
                      {"ts", 0},
                      {"pid", layout.faults_pid()},
                      {"tid", 0},
                      {"args", run_args}});

    // Faults: one async slice each, from summary.json (it knows when each ended).
    for (const json& f : fault_list(summary)) {
        const std::string kind = text_value(f, "kind", "fault");
        const std::int64_t start = int_value(f, "start_ns", 0);
        const std::int64_t stop = int_value(f, "end_ns", std::max(start, end_ns));
        const std::string id = "fault-" + (f.contains("id") ? f["id"].dump() : std::to_string(events.size()));
        const std::string name = kind + (f.contains("service") ? " " + f["service"].dump() : "");
        json b = {{"ph", "b"}, {"cat", "fault"},      {"id", id}, {"name", name}, {"pid", layout.faults_pid()},
                  {"tid", 0},  {"ts", micros(start)}, {"args", f}};
        json e = {{"ph", "e"},
                  {"cat", "fault"},
                  {"id", id},
                  {"name", name},
                  {"pid", layout.faults_pid()},
                  {"tid", 0},
                  {"ts", micros(std::max(start, stop))}};
        events.push_back(std::move(b));
        events.push_back(std::move(e));
    }

    // Counters: queue depth per instance, breaker state per caller instance and callee.
    if (const auto services = summary.find("services"); services != summary.end() && services->is_object()) {
        for (const auto& [service, s] : services->items()) {
            if (!s.is_object() || !s.contains("instances") || !s["instances"].is_object()) continue;
            std::map<std::int64_t, json> by_time;
            for (const auto& [node, instance] : s["instances"].items()) {
                if (!instance.is_object() || !instance.contains("series") || !instance["series"].is_array()) continue;
                for (const json& row : instance["series"]) {
                    if (!row.is_object() || !row.contains("queue_depth_max") || !row["queue_depth_max"].is_number()) {
                        continue;
                    }
                    by_time[int_value(row, "t_ns", 0)][node] = row["queue_depth_max"];
                }
            }
            if (by_time.empty()) continue;
            const int p = layout.service_pid(service);
            for (const auto& [t, args] : by_time) {
                events.push_back({{"ph", "C"},
                                  {"name", "queue depth max"},
                                  {"pid", p},
                                  {"tid", 0},
                                  {"ts", micros(t)},
                                  {"args", args}});
            }
        }
    }
    for (const auto& [key, changes] : breaker_changes) {
        const auto& [instance, to] = key;
        const std::string name = "breaker " + instance + " -> " + to + " (0 closed, 1 half open, 2 open)";
        events.push_back({{"ph", "C"},
                          {"name", name},
                          {"pid", layout.pid(instance)},
                          {"tid", 0},
                          {"ts", 0},
                          {"args", {{"state", 0}}}});
        for (const auto& [t, level] : changes) {
            events.push_back({{"ph", "C"},
                              {"name", name},
                              {"pid", layout.pid(instance)},
                              {"tid", 0},
                              {"ts", micros(t)},
                              {"args", {{"state", level}}}});
        }
    }

    // Instants: on their node's process, or the whole trace for faults.
    for (const instant& i : instants_) {
        const bool global = i.kind == "fault_start" || i.kind == "fault_end" || !layout.known(i.node);
        std::string name = i.kind + " " + i.node;
        if (i.kind == "state" && i.args.contains("component") && i.args.contains("state")) {
            name = i.args["component"].dump() + " " + i.args["state"].dump();
        } else if (global && i.args.contains("fault")) {
            name = i.kind + " " + i.args["fault"].dump();
        }
        json args = i.args;
        args["node"] = i.node;
        json e = {{"ph", "i"}, {"name", name}, {"cat", i.kind}, {"ts", micros(i.t_ns)}, {"args", args}};
        if (global) {
            e["s"] = "g";
            e["pid"] = layout.faults_pid();
            e["tid"] = 0;
        } else {
            e["s"] = "p";
            e["pid"] = layout.pid(i.node);
            e["tid"] = layout.tid(i.node, 0);
        }
        events.push_back(std::move(e));
    }

    // Requests: the client attempts, the queueing and the handler work of the sample.
    for (const rpc_span* s : spans) {
        const int p = layout.pid(s->node);
        json args = {{"trace", s->trace},
                     {"span", s->span},
                     {"status", s->status},
                     {"reason", s->reason},
                     {"correlation", s->correlation}};
        if (s->side == span_side::client) {
            const std::string name = rpc_name(*s) + " -> " + s->peer;
            args["outcome"] = s->outcome;
            args["attempt"] = s->attempt;
            json b = {{"ph", "b"},
                      {"cat", "rpc"},
                      {"id", s->span},
                      {"name", name},
                      {"pid", p},
                      {"tid", layout.tid(s->node, 0)},
                      {"ts", micros(s->start_ns)},
                      {"args", args}};
            if (served_attempts.count(s->span) > 0) {
                b["bind_id"] = s->span;
                b["flow_out"] = true;
            }
            events.push_back(std::move(b));
            events.push_back({{"ph", "e"},
                              {"cat", "rpc"},
                              {"id", s->span},
                              {"name", name},
                              {"pid", p},
                              {"tid", layout.tid(s->node, 0)},
                              {"ts", micros(s->end_ns)}});
            continue;
        }
        args["from"] = s->peer;
        args["queued_us"] = micros(s->work_start_ns) - micros(s->start_ns);
        if (s->work_start_ns > s->start_ns) {
            const std::string name = "queued " + rpc_name(*s);
            events.push_back({{"ph", "b"},
                              {"cat", "queue"},
                              {"id", s->span},
                              {"name", name},
                              {"pid", p},
                              {"tid", layout.tid(s->node, 0)},
                              {"ts", micros(s->start_ns)}});
            events.push_back({{"ph", "e"},
                              {"cat", "queue"},
                              {"id", s->span},
                              {"name", name},
                              {"pid", p},
                              {"tid", layout.tid(s->node, 0)},
                              {"ts", micros(s->work_start_ns)}});
        }
        const bool rejected = s->reason != "ok" && s->reason != "handler";
        const std::string name = (rejected ? "rejected " + s->reason + ": " : std::string()) + rpc_name(*s);
        json x = {{"ph", "X"},
                  {"cat", rejected ? "rejected" : "handler"},
                  {"name", name},
                  {"pid", p},
                  {"tid", layout.tid(s->node, lane_of.at(s))},
                  {"ts", micros(s->work_start_ns)},
                  {"dur", micros(s->end_ns) - micros(s->work_start_ns)},
                  {"args", args}};
        if (client_spans.count(s->parent) > 0) {
            x["bind_id"] = s->parent;
            x["flow_in"] = true;
        }
        events.push_back(std::move(x));
    }

    json other = {{"meshsim", labels},
                  {"events", events_},
                  {"spans_seen", sample_.seen()},
                  {"spans_in_file", spans.size()},
                  {"sample", "every span of the first " + std::to_string(sample_.sample_limits().first_traces) +
                                 " traces, then whole traces chosen by a hash of their id, at most " +
                                 std::to_string(sample_.sample_limits().max_spans) + " spans (about 1 in " +
                                 std::to_string(sample_.one_in()) + " traces)"}};
    if (run_args.contains("missing")) other["missing"] = run_args["missing"];
    if (instants_dropped_ > 0) other["instants_dropped"] = instants_dropped_;

    const auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
    out << "{\"traceEvents\":[\n";
    for (std::size_t i = 0; i < events.size(); ++i) out << dump(events[i]) << (i + 1 < events.size() ? ",\n" : "\n");
    out << "],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":" << dump(other) << "}\n";
}

}  // namespace

std::unique_ptr<report_builder> make_chrome_trace() { return std::make_unique<chrome_trace>(); }

}  // namespace meshsim::report
