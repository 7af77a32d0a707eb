// `meshsim run --out DIR` writes the reports after summary.json, and `meshsim report
// DIR` writes the same bytes again from DIR's summary.json and events.jsonl; bad
// input is exit 2 with one line and leaves DIR as it was.
#include <set>

#include <catch2/catch.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "format_checks.hpp"
#include "harness/cli_testing.hpp"

using namespace meshsim::testing;
using json = nlohmann::json;

namespace {

const std::vector<std::string> report_names = {"report.html", "trace.json", "otlp.json"};

std::map<std::string, std::string> directory_contents(const fs::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::directory_iterator(dir)) {
        files[e.path().filename().string()] = fs::is_regular_file(e.path()) ? read_text(e.path()) : "<dir>";
    }
    return files;
}

// One run of basic.json into DIR/NAME with ARGS added; its contents.
std::map<std::string, std::string> run_into(const scratch_dir& dir, const std::string& name,
                                            const std::vector<std::string>& args = {}) {
    std::vector<std::string> argv = {"run", source_path("scenarios/basic.json").string(), "--out", name};
    argv.insert(argv.end(), args.begin(), args.end());
    const cli_result r = run_meshsim(argv, dir.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return directory_contents(dir / name);
}

}  // namespace

TEST_CASE("meshsim run writes the reports, says where, and meshsim report writes the same bytes", "[reports][cli]") {
    const scratch_dir dir;
    const cli_result r = run_meshsim({"run", source_path("scenarios/basic.json").string(), "--out", "o"}, dir.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.rfind("report: o/report.html\ntraces: o/trace.json (ui.perfetto.dev), o/otlp.json (Jaeger)\n", 0) == 0);
    const auto run = directory_contents(dir / "o");
    std::set<std::string> names;
    for (const auto& [name, text] : run) names.insert(name);
    CHECK(names == std::set<std::string>{"events.jsonl", "summary.json", "report.html", "trace.json", "otlp.json"});
    CHECK(check_chrome_trace(json::parse(run.at("trace.json"))).empty());
    CHECK(check_otlp(json::parse(run.at("otlp.json"))).empty());

    // The reports removed, then written again from the recorded files alone.
    for (const std::string& name : report_names) fs::remove(dir / "o" / name);
    const cli_result again = run_meshsim({"report", "o"}, dir.path());
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.err.empty());
    CHECK(again.out == "report: o/report.html\ntraces: o/trace.json (ui.perfetto.dev), o/otlp.json (Jaeger)\n");
    CHECK(directory_contents(dir / "o") == run);  // byte-identical, nothing else left behind

    // The same for a run with another seed, which gives other files.
    const auto other = run_into(dir, "p", {"--seed", "2"});
    CHECK(other.at("trace.json") != run.at("trace.json"));
    for (const std::string& name : report_names) fs::remove(dir / "p" / name);
    REQUIRE(run_meshsim({"report", "p"}, dir.path()).exit_code == 0);
    CHECK(directory_contents(dir / "p") == other);
}

TEST_CASE("run --report none writes no reports, and --events none gives reports from summary.json alone",
          "[reports][cli]") {
    const scratch_dir dir;
    const auto none = run_into(dir, "o", {"--report", "none"});
    CHECK(none.size() == 2);
    CHECK(none.count("summary.json") == 1);
    CHECK(none.count("events.jsonl") == 1);

    const auto summary_only = run_into(dir, "s", {"--events", "none"});
    CHECK(summary_only.size() == 4);
    CHECK(json::parse(summary_only.at("trace.json"))["otherData"].contains("missing"));
    for (const std::string& name : report_names) fs::remove(dir / "s" / name);
    const cli_result r = run_meshsim({"report", "s"}, dir.path());
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.rfind("no events.jsonl: the reports are built from summary.json alone\n", 0) == 0);
    CHECK(directory_contents(dir / "s") == summary_only);

    // A run into a directory with an earlier run's reports leaves none of them behind.
    const auto replaced = run_into(dir, "o", {"--report", "none", "--seed", "3"});
    CHECK(replaced.size() == 2);
}

