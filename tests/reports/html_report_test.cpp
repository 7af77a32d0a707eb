// report.html's builder (reports/html.cpp): the page is one file with nothing to fetch,
// names from input cannot close its script, the request sample keeps whole traces and
// stays bounded on a long run, a run without events says so, and the same input gives
// the same bytes. tests/browser/ opens the page in Chromium.
#include <sstream>

#include <catch2/catch.hpp>

#include "reports/report_builder.hpp"

using namespace meshsim;
using json = nlohmann::json;

namespace {

std::string build(const std::vector<json>& events, const json& summary) {
    auto builder = report::make_html_report();
    for (const json& e : events) builder->add_event(e);
    std::ostringstream out;
    builder->write(summary, out);
    return out.str();
}

// The page's data blob, parsed back.
json page_data(const std::string& page) {
    const std::string open = "<script type=\"application/json\" id=\"meshsim-data\">";
    const auto begin = page.find(open);
    REQUIRE(begin != std::string::npos);
    const auto end = page.find("</script>", begin);
    REQUIRE(end != std::string::npos);
    return json::parse(page.substr(begin + open.size(), end - begin - open.size()));
}

std::string trace_of(std::uint64_t n) {
    std::string hex = std::to_string(n);
    return std::string(32 - hex.size(), '0') + hex;
}

// One trace: a client's attempt, the server's serve (its span is the attempt's child).
std::vector<json> request(std::uint64_t n, std::int64_t t) {
    const std::string trace = trace_of(n), client = "c" + std::to_string(n), server = "s" + std::to_string(n);
    return {{{"t_ns", t + 2},
             {"kind", "rpc_serve"},
             {"node", "api-1"},
             {"status", 200},
             {"reason", "ok"},
             {"correlation", "-"},
             {"method", "GET"},
             {"path", "/x"},
             {"from", "client"},
             {"arrived_ns", t + 1},
             {"started_ns", t + 1},
             {"trace", trace},
             {"span", server},
             {"parent", client}},
            {{"t_ns", t + 3},
             {"kind", "rpc_attempt"},
             {"node", "client"},
             {"status", 200},
             {"attempt", 1},
             {"outcome", "ok"},
             {"reason", "-"},
             {"correlation", "-"},
             {"method", "GET"},
             {"path", "/x"},
             {"to", "api-1"},
             {"sent_ns", t},
             {"trace", trace},
             {"span", client},
             {"parent", "-"}}};
}

json small_summary() {
    return {
        {"schema", "meshsim.summary/2"},
        {"verdict", "fail"},
        {"scenario", "demo"},
        {"seed", 3},
        {"trace_hash", "0123456789abcdef"},
        {"reproduce", "meshsim run demo.json --seed 3"},
        {"virtual_time_ns", 2000000000},
        {"bucket_ns", 1000000000},
        {"faults", json::array({{{"kind", "crash"},
                                 {"service", "api"},
                                 {"instance", 1},
                                 {"id", 1},
                                 {"start_ns", 500000000},
                                 {"end_ns", nullptr}}})},
        {"checks", json::array({{{"check", "slo"}, {"passed", false}, {"first_failed_ns", 700000000}}})},
        {"services",
         {{"api",
           {{"endpoints", json::array({{{"path", "/x"},
                                        {"series", json::array({{{"t_ns", 0}, {"arrivals", 5}, {"p99_ms", 1.23456789}},
                                                                {{"t_ns", 1000000000},
                                                                 {"arrivals", 7},
                                                                 {"by_outcome", {{"timeout", 2}}}}})}}})}}}}}};
}

}  // namespace

TEST_CASE("report.html is one page with its data, style and script inline and nothing to fetch", "[reports][html]") {
    const std::string page = build(request(1, 100), small_summary());
    CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(page.find("<style>") != std::string::npos);
    CHECK(page.find("data-render") != std::string::npos);  // the script's own marker, embedded
    CHECK(page.find(" src=") == std::string::npos);
    CHECK(page.find("<link") == std::string::npos);
    const json data = page_data(page);
    CHECK(data["meta"]["seed"] == "3");  // text: a 64-bit seed would lose digits as a JS number
    CHECK(data["meta"]["events_written"] == true);
    // Series become columns; a field a bucket lacks is null there; numbers rounded.
    const json& columns = data["services"]["api"]["endpoints"][0]["series"];
    CHECK(columns["arrivals"] == json::array({5, 7}));
    CHECK(columns["by_outcome"]["timeout"] == json::array({nullptr, 2}));
    CHECK(columns["p99_ms"][0] == 1.235);
    CHECK(data["faults"][0]["kind"] == "crash");
    CHECK(data["sample"]["traces"].size() == 1);
    CHECK(data["sample"]["traces"][0][1].size() == 2);
}

