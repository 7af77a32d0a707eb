// `meshsim sweep`, `meshsim merge` and `--set`: the same results for any --jobs and any
// sharding (a merge of the shards equals the unsharded sweep, times aside), junit.xml
// that XML readers accept even for a hostile scenario name, and every bad input exit 2
// with a message that says what is wrong.
#include <regex>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_testing.hpp"
#include "harness/chaos/junit.hpp"
#include "harness/chaos/set_flags.hpp"
#include "harness/chaos/sweep.hpp"

using namespace meshsim::testing;
namespace h = meshsim::harness;

namespace {

// The text with every time="..." attribute and every time field removed.
std::string without_times(const std::string& text) {
    static const std::regex times(R"re(time="[0-9.]+"|"(wall_s|time_s)": [0-9.e+-]+,?)re");
    return std::regex_replace(text, times, "");
}

nlohmann::json results_without_times(const fs::path& sweep_json) {
    nlohmann::json j = nlohmann::json::parse(read_text(sweep_json));
    for (auto& r : j["results"]) r.erase("wall_s");
    return j["results"];
}

bool xmllint_accepts(const fs::path& file) {
    if (std::system("command -v xmllint > /dev/null 2>&1") != 0) return true;  // not installed: skip
    return std::system(("xmllint --noout " + h::shell_quote(file.string()) + " 2> /dev/null").c_str()) == 0;
}

struct bad_case {
    std::vector<std::string> args;
    std::string message;  // stderr must contain it
};

}  // namespace

TEST_CASE("seed ranges and shards parse strictly", "[harness][sweep]") {
    std::string error;
    const auto range = h::parse_seed_range("5..9", error);
    REQUIRE(range);
    CHECK(range->first == 5);
    CHECK(range->count() == 5);
    CHECK(h::parse_seed_range("7", error)->count() == 1);
    CHECK(h::parse_seed_range("18446744073709551615..18446744073709551615", error));
    for (const char* bad : {"5..1", "1..", "..3", "a..b", "", "1...3", "-1..3", "1..18446744073709551616", "0..1000000",
                            " 1..2", "1..2 ", "0x1..2"}) {
        INFO(bad);
        CHECK_FALSE(h::parse_seed_range(bad, error));
        CHECK(error.find("--seeds") != std::string::npos);
    }
    CHECK(h::parse_seed_range("0..999999", error));  // exactly max_sweep_seeds
    for (const char* bad : {"3/2", "0/2", "1/0", "1-2", "/2", "2/", "1/2/3", "a/b", "1/100001", "", "-1/2"}) {
        INFO(bad);
        CHECK_FALSE(h::parse_shard(bad, error));
        CHECK(error.find("--shard") != std::string::npos);
    }
    const auto shard = h::parse_shard("2/3", error);
    REQUIRE(shard);
    CHECK(shard->index == 2);
}

TEST_CASE("the shards of a range are disjoint and cover it", "[harness][sweep]") {
    for (std::uint64_t n = 1; n <= 9; ++n) {
        for (const std::uint64_t count : {1u, 2u, 5u, 12u, 13u}) {
            const h::seed_range range{100, 100 + count - 1};
            std::multiset<std::uint64_t> all;
            for (std::uint64_t i = 1; i <= n; ++i) {
                for (const std::uint64_t s : h::shard_seeds(range, {i, n})) {
                    CHECK((s - range.first) % n == i - 1);
                    all.insert(s);
                }
            }
            CHECK(all.size() == count);
            CHECK(std::set<std::uint64_t>(all.begin(), all.end()).size() == count);
            CHECK(*all.begin() == range.first);
            CHECK(*all.rbegin() == range.last);
        }
    }
}

