// trace.json and otlp.json from hand-written events in the contract's format: each
// file valid as its tool reads it (format_checks.hpp), handler work on an instance
// serving two requests at once on two threads, flows from attempts to handlers,
// orphans left out, hostile input never a crash, a bounded sample on big runs, and
// the same bytes for the same input.
#include <sstream>

#include <catch2/catch.hpp>

#include "format_checks.hpp"
#include "harness/output_dir.hpp"
#include "reports/report_builder.hpp"
#include "reports/rpc_spans.hpp"

using namespace meshsim;
using namespace meshsim::testing;
using json = nlohmann::json;

namespace {

std::string hex(std::uint64_t value, int digits) {
    static const char* d = "0123456789abcdef";
    std::string out(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0 && value > 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = d[value & 15];
    return out;
}
std::string trace_id(std::uint64_t n) { return hex(0xabc0000000000000ull + n, 32); }
std::string span_id(std::uint64_t n) { return hex(0x5000000000000000ull + n, 16); }

json attempt(std::int64_t t, const std::string& node, const std::string& to, std::int64_t sent,
             const std::string& trace, const std::string& span, const std::string& parent, const std::string& outcome,
             int status, int attempt_number = 1, const std::string& reason = "-") {
    return {{"t_ns", t},          {"t", "x"},         {"kind", "rpc_attempt"},
            {"node", node},       {"status", status}, {"attempt", attempt_number},
            {"outcome", outcome}, {"reason", reason}, {"correlation", "c-" + trace.substr(28)},
            {"method", "GET"},    {"path", "/items"}, {"to", to},
            {"sent_ns", sent},    {"trace", trace},   {"span", span},
            {"parent", parent}};
}

json serve(std::int64_t t, const std::string& node, const std::string& from, std::int64_t arrived, std::int64_t started,
           const std::string& trace, const std::string& span, const std::string& parent, int status,
           const std::string& reason = "ok") {
    return {{"t_ns", t},        {"t", "x"},         {"kind", "rpc_serve"},   {"node", node},
            {"status", status}, {"reason", reason}, {"correlation", "-"},    {"method", "GET"},
            {"path", "/items"}, {"from", from},     {"arrived_ns", arrived}, {"started_ns", started},
            {"trace", trace},   {"span", span},     {"parent", parent}};
}

// client-buyers -> front-1 -> back-1 (a timeout, then a retry served while the first
// is still being served: two handlers at once on back-1), a rejection, an orphan, a
// crash, a fault and a breaker opening.
std::vector<json> fixture_events() {
    const std::string t1 = trace_id(1), t2 = trace_id(2), t3 = trace_id(3);
    return {
        {{"t_ns", 0}, {"t", "0s"}, {"kind", "node_start"}, {"node", "back-1"}, {"incarnation", 0}},
        attempt(3'000'000, "front-1", "back-1", 2'000'000, t1, span_id(2), span_id(11), "timeout", 0),
        {{"t_ns", 3'000'000},
         {"kind", "state"},
         {"node", "front-1"},
         {"component", "breaker front->back"},
         {"state", "open"},
         {"from", "closed"},
         {"failure_rate", 60.0},
         {"slow_rate", 0.0},
         {"calls", 10}},
        serve(3'900'000, "back-1", "front-1", 3'200'000, 3'300'000, t1, span_id(13), span_id(3), 200),
        attempt(4'000'000, "front-1", "back-1", 3'100'000, t1, span_id(3), span_id(11), "ok", 200, 2),
        serve(5'000'000, "back-1", "front-1", 2'100'000, 2'100'000, t1, span_id(12), span_id(2), 200),
        {{"t_ns", 5'500'000}, {"kind", "fault_start"}, {"node", "back-2"}, {"id", 1}, {"fault", "crash"}},
        {{"t_ns", 6'000'000}, {"kind", "node_crash"}, {"node", "back-2"}, {"incarnation", 1}},
        serve(6'500'000, "back-2", "front-1", 6'400'000, 6'400'000, t2, span_id(14), span_id(99), 200),  // orphan
        serve(7'000'000, "front-1", "client-buyers", 7'000'000, 7'000'000, t3, span_id(15), span_id(5), 503,
              "queue_full"),
        attempt(7'100'000, "client-buyers", "front-1", 6'900'000, t3, span_id(5), "-", "overloaded", 503, 1,
                "queue_full"),
        serve(8'800'000, "front-1", "client-buyers", 1'100'000, 1'200'000, t1, span_id(11), span_id(1), 200),
        attempt(9'000'000, "client-buyers", "front-1", 1'000'000, t1, span_id(1), "-", "ok", 200),
    };
}

json fixture_summary() {
    return json::parse(R"({
      "schema": "meshsim.summary/2", "verdict": "pass", "scenario": "fixture", "seed": 7,
      "trace_hash": "0123456789abcdef", "reproduce": "meshsim run fixture.json --seed 7",
      "virtual_time_ns": 10000000, "bucket_ns": 5000000, "warmup_ns": 0,
      "services": {
        "front": {"instances": {"front-1": {"series": [{"t_ns": 0, "queue_depth_max": 2},
                                                       {"t_ns": 5000000, "queue_depth_max": 0}]}}},
        "back": {"instances": {"back-1": {"series": [{"t_ns": 0, "queue_depth_max": 1}]},
                               "back-2": {"series": [{"t_ns": 0, "queue_depth_max": 0}]}}}
      },
      "edges": [{"from": "front", "to": "back",
                 "breaker_transitions": [{"t_ns": 3000000, "instance": "front-1", "to": "open"}]}],
      "faults": [{"kind": "crash", "service": "back", "instance": 2, "id": 1, "start_ns": 5500000, "end_ns": null}]
    })");
}

std::string build(std::unique_ptr<report::report_builder> (*make)(), const std::vector<json>& events,
                  const json& summary) {
    auto builder = make();
    for (const json& e : events) builder->add_event(e);
    std::ostringstream out;
    builder->write(summary, out);
    return out.str();
}

std::string problems_text(const std::vector<std::string>& problems) {
    std::string text;
    for (std::size_t i = 0; i < problems.size() && i < 20; ++i) text += problems[i] + "\n";
    return text;
}

}  // namespace