TEST_CASE("meshsim report: bad input is exit 2 with one line and leaves the directory as it was", "[reports][cli]") {
    const scratch_dir dir;
    const auto good = run_into(dir, "good");
    const std::string& summary = good.at("summary.json");
    const std::string& events = good.at("events.jsonl");
    const std::size_t second_line = events.find('\n') + 1;
    struct bad_case {
        std::string name;
        std::map<std::string, std::string> files;  // written into DIR (absent: not written)
        std::string message;                       // stderr after "meshsim: error: "
    };
    json wrong_schema = json::parse(summary);
    wrong_schema["schema"] = "meshsim.summary/99";
    // Another run's events (another seed: the same kinds, other lines) and events cut at
    // a line boundary parse fine: only the count summary.json records tells them apart.
    const auto other = run_into(dir, "other", {"--seed", "2"});
    const std::string& other_events = other.at("events.jsonl");
    const std::uint64_t lines = json::parse(summary)["events_jsonl"]["lines"].get<std::uint64_t>();
    REQUIRE(lines == static_cast<std::uint64_t>(std::count(events.begin(), events.end(), '\n')));
    REQUIRE(std::count(other_events.begin(), other_events.end(), '\n') != static_cast<std::ptrdiff_t>(lines));
    const std::string cut = events.substr(0, events.rfind('\n', events.size() - 2) + 1);
    json bad_count = json::parse(summary);
    bad_count["events_jsonl"]["lines"] = -1;
    const bad_case cases[] = {
        {"no summary",
         {{"events.jsonl", events}},
         "report DIR: no summary.json (not the --out directory of a finished run)"},
        {"empty summary", {{"summary.json", ""}}, "report DIR/summary.json is empty"},
        {"truncated summary",
         {{"summary.json", summary.substr(0, summary.size() / 2)}},
         "report DIR/summary.json is not whole JSON (truncated or corrupt)"},
        {"summary not an object", {{"summary.json", "[1,2]"}}, "report DIR/summary.json is not a JSON object"},
        {"summary without schema",
         {{"summary.json", "{}"}},
         "report DIR/summary.json has no \"schema\": not a meshsim summary"},
        {"wrong schema",
         {{"summary.json", wrong_schema.dump()}},
         "report DIR/summary.json has schema \"meshsim.summary/99\"; meshsim report reads meshsim.summary/1 or "
         "meshsim.summary/2"},
        {"truncated events",
         {{"summary.json", summary}, {"events.jsonl", events.substr(0, second_line + 20)}},
         "report: DIR/events.jsonl ends inside line 2: truncated"},
        {"corrupt events",
         {{"summary.json", summary}, {"events.jsonl", events.substr(0, second_line) + "garbage\n" + events}},
         "report: DIR/events.jsonl line 2: not a JSON value (corrupt?)"},
        {"event not an object",
         {{"summary.json", summary}, {"events.jsonl", "[1]\n"}},
         "report: DIR/events.jsonl line 1: not a JSON object (corrupt?)"},
        {"event without t_ns",
         {{"summary.json", summary}, {"events.jsonl", "{\"t_ns\":\"1\",\"kind\":\"x\"}\n"}},
         "report: DIR/events.jsonl line 1: an event needs an integer \"t_ns\" and a string \"kind\" (corrupt?)"},
        {"events of another run",
         {{"summary.json", summary}, {"events.jsonl", other_events}},
         "report DIR: events.jsonl has " + std::to_string(std::count(other_events.begin(), other_events.end(), '\n')) +
             " lines but summary.json's run wrote " + std::to_string(lines) +
             ": they are not from the same run (or events.jsonl was cut short)"},
        {"events cut at a line boundary",
         {{"summary.json", summary}, {"events.jsonl", cut}},
         "report DIR: events.jsonl has " + std::to_string(lines - 1) + " lines but summary.json's run wrote " +
             std::to_string(lines) + ": they are not from the same run (or events.jsonl was cut short)"},
        {"events count not a count",
         {{"summary.json", bad_count.dump()}, {"events.jsonl", events}},
         "report DIR/summary.json: events_jsonl.lines is not a count"},
        {"empty line",
         {{"summary.json", summary}, {"events.jsonl", events.substr(0, second_line) + "\n"}},
         "report: DIR/events.jsonl line 2: not a JSON value (corrupt?)"},
    };
    for (const bad_case& c : cases) {
        INFO(c.name);
        const fs::path d = dir / "bad";
        fs::remove_all(d);
        fs::create_directory(d);
        for (const auto& [name, text] : c.files) write_text(d / name, text);
        write_text(d / "trace.json", "an earlier trace.json\n");
        const auto before = directory_contents(d);
        const cli_result r = run_meshsim({"report", "bad"}, dir.path());
        std::string expected = c.message;
        for (std::size_t at; (at = expected.find("DIR")) != std::string::npos;) expected.replace(at, 3, "bad");
        CHECK(r.exit_code == 2);
        CHECK(r.err == "meshsim: error: " + expected + "\n");
        CHECK(r.out.empty());
        CHECK(directory_contents(d) == before);  // nothing written, nothing half-written
    }

    fs::create_directories(dir / "summary-dir" / "summary.json");
    fs::create_directories(dir / "events-dir" / "events.jsonl");
    write_text(dir / "events-dir" / "summary.json", summary);
    write_text(dir / "a-file", "x");
    struct dir_case {
        std::string dir;
        std::string message;
    };
    const dir_case dir_cases[] = {
        {"", "report: expected a directory, got \"\""},
        {"missing", "report missing: no such directory"},
        {"a-file", "report a-file: not a directory"},
        {"summary-dir", "report summary-dir: cannot read summary.json"},
        {"events-dir", "report: events-dir/events.jsonl: cannot read: Is a directory"},
        {"bad\x1b[31mname", "report bad\\x1b[31mname: no such directory"},
        {"/proc/1", "report /proc/1: no summary.json (not the --out directory of a finished run)"},
    };
    for (const dir_case& c : dir_cases) {
        INFO(c.dir);
        const cli_result r = run_meshsim({"report", c.dir}, dir.path());
        CHECK(r.exit_code == 2);
        CHECK(r.err == "meshsim: error: " + c.message + "\n");
        CHECK(r.out.empty());
    }
    CHECK(!fs::exists(dir / "events-dir" / "trace.json"));

    const cli_result no_dir = run_meshsim({"report"}, dir.path());
    CHECK(no_dir.exit_code == 2);
    CHECK(no_dir.err.find("dir is required") != std::string::npos);
}