TEST_CASE("a sweep reports the same results for any --jobs and any sharding", "[harness][sweep][cli]") {
    const scratch_dir dir;
    const std::string file = source_path("scenarios/auth.json").string();
    const auto sweep = [&](const std::string& out, std::vector<std::string> extra) {
        std::vector<std::string> args = {"sweep", file, "--seeds", "1..12", "--out", out};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_meshsim(args, dir.path());
    };
    const cli_result one = sweep("j1", {"--jobs", "1"});
    const cli_result three = sweep("j3", {"--jobs", "3"});
    INFO(one.err << three.err);
    // auth.json fails seed 6 (goodput) and passes the others: a mixed sweep, so equal
    // results cannot come from everything passing or everything failing alike.
    CHECK(one.exit_code == 1);
    CHECK(three.exit_code == 1);
    const nlohmann::json results = results_without_times(dir / "j1/sweep.json");
    REQUIRE(results.size() == 12);
    std::set<std::string> hashes, verdicts;
    for (const auto& r : results) {
        hashes.insert(r["trace_hash"].get<std::string>());
        verdicts.insert(r["verdict"].get<std::string>());
    }
    CHECK(hashes.size() == 12);
    CHECK(verdicts == std::set<std::string>{"pass", "fail"});
    CHECK(results_without_times(dir / "j3/sweep.json") == results);
    CHECK(without_times(read_text(dir / "j3/junit.xml")) == without_times(read_text(dir / "j1/junit.xml")));
    CHECK(one.out.substr(one.out.find("auth:")) == three.out.substr(three.out.find("auth:")));

    std::vector<std::string> shard_dirs;
    for (int i = 1; i <= 3; ++i) {
        const std::string out = "s" + std::to_string(i);
        const cli_result r = sweep(out, {"--shard", std::to_string(i) + "/3", "--jobs", std::to_string(i)});
        CHECK((r.exit_code == 0 || r.exit_code == 1));
        CHECK(nlohmann::json::parse(read_text(dir / out / "sweep.json"))["results"].size() == 4);
        shard_dirs.push_back(out);
    }
    const cli_result merged = run_meshsim({"merge", "s3", "s1", "s2", "--out", "m"}, dir.path());
    INFO(merged.err);
    CHECK(merged.exit_code == 1);
    CHECK(results_without_times(dir / "m/sweep.json") == results);
    CHECK(without_times(read_text(dir / "m/junit.xml")) == without_times(read_text(dir / "j1/junit.xml")));
    CHECK(without_times(read_text(dir / "m/sweep.json")) == without_times(read_text(dir / "j1/sweep.json")));
    CHECK(xmllint_accepts(dir / "m/junit.xml"));

    // Each failing seed is listed with the command that replays it, which does.
    const std::string reproduce = results[5]["reproduce"].get<std::string>();
    CHECK(results[5]["verdict"] == "fail");
    CHECK(one.out.find("seed=6 FAIL") != std::string::npos);
    CHECK(one.out.find("reproduce: " + reproduce) != std::string::npos);
    const cli_result replay =
        run_shell("exec " + meshsim_command({"run", file, "--seed", "6", "--quiet", "--events", "none", "--out", "r"}),
                  dir.path());
    CHECK(replay.exit_code == 1);
    CHECK(replay.out.find("trace_hash=" + results[5]["trace_hash"].get<std::string>()) != std::string::npos);
}

TEST_CASE("junit.xml escapes a hostile scenario name and carries the failure", "[harness][sweep][cli]") {
    const scratch_dir dir;
    const std::string file = source_path("scenarios/retry_storm_fails.json").string();
    const std::string name = "a<b>&c\"d'e]]>f --\xc3\xa9";
    const cli_result r = run_meshsim(
        {"sweep", file, "--seeds", "3..4", "--jobs", "2", "--out", "o", "--set", "name=" + name}, dir.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 1);
    const std::string xml = read_text(dir / "o/junit.xml");
    CHECK(xml.find("classname=\"a&lt;b&gt;&amp;c&quot;d&apos;e]]&gt;f --\xc3\xa9\"") != std::string::npos);
    CHECK(xml.find("<testsuites name=\"meshsim sweep\" tests=\"2\" failures=\"2\" errors=\"0\"") != std::string::npos);
    CHECK(xml.find("<testcase name=\"seed=3\"") != std::string::npos);
    CHECK(xml.find("<failure message=\"retry amplification at back: expected &lt;= 1.1") != std::string::npos);
    // The reproduce command pins the scenario and meshsim, and carries the --set flag, shell-quoted.
    CHECK(std::regex_search(xml, std::regex("--seed 4 --pin [0-9a-f]{16}@[^ ]+ --set ")));
    CHECK(xmllint_accepts(dir / "o/junit.xml"));
    const nlohmann::json sweep = nlohmann::json::parse(read_text(dir / "o/sweep.json"));
    CHECK(sweep["scenario"] == name);
    CHECK(sweep["set"] == nlohmann::json::array({"name=" + name}));
    CHECK(sweep["shard"] == nlohmann::json{{"index", 1}, {"count", 1}});
    CHECK(sweep["results"][0]["failed_checks"][0]["check"] == "retry_amplification");

    for (const std::string& hostile : {std::string("x\x01y\x1b[2J\n\xff\xef\xbf\xbf<&>"), std::string()}) {
        const std::string escaped = h::xml_escape(hostile, true);
        for (const char c : escaped) CHECK(static_cast<unsigned char>(c) >= 0x20);
        CHECK(escaped.find('<') == std::string::npos);
        CHECK(escaped.find("\xef\xbf\xbf") == std::string::npos);
    }
}

