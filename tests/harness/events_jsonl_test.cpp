// events.jsonl: the --events levels (what each writes; the trace hash the same at
// every level), the named fields of each kind decoded from the canonical detail,
// and docs/outputs.md documenting every kind and every field the writer writes.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_testing.hpp"
#include "reports/events_jsonl.hpp"
#include "sim/kernel/simulation.hpp"

using namespace meshsim;
using namespace meshsim::testing;

namespace {

struct level_run {
    std::string hash;
    bool has_file = false;
    std::map<std::string, std::size_t> kinds;  // kind -> lines
    std::vector<nlohmann::json> lines;
};

// The flagship (a crash from 3 s to 6 s, outlier ejections) for 7 s at `level`.
level_run run_at(const scratch_dir& dir, const std::string& level) {
    const std::string out = "out-" + level;
    const cli_result r = run_meshsim({"run", source_path("scenarios/flagship.json").string(), "--until", "7s",
                                      "--events", level, "--out", out, "--quiet"},
                                     dir.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    level_run run;
    const std::size_t at = r.out.find("trace_hash=");
    REQUIRE(at != std::string::npos);
    run.hash = r.out.substr(at + 11, 16);
    run.has_file = fs::exists(dir / out / "events.jsonl");
    if (!run.has_file) return run;
    std::istringstream in(read_text(dir / out / "events.jsonl"));
    for (std::string line; std::getline(in, line);) {
        nlohmann::json j = nlohmann::json::parse(line);
        ++run.kinds[j["kind"].get<std::string>()];
        run.lines.push_back(std::move(j));
    }
    return run;
}

std::set<std::string> kind_names() {
    std::set<std::string> out;
    for (std::size_t i = 0; i < sim::event_kind_count; ++i) {
        out.insert(std::string(sim::to_string(static_cast<sim::event_kind>(i))));
    }
    return out;
}

// docs/outputs.md's entry of each event kind: from its "- `kind`" line to the next entry.
std::map<std::string, std::string> documented_kinds() {
    const std::string docs = read_text(source_path("docs/outputs.md"));
    const std::size_t section = docs.find("\n## events.jsonl");
    REQUIRE(section != std::string::npos);
    const std::size_t section_end = docs.find("\n## ", section + 1);
    const std::string text = docs.substr(section, section_end - section);
    std::map<std::string, std::string> entries;
    for (const std::string& kind : kind_names()) {
        const std::string head = "\n- `" + kind + "`";
        const std::size_t at = text.find(head);
        if (at == std::string::npos) continue;
        const std::size_t end = text.find("\n- `", at + 1);
        entries[kind] = text.substr(at, end - at);
    }
    return entries;
}

}  // namespace

TEST_CASE("the --events levels write what they say, and the trace hash is the same at every level",
          "[harness][events]") {
    const scratch_dir dir;
    const level_run none = run_at(dir, "none");
    const level_run summary = run_at(dir, "summary");
    const level_run requests = run_at(dir, "requests");
    const level_run all = run_at(dir, "all");
    CHECK(none.hash.size() == 16);
    CHECK(summary.hash == none.hash);
    CHECK(requests.hash == none.hash);
    CHECK(all.hash == none.hash);

    CHECK_FALSE(none.has_file);
    // Each level holds exactly its kinds (none missing that the run had, none extra).
    for (const level_run* run : {&summary, &requests, &all}) {
        for (const auto& [kind, n] : all.kinds) {
            const auto level = run == &summary    ? report::event_level::summary
                               : run == &requests ? report::event_level::requests
                                                  : report::event_level::all;
            CAPTURE(kind, report::to_string(level));
            bool written = false;
            for (std::size_t i = 0; i < sim::event_kind_count; ++i) {
                const auto ek = static_cast<sim::event_kind>(i);
                if (sim::to_string(ek) == kind) written = report::is_written(ek, level);
            }
            CHECK(run->kinds.count(kind) == (written ? 1u : 0u));
            if (written) CHECK(run->kinds.at(kind) == n);
        }
    }
    // Not vacuous: the run had each level's telling kinds.
    CHECK(summary.kinds.count("fault_start") == 1);
    CHECK(summary.kinds.count("node_crash") == 1);
    CHECK(summary.kinds.count("state") == 1);
    CHECK(summary.kinds.count("rpc_attempt") == 0);
    CHECK(requests.kinds.count("rpc_attempt") == 1);
    CHECK(requests.kinds.count("rpc_serve") == 1);
    CHECK(requests.kinds.count("msg_send") == 0);
    CHECK(all.kinds.count("msg_send") == 1);
    CHECK(all.kinds.count("fiber_start") == 1);
}

TEST_CASE("events.jsonl names each kind's fields, as docs/outputs.md documents them", "[harness][events]") {
    const scratch_dir dir;
    const level_run all = run_at(dir, "all");
    const std::map<std::string, std::string> docs = documented_kinds();
    // Every kind the code can emit has an entry, so the docs cannot drift from sim::event_kind.
    for (const std::string& kind : kind_names()) {
        CAPTURE(kind);
        CHECK(docs.count(kind) == 1);
    }
    // Every field written for a kind is named in the kind's entry.
    const std::set<std::string> common = {"t_ns", "t", "kind", "node"};
    std::set<std::string> checked;
    for (const nlohmann::json& line : all.lines) {
        const std::string kind = line["kind"];
        if (docs.count(kind) == 0) continue;
        for (const auto& [key, value] : line.items()) {
            if (common.count(key) || !checked.insert(kind + "." + key).second) continue;
            CAPTURE(kind, key);
            CHECK(docs.at(kind).find("`" + key + "`") != std::string::npos);
        }
    }
    CHECK(checked.size() > 40);  // not vacuous: the run wrote many kinds' fields
    // The fields the report builders rely on (CONTRACT.md B), by name.
    const std::map<std::string, std::vector<std::string>> required = {
        {"rpc_attempt",
         {"status", "attempt", "outcome", "reason", "correlation", "method", "path", "to", "sent_ns", "trace", "span",
          "parent"}},
        {"rpc_serve",
         {"status", "reason", "correlation", "method", "path", "from", "arrived_ns", "started_ns", "trace", "span",
          "parent"}},
        {"fault_start", {"id", "fault"}},
        {"fault_end", {"id", "fault"}},
        {"node_crash", {"incarnation"}},
        {"node_restart", {"incarnation"}},
        {"node_start", {"incarnation"}},
        {"state", {"component", "state"}},
    };
    for (const auto& [kind, keys] : required) {
        bool seen = false;
        for (const nlohmann::json& line : all.lines) {
            if (line["kind"] != kind) continue;
            seen = true;
            for (const std::string& key : keys) {
                CAPTURE(kind, key, line.dump());
                CHECK(line.contains(key));
            }
        }
        CAPTURE(kind);
        CHECK(seen);
    }
}

TEST_CASE("rpc details decode back to their fields, spaces and percent signs included", "[harness][events]") {
    sim::kernel::simulation sim({.seed = 1});
    const auto a = sim.add_node("caller one", [](sim::runtime&) {});
    const auto b = sim.add_node("callee", [](sim::runtime&) {});
    sim::kernel::node& n = sim.get_node(a);
    n.record_attempt({.status = 503,
                      .attempt = 2,
                      .outcome = "http_error",
                      .correlation_id = "c 1%",
                      .method = "GET",
                      .path = "/a path?q=1 2",
                      .reason = "queue_full",
                      .to = b,
                      .sent = sim::time_zero + std::chrono::milliseconds(5),
                      .trace_id = "0af7651916cd43dd8448eb211c80319c",
                      .span_id = "b7ad6b7169203331",
                      .parent_span_id = {}});
    sim.get_node(b).record_serve({.status = 503,
                                  .reason = "queue_full",
                                  .correlation_id = "c 1%",
                                  .method = "GET",
                                  .path = "/a path?q=1 2",
                                  .from = a,
                                  .arrived = sim::time_zero + std::chrono::milliseconds(6),
                                  .started = sim::time_zero + std::chrono::milliseconds(6),
                                  .trace_id = "0af7651916cd43dd8448eb211c80319c",
                                  .span_id = "00f067aa0ba902b7",
                                  .parent_span_id = "b7ad6b7169203331"});
    REQUIRE(sim.trace().events().size() == 2);
    const std::string caller = "caller one";
    const nlohmann::json attempt = report::event_to_json(sim.trace().events()[0], &caller);
    CHECK(attempt == nlohmann::json{{"t_ns", 0},
                                    {"t", "0s"},
                                    {"kind", "rpc_attempt"},
                                    {"node", "caller one"},
                                    {"status", 503},
                                    {"attempt", 2},
                                    {"outcome", "http_error"},
                                    {"reason", "queue_full"},
                                    {"correlation", "c 1%"},
                                    {"to", "callee"},
                                    {"sent_ns", 5000000},
                                    {"trace", "0af7651916cd43dd8448eb211c80319c"},
                                    {"span", "b7ad6b7169203331"},
                                    {"parent", "-"},
                                    {"method", "GET"},
                                    {"path", "/a path?q=1 2"}});
    const nlohmann::json served = report::event_to_json(sim.trace().events()[1], nullptr);
    CHECK(served["node"] == b);  // no name given: the node's number
    CHECK(served["from"] == "caller one");
    CHECK(served["arrived_ns"] == 6000000);
    CHECK(served["started_ns"] == 6000000);
    CHECK(served["parent"] == "b7ad6b7169203331");
    CHECK(served["correlation"] == "c 1%");
    CHECK(served["path"] == "/a path?q=1 2");
    CHECK(served["reason"] == "queue_full");
}

TEST_CASE("a detail that does not decode is written raw, never dropped", "[harness][events]") {
    const std::string node = "n";
    for (const auto& [kind, detail] : std::vector<std::pair<sim::event_kind, std::string>>{
             {sim::event_kind::rpc_attempt, "ok"},
             {sim::event_kind::rpc_attempt, "ok - - - notanumber t s p GET /x"},
             {sim::event_kind::rpc_serve, ""},
             {sim::event_kind::state, "no equals sign"},
             {sim::event_kind::state, "c=s =x"},
             {sim::event_kind::fault_start, "{not json"},
             {sim::event_kind::log, "event {broken"},
             {sim::event_kind::custom, "anything"}}) {
        CAPTURE(sim::to_string(kind), detail);
        const sim::trace_event e{sim::time_zero, kind, 0, 7, 9, detail};
        const nlohmann::json j = report::event_to_json(e, &node);
        CHECK(j["a"] == 7);
        CHECK(j["b"] == 9);
        if (!detail.empty()) CHECK(j["detail"] == detail);
    }
    // A state with fields: numbers as numbers, names as text.
    const sim::trace_event breaker{sim::time_zero,
                                   sim::event_kind::state,
                                   0,
                                   0,
                                   0,
                                   "breaker a->b=OPEN from=CLOSED failure_rate=62.5 slow_rate=0 calls=8"};
    CHECK(report::event_to_json(breaker, &node) == nlohmann::json{{"t_ns", 0},
                                                                  {"t", "0s"},
                                                                  {"kind", "state"},
                                                                  {"node", "n"},
                                                                  {"component", "breaker a->b"},
                                                                  {"state", "OPEN"},
                                                                  {"from", "CLOSED"},
                                                                  {"failure_rate", 62.5},
                                                                  {"slow_rate", 0},
                                                                  {"calls", 8}});
}

TEST_CASE("event levels parse only their names", "[harness][events]") {
    CHECK(report::parse_event_level("none") == report::event_level::none);
    CHECK(report::parse_event_level("summary") == report::event_level::summary);
    CHECK(report::parse_event_level("requests") == report::event_level::requests);
    CHECK(report::parse_event_level("all") == report::event_level::all);
    for (const char* bad : {"", "All", " all", "request", "everything", "0"}) {
        CAPTURE(bad);
        CHECK_FALSE(report::parse_event_level(bad));
    }
    CHECK(report::kinds_written(report::event_level::none) == 0);
    CHECK(report::kinds_written(report::event_level::all) == sim::every_event_kind);
}
