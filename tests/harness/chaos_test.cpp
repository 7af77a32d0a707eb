// `meshsim chaos`: on a scenario that some faults break it finds a failing run within a
// bounded number of runs, shrinks it to at most a few faults, and writes a scenario file
// that, run with the printed command, fails the same check; equal seeds give equal
// chaos.json for any --jobs; every bad input is exit 2 with a message.
#include <cmath>
#include <regex>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_testing.hpp"
#include "harness/chaos/chaos.hpp"

using namespace meshsim::testing;
namespace h = meshsim::harness;

namespace {

const std::string fragile = source_path("tests/harness/chaos/fragile.json").string();

struct bad_case {
    std::vector<std::string> args;
    std::string message;  // stderr must contain it
};

}  // namespace

TEST_CASE("chaos draws valid, varied fault schedules from the seed", "[harness][chaos]") {
    const std::vector<h::chaos_target> targets = {{"api", 2}, {"db", 1}};
    CHECK(h::draw_chaos_faults(7, targets, 4'000'000'000) == h::draw_chaos_faults(7, targets, 4'000'000'000));
    std::set<std::string> kinds, schedules;
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        const nlohmann::json faults = h::draw_chaos_faults(seed, targets, 4'000'000'000);
        REQUIRE(faults.is_array());
        CHECK(faults.size() >= 1);
        CHECK(faults.size() <= static_cast<std::size_t>(h::default_chaos_faults));
        schedules.insert(faults.dump());
        for (const auto& f : faults) kinds.insert(f["kind"].get<std::string>());
    }
    CHECK(schedules.size() == 50);
    CHECK(kinds == std::set<std::string>{"abort", "clock", "crash", "delay", "link", "partition", "pause", "slow"});
    // Bounds: only the kinds named, at most max_faults, and some run reaches the maximum.
    h::chaos_bounds crash_only;
    crash_only.kinds.push_back("crash");
    crash_only.max_faults = 2;
    std::size_t most = 0;
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        const nlohmann::json faults = h::draw_chaos_faults(seed, targets, 4'000'000'000, crash_only);
        most = std::max(most, faults.size());
        for (const auto& f : faults) CHECK(f["kind"].get<std::string>() == std::string("crash"));
    }
    CHECK(most == 2);
}

TEST_CASE("chaos draws clock and link faults within their bounds, each a fault the loader reads", "[harness][chaos]") {
    const std::vector<h::chaos_target> targets = {{"api", 2}, {"db", 1}};
    h::chaos_bounds clock_and_link;
    clock_and_link.kinds = {"clock", "link"};
    clock_and_link.max_faults = 5;
    std::set<std::string> link_keys;
    bool behind = false, ahead = false, drift = false, narrowed = false;
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
        for (const auto& f : h::draw_chaos_faults(seed, targets, 4'000'000'000, clock_and_link)) {
            const std::string kind = f["kind"].get<std::string>();
            REQUIRE((kind == "clock" || kind == "link"));
            if (kind == "clock") {
                const std::string offset = f["offset"].get<std::string>();
                const bool negative = offset.front() == '-';
                (negative ? behind : ahead) = true;
                const long offset_ms = std::stol(offset.substr(negative ? 1 : 0));
                CHECK(offset_ms >= 10);
                CHECK(offset_ms <= 2000);
                if (f.contains("drift_ppm")) {
                    drift = true;
                    CHECK(std::abs(f["drift_ppm"].get<double>()) <= 1000);
                }
                continue;
            }
            bool degraded = false;
            for (const char* key : {"loss", "duplicate", "reorder"}) {
                if (!f.contains(key)) continue;
                degraded = true;
                link_keys.insert(key);
                CHECK(f[key].get<double>() >= 0.05);
                CHECK(f[key].get<double>() <= 0.5);
            }
            if (f.contains("latency")) {
                degraded = true;
                link_keys.insert("latency");
                CHECK(f["latency"]["dist"] == "constant");
            }
            CHECK(degraded);  // never a link fault that changes nothing
            if (f.contains("to")) {
                narrowed = true;
                CHECK(f["to"] != f["service"]);
            }
        }
    }
    CHECK((behind && ahead && drift && narrowed));
    CHECK(link_keys == std::set<std::string>{"duplicate", "latency", "loss", "reorder"});
}

TEST_CASE("chaos with --kinds clock,link runs, and its shrunk files keep only those kinds", "[harness][chaos][cli]") {
    const scratch_dir dir;
    const cli_result r = run_meshsim(
        {"chaos", fragile, "--runs", "12", "--seed", "1", "--kinds", "link,clock", "--out", "c"}, dir.path());
    INFO(r.out << r.err);
    REQUIRE((r.exit_code == 0 || r.exit_code == 1));
    const nlohmann::json chaos = nlohmann::json::parse(read_text(dir / "c/chaos.json"));
    CHECK(chaos["kinds"] == nlohmann::json({"link", "clock"}));
    std::size_t links = 0;
    for (const auto& run : chaos["results"]) {
        for (const auto& f : run["faults"]) {
            CHECK((f["kind"] == "link" || f["kind"] == "clock"));
            links += f["kind"] == "link";
        }
        if (run["verdict"] != "fail") continue;
        CHECK(run["shrunk"]["faults"].size() <= 2);
        for (const auto& f : run["shrunk"]["faults"]) CHECK((f["kind"] == "link" || f["kind"] == "clock"));
    }
    CHECK(links > 0);
}