TEST_CASE("bad input to sweep is exit 2 with a clear message", "[harness][sweep][cli][bad_input]") {
    const scratch_dir dir;
    const std::string basic = source_path("scenarios/basic.json").string();
    write_text(dir / "file", "x");
    const bad_case cases[] = {
        {{"--seeds", "5..1"}, "--seeds: the range \"5..1\" is empty"},
        {{"--seeds", "1.."}, "--seeds: expected A..B"},
        {{"--seeds", "a..b"}, "--seeds: expected A..B"},
        {{"--seeds", "1..99999999999999999999"}, "--seeds: expected A..B"},
        {{"--seeds", "1..2000000"}, "is more than 1000000 seeds"},
        {{"--seeds", "1..3", "--jobs", "0"}, "--jobs: expected a number of threads from 1 to 256, got \"0\""},
        {{"--seeds", "1..3", "--jobs", "100000"}, "--jobs: expected a number of threads"},
        {{"--seeds", "1..3", "--jobs", "two"}, "--jobs: expected a number of threads"},
        {{"--seeds", "1..3", "--shard", "3/2"}, "--shard: shards are numbered 1 to 2 (I/N, 1-based), got \"3/2\""},
        {{"--seeds", "1..3", "--shard", "0/2"}, "--shard: shards are numbered 1 to 2"},
        {{"--seeds", "1..3", "--shard", "1-2"}, "--shard: expected I/N"},
        {{"--seeds", "1..3", "--shard", "1/0"}, "--shard: the number of shards must be from 1"},
        {{"--seeds", "1..3", "--out", (dir / "file").string()}, "exists and is not a directory"},
        {{"--seeds", "1..3", "--out", "/proc/meshsim-no"}, "--out /proc/meshsim-no: cannot create"},
        {{"--seeds", "1..3", "--until", "0s"}, "--until: must be longer than 0s"},
        {{"--seeds", "1..3", "--set", "duration"}, "--set: expected path=value, got \"duration\" (no '=')"},
        {{"--seeds", "1..3", "--set", "services.nope.x=1"}, "no element named \"nope\" in \"/services\""},
        {{"--seeds", "1..3", "--set", "duration=-3s"}, "(set by --set \"duration=-3s\")"},
    };
    for (const bad_case& c : cases) {
        std::vector<std::string> args = {"sweep", basic};
        args.insert(args.end(), c.args.begin(), c.args.end());
        if (std::find(args.begin(), args.end(), "--out") == args.end()) args.insert(args.end(), {"--out", "o"});
        INFO(args[3]);
        const cli_result r = run_meshsim(args, dir.path());
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(c.message) != std::string::npos);
    }
    const cli_result missing = run_meshsim({"sweep", (dir / "nope.json").string(), "--seeds", "1..2"}, dir.path());
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("No such file") != std::string::npos);
    CHECK(run_meshsim({"sweep", basic}, dir.path()).err.find("--seeds is required") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "o/sweep.json"));
}