TEST_CASE("trace.json: valid for Perfetto, concurrent handlers on separate threads, flows to handlers",
          "[reports][trace]") {
    const std::string text = build(report::make_chrome_trace, fixture_events(), fixture_summary());
    const json doc = json::parse(text);
    chrome_trace_counts n;
    const auto problems = check_chrome_trace(doc, &n);
    INFO(problems_text(problems));
    CHECK(problems.empty());
    CHECK(n.complete == 4);     // the orphan's handler is left out
    CHECK(n.async_pairs == 7);  // 4 attempts, 2 queue waits, 1 fault
    CHECK(n.flows == 4);        // every attempt that reached a handler (the rejection too)
    CHECK(n.counters >= 4);     // queue depth (3 times) and the breaker (closed, open)
    CHECK(n.instants == 5);     // the run, node_start, state, fault_start, node_crash

    std::map<std::string, std::int64_t> tid_of_handler;  // span -> tid
    std::map<std::int64_t, std::string> thread_name;
    std::set<std::string> process_names;
    for (const json& e : doc["traceEvents"]) {
        if (e["ph"] == "X") tid_of_handler[e["args"]["span"]] = e["tid"];
        if (e["ph"] == "M" && e["name"] == "thread_name") thread_name[e["tid"]] = e["args"]["name"];
        if (e["ph"] == "M" && e["name"] == "process_name") process_names.insert(e["args"]["name"].get<std::string>());
    }
    CHECK(process_names == std::set<std::string>{"back", "client-buyers", "faults", "front"});
    // The two handlers back-1 ran at once are on two threads of back-1.
    const std::int64_t first = tid_of_handler.at(span_id(12)), second = tid_of_handler.at(span_id(13));
    CHECK(first != second);
    CHECK(thread_name.at(first) == "back-1");
    CHECK(thread_name.at(second) == "back-1 (2)");
    CHECK(tid_of_handler.count(span_id(14)) == 0);
    CHECK(doc["otherData"]["meshsim"]["seed"] == 7);
    CHECK(doc["otherData"]["meshsim"]["trace_hash"] == "0123456789abcdef");
    CHECK(doc["otherData"]["spans_seen"] == 9);
    CHECK(text.find("\"ts\":3300") != std::string::npos);  // virtual microseconds
}