TEST_CASE("names from input cannot close the page's script or inject markup", "[reports][html]") {
    json summary = small_summary();
    summary["scenario"] = "</script><script>alert(1)</script><!--";
    summary["reproduce"] = "meshsim run '</script>.json'";
    std::vector<json> events = request(1, 0);
    events[0]["path"] = "/</script><img src=x onerror=alert(2)>";
    const std::string page = build(events, summary);
    CHECK(page.find("<script>alert") == std::string::npos);
    CHECK(page.find("<img") == std::string::npos);
    // Exactly the data script and the page's script.
    std::size_t closes = 0;
    for (auto at = page.find("</script>"); at != std::string::npos; at = page.find("</script>", at + 1)) ++closes;
    CHECK(closes == 2);
    const json data = page_data(page);  // and the names survive, unharmed
    CHECK(data["meta"]["scenario"] == "</script><script>alert(1)</script><!--");
}

TEST_CASE("a long run's page stays small: whole traces, a bounded sample spread over the run", "[reports][html]") {
    std::vector<json> events;
    constexpr std::uint64_t traces = 100000;  // 200,000 request events
    for (std::uint64_t n = 0; n < traces; ++n) {
        for (json& e : request(n, static_cast<std::int64_t>(n) * 1000000)) events.push_back(std::move(e));
    }
    json summary = small_summary();
    const std::string page = build(events, summary);
    CHECK(page.size() < 4000000);
    const json data = page_data(page);
    const json& sample = data["sample"];
    std::size_t kept = 0;
    std::int64_t latest = 0;
    for (const json& trace : sample["traces"]) {
        CHECK(trace[1].size() == 2);  // never a part of a trace
        kept += trace[1].size();
        latest = std::max(latest, trace[1][1][1].get<std::int64_t>());
    }
    CHECK(kept <= 16000);
    CHECK(kept >= 4000);                     // the bound is used, not thrown away
    CHECK(sample["level"].get<int>() >= 4);  // 1 in 16 or sparser
    CHECK(latest > 90000LL * 1000000);       // and reaches the end of the run
    CHECK(build(events, summary) == page);   // the same input, the same bytes
}

TEST_CASE("a run without events.jsonl gives a page from summary.json that says what is missing", "[reports][html]") {
    const json data = page_data(build({}, small_summary()));
    CHECK(data["meta"]["events_written"] == false);
    CHECK(data["sample"]["traces"].empty());
    CHECK(data["services"]["api"]["endpoints"][0]["series"]["arrivals"].size() == 2);
}

TEST_CASE("breaker windows, faults and node events are kept for the page, bounded", "[reports][html]") {
    std::vector<json> events;
    events.push_back(
        {{"t_ns", 5}, {"t", "5ns"}, {"kind", "fault_start"}, {"node", "api-1"}, {"id", 1}, {"fault", "crash"}});
    for (int i = 0; i < 5000; ++i) {
        events.push_back({{"t_ns", 10 + i},
                          {"kind", "state"},
                          {"node", "web-1"},
                          {"component", "breaker web->api"},
                          {"state", i % 2 == 0 ? "open" : "closed"},
                          {"failure_rate", 62.5},
                          {"calls", 16}});
    }
    const json data = page_data(build(events, small_summary()));
    CHECK(data["states"].size() == 3000);
    CHECK(data["states"][0]["failure_rate"] == 62.5);
    CHECK(data["states"][0]["calls"] == 16);
    CHECK(!data["states"][0].contains("t"));
    CHECK(data["nodes"].size() == 1);
    CHECK(data["meta"]["event_counts"]["state"] == 5000);
}