TEST_CASE("merge refuses shards that are not one sweep, and says when shards are missing",
          "[harness][sweep][cli][bad_input]") {
    const scratch_dir dir;
    const std::string file = source_path("scenarios/basic.json").string();
    const auto sweep = [&](const std::string& out, std::vector<std::string> extra, const char* seeds = "1..5") {
        std::vector<std::string> args = {"sweep", file, "--seeds", seeds, "--out", out, "--jobs", "2"};
        args.insert(args.end(), extra.begin(), extra.end());
        REQUIRE(run_meshsim(args, dir.path()).exit_code == 0);
    };
    sweep("a1", {"--shard", "1/3"});
    sweep("a2", {"--shard", "2/3"});
    sweep("a3", {"--shard", "3/3"});
    sweep("other", {"--shard", "3/3", "--set", "duration=4s"});
    sweep("range", {"--shard", "3/3"}, "1..6");
    sweep("whole", {});
    fs::create_directory(dir / "corrupt");
    const std::string whole = read_text(dir / "whole/sweep.json");
    write_text(dir / "corrupt/sweep.json", whole.substr(0, whole.size() / 2));
    fs::create_directory(dir / "version");
    nlohmann::json v = nlohmann::json::parse(read_text(dir / "a3/sweep.json"));
    v["meshsim_version"] = "0.0.1";
    write_text(dir / "version/sweep.json", v.dump());
    fs::create_directory(dir / "typed");
    v = nlohmann::json::parse(read_text(dir / "a3/sweep.json"));
    v["results"][0]["seed"] = "3";
    write_text(dir / "typed/sweep.json", v.dump());
    fs::create_directory(dir / "foreign");
    v = nlohmann::json::parse(read_text(dir / "a3/sweep.json"));
    v["results"][0]["seed"] = 1;  // seed 1 is shard 1's
    write_text(dir / "foreign/sweep.json", v.dump());
    fs::create_directory(dir / "empty");
    write_text(dir / "summary.json", "{\"schema\": \"meshsim.summary/1\"}");

    const bad_case cases[] = {
        {{"a1", "a2", "other"}, "are from different sweeps: different scenarios (scenario_hash"},
        {{"a1", "a2", "version"}, "different meshsim versions (0.1.0 vs 0.0.1)"},
        {{"a1", "a2", "range"}, "different seed ranges (1..5 vs 1..6)"},
        {{"a1", "a2", "a3", "a2"}, "seed 2 is in both"},
        {{"a1", "a2", "whole"}, "seed 1 is in both"},
        {{"a1", "a2", "corrupt"}, "corrupt/sweep.json: not valid JSON (corrupt or cut short)"},
        {{"a1", "typed"}, "missing or mistyped \"seed\""},
        {{"a2", "foreign"}, "seed 1 is not in this shard's seeds"},
        {{"a1", "empty"}, "empty/sweep.json: cannot read file: No such file or directory"},
        {{"a1", "summary.json"}, "not a meshsim sweep.json"},
        {{"a1", "a3"}, "2 of the 5 seeds of 1..5 are in no shard given (missing shards 2/3); pass --partial"},
        {{"a1", "a2", "a3", "--out", "summary.json"}, "exists and is not a directory"},
    };
    for (const bad_case& c : cases) {
        std::vector<std::string> args = {"merge"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        if (std::find(args.begin(), args.end(), "--out") == args.end()) args.insert(args.end(), {"--out", "m"});
        INFO(c.message);
        const cli_result r = run_meshsim(args, dir.path());
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(c.message) != std::string::npos);
    }
    CHECK_FALSE(fs::exists(dir / "m/sweep.json"));

    const cli_result partial = run_meshsim({"merge", "a1", "a3", "--partial", "--out", "p"}, dir.path());
    CHECK(partial.exit_code == 0);
    CHECK(partial.err.find("warning: merge: 2 of the 5 seeds") != std::string::npos);
    const nlohmann::json p = nlohmann::json::parse(read_text(dir / "p/sweep.json"));
    CHECK(p["missing_seeds"] == 2);
    CHECK(p["shard"].is_null());
    CHECK(p["results"].size() == 3);

    const cli_result all = run_meshsim({"merge", "a1", "a2", "a3", "--out", "m"}, dir.path());
    CHECK(all.exit_code == 0);
    CHECK(without_times(read_text(dir / "m/sweep.json")) == without_times(whole));
}