TEST_CASE("chaos finds a failing schedule, shrinks it, and the written file fails the same way",
          "[harness][chaos][cli]") {
    const scratch_dir dir;
    const cli_result r =
        run_meshsim({"chaos", fragile, "--runs", "20", "--seed", "1", "--jobs", "2", "--out", "c"}, dir.path());
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 1);
    const nlohmann::json chaos = nlohmann::json::parse(read_text(dir / "c/chaos.json"));
    CHECK(chaos["schema"] == "meshsim.chaos/1");
    CHECK(chaos["totals"]["runs"] == 20);
    const auto failed = chaos["totals"]["failed"].get<std::size_t>();
    CHECK(failed >= 1);
    CHECK(failed < 20);  // a mixed result: not every schedule breaks the scenario
    std::size_t files = 0;
    for (const auto& run : chaos["results"]) {
        CHECK(run["faults"].size() >= 1);
        if (run["verdict"] != "fail") continue;
        ++files;
        const nlohmann::json& shrunk = run["shrunk"];
        CHECK(shrunk["faults"].size() <= 2);
        CHECK(shrunk["faults"].size() <= run["faults"].size());
        CHECK_FALSE(shrunk["bound_hit"].get<bool>());
        // The reproduce command, as printed, fails the same check.
        const std::string reproduce = run["reproduce"].get<std::string>();
        CHECK(r.out.find("reproduce: " + reproduce) != std::string::npos);
        const std::regex form("meshsim run (\\S+) --seed ([0-9]+) --pin [0-9a-f]{16}@\\S+");
        std::smatch m;
        REQUIRE(std::regex_match(reproduce, m, form));
        CHECK(m[2].str() == std::to_string(run["seed"].get<std::uint64_t>()));
        const nlohmann::json file = nlohmann::json::parse(read_text(dir / m[1].str()));
        CHECK(file["faults"] == shrunk["faults"]);
        CHECK_FALSE(file.contains("nemesis"));
        CHECK(file["description"].get<std::string>().find("chaos seed 1") != std::string::npos);
        const cli_result replay = run_meshsim({"run", m[1].str(), "--seed", m[2].str(), "--out", "replay"}, dir.path());
        INFO(replay.out);
        CHECK(replay.exit_code == 1);
        const nlohmann::json summary = nlohmann::json::parse(read_text(dir / "replay/summary.json"));
        std::set<std::string> labels;
        for (const auto& c : summary["checks"]) {
            if (!c["passed"].get<bool>()) labels.insert(c["label"].get<std::string>());
        }
        CHECK(labels.count(shrunk["check"].get<std::string>()) == 1);
    }
    CHECK(files == failed);
    const std::string junit = read_text(dir / "c/junit.xml");
    CHECK(junit.find("tests=\"20\" failures=\"" + std::to_string(failed) + "\"") != std::string::npos);
    CHECK(junit.find("<testcase name=\"seed=20\"") != std::string::npos);
}

TEST_CASE("chaos results depend on the seed only, not on --jobs", "[harness][chaos][cli]") {
    const scratch_dir dir;
    for (const char* jobs : {"1", "2"}) {
        const cli_result r = run_meshsim(
            {"chaos", fragile, "--runs", "12", "--seed", "5", "--jobs", jobs, "--out", std::string("j") + jobs},
            dir.path());
        INFO(r.err);
        CHECK((r.exit_code == 0 || r.exit_code == 1));
    }
    const cli_result again = run_meshsim({"chaos", fragile, "--runs", "12", "--seed", "5", "--out", "j1b"}, dir.path());
    const auto results = [&](const std::string& out) {
        nlohmann::json j = nlohmann::json::parse(read_text(dir / out / "chaos.json"));
        for (auto& run : j["results"]) {
            if (run.contains("shrunk")) run["shrunk"].erase("file");
            run.erase("reproduce");
        }
        return j["results"];
    };
    // Byte for byte, but for the output directory in the paths of the shrunk files.
    const auto in_j1 = [&](const std::string& file) {
        std::string text = read_text(dir / "j1b" / file);
        for (std::size_t at; (at = text.find("j1b/")) != std::string::npos;) text.replace(at, 4, "j1/");
        return text;
    };
    CHECK(read_text(dir / "j1/chaos.json") == in_j1("chaos.json"));
    CHECK(read_text(dir / "j1/junit.xml") == in_j1("junit.xml"));
    CHECK(results("j1") == results("j2"));
    CHECK(results("j1").size() == 12);
    const cli_result other = run_meshsim({"chaos", fragile, "--runs", "12", "--seed", "6", "--out", "s6"}, dir.path());
    CHECK(results("j1") != results("s6"));
}