TEST_CASE("otlp.json: resources per service, valid parents and ids, CLIENT and SERVER spans", "[reports][otlp]") {
    const std::string text = build(report::make_otlp_traces, fixture_events(), fixture_summary());
    const json doc = json::parse(text);
    otlp_counts n;
    const auto problems = check_otlp(doc, &n);
    INFO(problems_text(problems));
    CHECK(problems.empty());
    CHECK(n.resources == 3);  // back, client-buyers, front
    CHECK(n.spans == 8);      // 9 recorded, the orphan left out
    CHECK(n.roots == 2);
    CHECK(n.client == 4);
    CHECK(n.server == 4);
    CHECK(n.errors == 3);  // the timeout, the rejection on both sides
    const json& first = doc["resourceSpans"][0];
    CHECK(first["resource"]["attributes"][0] ==
          json::parse(R"({"key":"service.name","value":{"stringValue":"back"}})"));
    const json& span = first["scopeSpans"][0]["spans"][0];
    CHECK(span["startTimeUnixNano"] == "3200000");
    CHECK(span["endTimeUnixNano"] == "3900000");
    CHECK(span["parentSpanId"] == span_id(3));
    CHECK(span["events"][0]["name"] == "handler started");
}

TEST_CASE("trace.json and otlp.json: the same input gives the same bytes", "[reports][trace][otlp]") {
    for (auto make : {report::make_chrome_trace, report::make_otlp_traces}) {
        const std::string a = build(make, fixture_events(), fixture_summary());
        const std::string b = build(make, fixture_events(), fixture_summary());
        CHECK(a == b);
        CHECK(a.size() > 500);
    }
}

TEST_CASE("the format checkers find what they must", "[reports][trace][otlp]") {
    const json overlapping = json::parse(R"({"traceEvents":[
        {"ph":"M","name":"process_name","pid":1,"args":{"name":"a"}},
        {"ph":"M","name":"thread_name","pid":1,"tid":1,"args":{"name":"a-1"}},
        {"ph":"X","name":"x","pid":1,"tid":1,"ts":10,"dur":10},
        {"ph":"X","name":"y","pid":1,"tid":1,"ts":15,"dur":10},
        {"ph":"b","cat":"rpc","id":"1","name":"z","pid":1,"tid":1,"ts":1}],
        "otherData":{"meshsim":{"scenario":"s","seed":1,"trace_hash":"h"}}})");
    const auto p = check_chrome_trace(overlapping);
    REQUIRE(p.size() == 2);
    CHECK(p[0].find("overlap") != std::string::npos);
    CHECK(p[1].find("not one begin then one end") != std::string::npos);
    // The same slices nested are fine.
    json nested = overlapping;
    nested["traceEvents"][3]["dur"] = 5;
    nested["traceEvents"].erase(4);
    CHECK(check_chrome_trace(nested).empty());

    json otlp = json::parse(build(report::make_otlp_traces, fixture_events(), fixture_summary()));
    json& span = otlp["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    span["parentSpanId"] = "ffffffffffffffff";
    span["endTimeUnixNano"] = "1";
    const auto q = check_otlp(otlp);
    REQUIRE(q.size() == 2);
    CHECK(q[0].find("end >= start") != std::string::npos);
    CHECK(q[1].find("not in the file") != std::string::npos);
}

TEST_CASE("trace.json and otlp.json from summary.json alone say what is missing", "[reports][trace][otlp]") {
    const json trace = json::parse(build(report::make_chrome_trace, {}, fixture_summary()));
    CHECK(check_chrome_trace(trace).empty());
    CHECK(trace["otherData"]["missing"].get<std::string>().find("--events requests") != std::string::npos);
    const json otlp = json::parse(build(report::make_otlp_traces, {}, fixture_summary()));
    CHECK(check_otlp(otlp).empty());
    CHECK(otlp.dump().find("meshsim.missing") != std::string::npos);
}

TEST_CASE("the report builders survive hostile events and summaries", "[reports][trace][otlp]") {
    std::vector<json> events = fixture_events();
    events.push_back(json::array());
    events.push_back({{"t_ns", "soon"}, {"kind", "rpc_serve"}, {"trace", trace_id(4)}, {"span", span_id(1)}});
    events.push_back({{"t_ns", 5}, {"kind", "rpc_attempt"}, {"trace", "XYZ"}, {"span", span_id(1)}});
    events.push_back({{"t_ns", 5}, {"kind", "rpc_attempt"}, {"trace", trace_id(0) + "0"}, {"span", span_id(1)}});
    events.push_back({{"t_ns", -5}, {"kind", "node_crash"}, {"node", 12}});
    events.push_back({{"t_ns", 18446744073709551615ull}, {"kind", "state"}, {"node", "\xff\xfe"}});
    json bad_attempt = attempt(1, "x-1", "y-1", 2, trace_id(9), span_id(9), "-", "ok", 200);
    bad_attempt["status"] = "two hundred";
    bad_attempt["sent_ns"] = json::object();
    events.push_back(bad_attempt);
    for (const json& summary :
         {fixture_summary(), json::object(), json::parse(R"({"services": [], "edges": {}, "faults": "x"})"),
          json::parse(R"({"services": {"a": {"instances": {"a-1": {"series": [1, {"t_ns": "x"}]}}}},
                          "edges": [{"breaker_transitions": [{"instance": 3}, 7]}], "faults": [7, "{", {"id": []}],
                          "seed": [], "virtual_time_ns": "late"})")}) {
        for (auto make : {report::make_chrome_trace, report::make_otlp_traces, report::make_html_report}) {
            std::string text;
            REQUIRE_NOTHROW(text = build(make, events, summary));
            CHECK(!text.empty());
        }
        CHECK(check_chrome_trace(json::parse(build(report::make_chrome_trace, events, summary))).size() <= 3);
        CHECK(check_otlp(json::parse(build(report::make_otlp_traces, events, summary))).empty());
    }
}