TEST_CASE("a --set flag changes the scenario before it is validated", "[harness][set][cli][bad_input]") {
    const scratch_dir dir;
    const std::string file = source_path("scenarios/retry_storm_fails.json").string();
    const auto run = [&](std::vector<std::string> sets) {
        std::vector<std::string> args = {"run", file, "--quiet", "--events", "none", "--out", "o"};
        for (const auto& s : sets) args.insert(args.end(), {"--set", s});
        return run_meshsim(args, dir.path());
    };
    const cli_result plain = run({});
    const cli_result pointer = run({"/edges/0/retry/max_attempts=1"});
    const cli_result dotted = run({"edges.0.retry.max_attempts=1"});
    REQUIRE(plain.exit_code == 1);
    const auto hash = [](const cli_result& r) { return r.out.substr(0, r.out.find('\n')); };
    CHECK(hash(pointer) != hash(plain));  // the flag changed the run
    CHECK(hash(pointer) == hash(dotted));
    // A FILE after --set is the file, not a second value of the flag.
    const cli_result before =
        run_meshsim({"run", "--set", "edges.0.retry.max_attempts=1", file, "--quiet", "--events", "none", "--out", "o"},
                    dir.path());
    CHECK(hash(before) == hash(dotted));
    // By name: services.back is the element of "services" whose "name" is "back".
    CHECK(hash(run({"services.back.instances=3"})) == hash(run({"/services/1/instances=3"})));
    // A value that is not JSON is a string: "2s" and "\"2s\"" are the same.
    CHECK(hash(run({"edges.0.timeout=40ms"})) == hash(run({"edges.0.timeout=\"40ms\""})));
    // The reproduce command carries the flags, quoted, and replays the same run.
    const cli_result quoted = run({"description=it's \"x\" $(y)", "edges.0.timeout=40ms"});
    REQUIRE(quoted.exit_code == 1);
    const std::string line = quoted.out.substr(quoted.out.find("reproduce: ") + 11);
    CHECK(line.find("--set 'description=it'\\''s \"x\" $(y)' --set edges.0.timeout=40ms") != std::string::npos);
    const std::string cmd = line.substr(line.find(' '), line.find('\n') - line.find(' '));
    const cli_result replay = run_shell(
        "exec " + h::shell_quote(MESHSIM_BINARY) + cmd + " --quiet --events none --out o2 < /dev/null", dir.path());
    CHECK(hash(replay) == hash(quoted));

    const bad_case cases[] = {
        {{"noequals"}, "--set: expected path=value, got \"noequals\" (no '=')"},
        {{"=1"}, "(no path before '=')"},
        {{"services.bak.instances=3"}, "no element named \"bak\" in \"/services\" (did you mean \"back\"?)"},
        {{"edges.0.retri.max_attempts=3"}, "no key \"retri\" in \"/edges/0\" (did you mean \"retry\"?)"},
        {{"duration.x=1"}, "\"/duration\" is a string, not an object or array: nothing in it to set"},
        {{"/edges/5/timeout=1s"}, "\"/edges\" has 1 elements, no element 5"},
        {{"/edges/first/timeout=1s"}, "expected an element index in \"/edges\", got \"first\""},
        {{"a..b=1"}, "a dotted path has an empty name"},
        {{"/a~2=1"}, "'~' in a JSON pointer must be ~0"},
        {{"edges.0.retry.max_attempts=abc"},
         "13:32: error: expected an integer, got a string (set by --set \"edges.0.retry.max_attempts=abc\") (at "
         "/edges/0/retry/max_attempts)"},
        {{"edges.0.retry.max_atempts=2"}, "unknown key \"max_atempts\" (did you mean \"max_attempts\"?) (set by --set"},
        {{"services.back.name=a\x1b[2Jb"}, "control character U+001B"},
        {{"services.back.queue={\"capacity\": true}"}, "expected an integer, got a boolean"},
        {{"/services=[]"}, "error:"},
    };
    for (const bad_case& c : cases) {
        INFO(h::printable(c.args[0]));
        const cli_result r = run(c.args);
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(c.message) != std::string::npos);
        CHECK(r.err.find('\x1b') == std::string::npos);
    }
}

TEST_CASE("a sweep lists 50 failing seeds on stdout and counts the rest", "[harness][sweep][cli]") {
    const scratch_dir dir;
    const std::string file = source_path("scenarios/retry_storm_fails.json").string();
    const cli_result r = run_meshsim(
        {"sweep", file, "--seeds", "100..154", "--jobs", "2", "--out", "o", "--set", "duration=9s"}, dir.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 1);
    CHECK(r.out.find("retry_storm_fails: 55 seeds, 0 passed, 55 failed, 0 errors") != std::string::npos);
    CHECK(r.out.find("seed=149 FAIL") != std::string::npos);
    CHECK(r.out.find("seed=150 FAIL") == std::string::npos);
    CHECK(r.out.find("  ... and 5 more (all in sweep.json and junit.xml)") != std::string::npos);
    const std::string xml = read_text(dir / "o/junit.xml");
    CHECK(xml.find("<testcase name=\"seed=154\"") != std::string::npos);
    CHECK(std::regex_search(xml, std::regex("--seed 154 --pin [0-9a-f]{16}@[^ ]+ --set duration=9s")));
}