TEST_CASE("meshsim report into a read-only directory is exit 2 and writes nothing", "[reports][cli]") {
    const int status = std::system(
        "unshare -m sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" && umount \"$d\"; "
        "s=$?; rmdir \"$d\"; exit $s' > /dev/null 2>&1");
    if (status != 0) {
        WARN("skipped: unshare -m with a tmpfs mount is not permitted here (needs root or CAP_SYS_ADMIN)");
        return;
    }
    const scratch_dir dir;
    run_into(dir, "good", {"--events", "none"});
    fs::create_directory(dir / "ro");
    // Root ignores permission bits, so the directory is a read-only mount instead.
    const std::string script =
        "mount -t tmpfs -o size=1m tmpfs ro && cp good/summary.json ro/ && "
        "mount -o remount,ro ro && exec " +
        meshsim_command({"report", "ro"});
    const cli_result r = run_shell("exec unshare -m sh -c " + meshsim::harness::shell_quote(script), dir.path());
    CHECK(r.exit_code == 2);
    CHECK(r.err == "meshsim: error: report ro: cannot create files in the directory: Read-only file system\n");
    CHECK(r.out.empty());
}

TEST_CASE("real runs: trace.json nests and otlp.json has valid parents, and meshsim report gives the same bytes",
          "[reports][cli]") {
    for (const std::string scenario : {"circuit_breaker", "retry_storm_fails", "faults"}) {
        INFO(scenario);
        const scratch_dir dir;
        const cli_result r =
            run_meshsim({"run", source_path("scenarios/" + scenario + ".json").string(), "--out", "o"}, dir.path());
        INFO(r.err);
        REQUIRE((r.exit_code == 0 || r.exit_code == 1));
        const auto run = directory_contents(dir / "o");
        chrome_trace_counts t;
        const auto trace_problems = check_chrome_trace(json::parse(run.at("trace.json")), &t);
        CHECK(trace_problems.empty());
        if (!trace_problems.empty()) FAIL_CHECK(trace_problems.front());
        CHECK(t.complete > 100);
        CHECK(t.async_pairs > 100);
        CHECK(t.flows > 100);
        CHECK(t.counters > 10);  // queue depth per instance and bucket, from summary.json
        otlp_counts o;
        const auto otlp_problems = check_otlp(json::parse(run.at("otlp.json")), &o);
        CHECK(otlp_problems.empty());
        if (!otlp_problems.empty()) FAIL_CHECK(otlp_problems.front());
        CHECK(o.spans > 1000);
        CHECK(o.spans <= 10'000);
        CHECK(o.roots > 100);
        CHECK(o.server > 100);
        CHECK(o.client > o.roots);

        for (const std::string& name : report_names) fs::remove(dir / "o" / name);
        REQUIRE(run_meshsim({"report", "o"}, dir.path()).exit_code == 0);
        CHECK(directory_contents(dir / "o") == run);
    }
}