TEST_CASE("a big run is sampled: whole traces, bounded, spread over the run, the same every time",
          "[reports][trace][otlp]") {
    // 60,000 traces of three spans each, 1 ms apart: 180,000 spans.
    std::vector<json> events;
    constexpr std::uint64_t traces = 60'000;
    const auto feed = [&](report::report_builder& b) {
        for (std::uint64_t i = 0; i < traces; ++i) {
            const std::int64_t t = static_cast<std::int64_t>(i) * 1'000'000;
            const std::string tr = trace_id(i + 1);
            const std::string c = span_id(3 * i + 1), s = span_id(3 * i + 2), d = span_id(3 * i + 3);
            b.add_event(attempt(t + 300, "front-1", "back-1", t + 100, tr, d, s, "ok", 200));
            b.add_event(serve(t + 500, "front-1", "client-buyers", t + 50, t + 60, tr, s, c, 200));
            b.add_event(attempt(t + 600, "client-buyers", "front-1", t, tr, c, "-", "ok", 200));
        }
    };
    auto otlp_builder = report::make_otlp_traces();
    feed(*otlp_builder);
    std::ostringstream otlp_text;
    otlp_builder->write(fixture_summary(), otlp_text);
    const json otlp = json::parse(otlp_text.str());
    otlp_counts n;
    CHECK(check_otlp(otlp, &n).empty());
    CHECK(n.spans <= 10'000);
    CHECK(n.spans >= 5'000);
    CHECK(n.spans % 3 == 0);  // whole traces
    CHECK(n.roots * 3 == n.spans);
    std::uint64_t last_start = 0;
    for (const json& rs : otlp["resourceSpans"]) {
        for (const json& s : rs["scopeSpans"][0]["spans"]) {
            last_start = std::max<std::uint64_t>(last_start, std::stoull(s["startTimeUnixNano"].get<std::string>()));
        }
    }
    CHECK(last_start > (traces - 1000) * 1'000'000);  // the end of the run is in the sample too
    CHECK(otlp_text.str().size() < 12'000'000);

    auto trace_builder = report::make_chrome_trace();
    feed(*trace_builder);
    std::ostringstream trace_text;
    trace_builder->write(fixture_summary(), trace_text);
    chrome_trace_counts c;
    CHECK(check_chrome_trace(json::parse(trace_text.str()), &c).empty());
    CHECK(c.complete == n.server);  // the same sample in both files
    CHECK(c.flows == n.server);

    auto again = report::make_otlp_traces();
    feed(*again);
    std::ostringstream again_text;
    again->write(fixture_summary(), again_text);
    CHECK(again_text.str() == otlp_text.str());
}

TEST_CASE("hex ids: the right length, lowercase, not all zeroes", "[reports]") {
    CHECK(report::is_hex_id(trace_id(1), 32));
    CHECK_FALSE(report::is_hex_id(trace_id(1), 16));
    CHECK_FALSE(report::is_hex_id(std::string(16, '0'), 16));
    CHECK_FALSE(report::is_hex_id("ABCDEF0123456789", 16));
    CHECK_FALSE(report::is_hex_id("", 16));
}

TEST_CASE("every report file is an output name the output directory manages", "[reports]") {
    std::set<std::string> names;
    for (const report::report_format& f : report::report_formats()) {
        CHECK(!f.what.empty());
        CHECK(f.make() != nullptr);
        names.insert(std::string(f.file_name));
    }
    CHECK(names == std::set<std::string>{"report.html", "trace.json", "otlp.json"});
    for (const std::string& name : names) {
        INFO(name);
        CHECK(std::find(std::begin(harness::output_names), std::end(harness::output_names), name) !=
              std::end(harness::output_names));
    }
}