TEST_CASE("the reproduce command quotes an output directory a shell would split", "[harness][chaos][cli]") {
    const scratch_dir dir;
    const cli_result r =
        run_meshsim({"chaos", fragile, "--runs", "4", "--seed", "1", "--out", "my out $x"}, dir.path());
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 1);
    const nlohmann::json chaos = nlohmann::json::parse(read_text(dir / "my out $x/chaos.json"));
    const std::string reproduce = chaos["results"][3]["reproduce"].get<std::string>();
    CHECK(reproduce.rfind("meshsim run 'my out $x/chaos-1.json' --seed 4 --pin ", 0) == 0);
    // The printed command, as a shell runs it (meshsim's path for the word "meshsim").
    const cli_result replay = run_shell("exec " + h::shell_quote(MESHSIM_BINARY) +
                                            reproduce.substr(std::string("meshsim").size()) + " --out r < /dev/null",
                                        dir.path());
    INFO(replay.out << replay.err);
    CHECK(replay.exit_code == 1);
    CHECK(replay.out.find("FAIL  slo service api /hello") != std::string::npos);
}

TEST_CASE("bad input to chaos is exit 2 with a clear message", "[harness][chaos][cli][bad_input]") {
    const scratch_dir dir;
    write_text(dir / "file", "x");
    write_text(dir / "nosvc.json", R"({"name": "n", "duration": "1s", "services": [], "workloads": []})");
    const bad_case cases[] = {
        {{fragile, "--runs", "0"}, "--runs: expected a number of runs from 1 to 100000, got \"0\""},
        {{fragile, "--runs", "100001"}, "--runs: expected a number of runs"},
        {{fragile, "--runs", "99999999999999999999999"}, "--runs: expected a number of runs"},
        {{fragile, "--runs", "-1"}, "--runs: expected a number of runs"},
        {{fragile, "--runs", "ten"}, "--runs: expected a number of runs"},
        {{fragile, "--runs", "2", "--seed", "x"}, "--seed: expected a whole number"},
        {{fragile, "--runs", "2", "--seed", "-3"}, "--seed: expected a whole number"},
        {{fragile, "--runs", "2", "--seed", "18446744073709551616"}, "--seed: expected a whole number"},
        {{fragile, "--runs", "2", "--seed", "18446744073709551615"}, "--seed: seed + runs - 1 is past"},
        {{fragile, "--runs", "2", "--kinds", "crash,nope"}, "--kinds: \"nope\" is not a fault kind chaos draws"},
        {{fragile, "--runs", "2", "--kinds", ""}, "--kinds: \"\" is not a fault kind"},
        {{fragile, "--runs", "2", "--kinds", "crash,,pause"}, "--kinds: \"\" is not a fault kind"},
        {{fragile, "--runs", "2", "--kinds", "crash,crash"}, "--kinds: \"crash\" is named twice"},
        {{fragile, "--runs", "2", "--kinds", "nemesis"}, "--kinds: \"nemesis\" is not a fault kind chaos draws"},
        {{fragile, "--runs", "2", "--kinds", "Clock"}, "--kinds: \"Clock\" is not a fault kind chaos draws"},
        {{fragile, "--runs", "2", "--kinds", "link,clock,link"}, "--kinds: \"link\" is named twice"},
        {{fragile, "--runs", "2", "--max-faults", "0"}, "--max-faults: expected a number from 1 to 20"},
        {{fragile, "--runs", "2", "--max-faults", "21"}, "--max-faults: expected a number from 1 to 20"},
        {{fragile, "--runs", "2", "--jobs", "0"}, "--jobs: expected a number of threads from 1 to 256"},
        {{fragile, "--runs", "2", "--out", (dir / "file").string()}, "exists and is not a directory"},
        {{fragile, "--runs", "2", "--out", "/proc/meshsim-no"}, "--out /proc/meshsim-no: cannot create"},
        {{fragile, "--runs", "2", "--set", "services.nope.x=1"}, "no element named \"nope\" in \"/services\""},
        {{(dir / "nosvc.json").string(), "--runs", "2"}, "services must not be empty"},
        {{(dir / "missing.json").string(), "--runs", "2"}, "No such file"},
        {{"", "--runs", "2"}, "expected a scenario file"},
    };
    for (const bad_case& c : cases) {
        std::vector<std::string> args = {"chaos"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        if (std::find(args.begin(), args.end(), "--out") == args.end()) args.insert(args.end(), {"--out", "o"});
        INFO(args[1] << " " << args[3]);
        const cli_result r = run_meshsim(args, dir.path());
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(c.message) != std::string::npos);
    }
    CHECK(run_meshsim({"chaos", fragile}, dir.path()).err.find("--runs is required") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "o/chaos.json"));
}
