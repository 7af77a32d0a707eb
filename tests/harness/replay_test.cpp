// `meshsim replay`: a run's --out directory (and a chaos-N.json with its recording)
// replays to the same trace; a scenario edited after the recording is named as changed
// and the first divergent event is the one a diff of the two runs' events.jsonl finds;
// the reproduce command pins the scenario's hash and meshsim's version; every bad
// recording is exit 2 with one line.
#include <unistd.h>

#include <functional>
#include <regex>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_testing.hpp"
#include "harness/replay/recording.hpp"
#include "meshsim_version.hpp"
#include "sim/trace.hpp"

using namespace meshsim::testing;
namespace h = meshsim::harness;

namespace {

const std::string fragile_text = read_text(source_path("tests/harness/chaos/fragile.json"));

nlohmann::json read_json(const fs::path& file) { return nlohmann::json::parse(read_text(file)); }
void write_json(const fs::path& file, const nlohmann::json& j) { write_text(file, j.dump(2) + "\n"); }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// fragile.json with its pause fault moved from 3s to AT.
std::string fragile_with_pause_at(const std::string& at) {
    nlohmann::json j = nlohmann::json::parse(fragile_text);
    j["faults"][0]["at"] = at;
    j["faults"][0]["for"] = "300ms";
    return j.dump(2);
}

struct bad_case {
    std::string what;
    std::function<void(const fs::path& dir)> spoil;  // spoils the recording in DIR (a copy)
    std::string message;                             // stderr must contain it
    std::vector<std::string> extra = {};
};

}  // namespace

TEST_CASE("the trace keeps a checkpoint hash every K events", "[harness][replay]") {
    meshsim::sim::trace_recorder t(meshsim::sim::trace_mode::hash_only);
    t.keep_checkpoints(4);
    std::vector<std::uint64_t> expected;
    for (std::uint64_t i = 1; i <= 10; ++i) {
        t.record(meshsim::sim::time_zero, meshsim::sim::event_kind::custom, 0, i);
        if (i % 4 == 0) expected.push_back(t.hash());
    }
    CHECK(t.checkpoints() == expected);
    CHECK(expected.size() == 2);
    meshsim::sim::trace_recorder none(meshsim::sim::trace_mode::hash_only);
    for (std::uint64_t i = 1; i <= 10; ++i)
        none.record(meshsim::sim::time_zero, meshsim::sim::event_kind::custom, 0, i);
    CHECK(none.checkpoints().empty());
    CHECK(none.hash() == t.hash());  // checkpoints do not change the hash
}

TEST_CASE("a run records itself in summary.json and replays to the same trace", "[harness][replay][cli]") {
    const scratch_dir dir;
    write_text(dir / "f.json", fragile_text);
    const cli_result run = run_meshsim({"run", "f.json", "--events", "all", "--out", "out", "--seed", "3", "--until",
                                        "3s", "--set", "workloads.users.open.rate_per_s=300"},
                                       dir.path());
    INFO(run.out << run.err);
    REQUIRE((run.exit_code == 0 || run.exit_code == 1));
    const nlohmann::json summary = read_json(dir / "out/summary.json");
    const nlohmann::json& rec = summary["recording"];
    CHECK(rec["schema"] == "meshsim.recording/1");
    CHECK(rec["scenario_file"] == "f.json");
    CHECK(rec["scenario_hash"] == summary["scenario_hash"]);
    CHECK(rec["trace_hash"] == summary["trace_hash"]);
    CHECK(rec["events"] == summary["events"]);
    CHECK(rec["seed"] == 3);
    CHECK(rec["until_ns"] == 3'000'000'000);
    CHECK(rec["set"] == nlohmann::json::array({"workloads.users.open.rate_per_s=300"}));
    CHECK(rec["meshsim_version"] == meshsim::version);
    CHECK(rec["events_level"] == "all");
    CHECK(rec["checkpoint_every"] == h::default_checkpoint_every);
    const auto events = summary["events"].get<std::uint64_t>();
    CHECK(events > 2 * h::default_checkpoint_every);  // more than one interval to compare
    CHECK(rec["checkpoints"].size() == events / h::default_checkpoint_every);
    // The reproduce command pins the scenario's hash and meshsim's version.
    CHECK_THAT(summary["reproduce"].get<std::string>(),
               Catch::Contains(" --pin " + summary["scenario_hash"].get<std::string>() + "@" + meshsim::version));

    for (const std::string& target : std::vector<std::string>{"out", "out/summary.json", (dir / "out").string()}) {
        const cli_result replay = run_meshsim({"replay", target}, dir.path());
        INFO(replay.out << replay.err);
        CHECK(replay.exit_code == 0);
        CHECK(replay.out == "replay: same trace: trace_hash=" + summary["trace_hash"].get<std::string>() + ", " +
                                std::to_string(events) + " events (f.json, seed 3)\n");
        CHECK(replay.err.empty());
    }
    // The flagship (no file) replays too.
    const cli_result flagship = run_meshsim({"run", "--events", "none", "--out", "fl"}, dir.path());
    REQUIRE((flagship.exit_code == 0 || flagship.exit_code == 1));
    const cli_result again = run_meshsim({"replay", "fl"}, dir.path());
    INFO(again.err);
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Catch::Contains("(the flagship, seed"));
}

TEST_CASE("replay of an edited scenario names the first divergent event, as a diff of the two runs finds it",
          "[harness][replay][cli]") {
    const scratch_dir dir;
    for (const std::string level : {"all", "requests"}) {
        write_text(dir / "f.json", fragile_with_pause_at("2500ms"));
        REQUIRE(run_meshsim({"run", "f.json", "--events", level, "--out", "a"}, dir.path()).exit_code <= 1);
        // The file changes after the recording; its own run is the truth the replay must match.
        write_text(dir / "f.json", fragile_with_pause_at("2s"));
        REQUIRE(run_meshsim({"run", "f.json", "--events", level, "--out", "b"}, dir.path()).exit_code <= 1);
        const std::vector<std::string> a = lines_of(read_text(dir / "a/events.jsonl"));
        const std::vector<std::string> b = lines_of(read_text(dir / "b/events.jsonl"));
        std::size_t first = 0;
        while (first < a.size() && first < b.size() && a[first] == b[first]) ++first;
        REQUIRE(first < a.size());
        REQUIRE(first < b.size());
        INFO("level " << level << ": first differing line " << first + 1);

        const cli_result replay = run_meshsim({"replay", "a"}, dir.path());
        INFO(replay.out << replay.err);
        CHECK(replay.exit_code == 1);
        const nlohmann::json ra = read_json(dir / "a/summary.json");
        const nlohmann::json rb = read_json(dir / "b/summary.json");
        CHECK_THAT(replay.out, Catch::StartsWith("replay: DIFFERENT trace: recorded trace_hash=" +
                                                 ra["trace_hash"].get<std::string>()));
        CHECK_THAT(replay.out, Catch::Contains("replayed trace_hash=" + rb["trace_hash"].get<std::string>()));
        CHECK_THAT(replay.out, Catch::Contains("the file has changed since the recording: scenario hash recorded " +
                                               ra["scenario_hash"].get<std::string>() + ", now " +
                                               rb["scenario_hash"].get<std::string>()));
        // Not the first interval: the checkpoints before it agreed.
        CHECK_THAT(replay.out, !Catch::Contains("first divergent interval: events 1.."));
        CHECK_THAT(replay.out, Catch::Contains("line " + std::to_string(first + 1) + " of a/events.jsonl"));
        CHECK_THAT(replay.out, Catch::Contains("\n  recorded: " + a[first] + "\n"));
        CHECK_THAT(replay.out, Catch::Contains("\n  replayed: " + b[first] + "\n"));
        if (level == "all") {  // every event is a line: the line is the event's number
            CHECK_THAT(replay.out, Catch::Contains("first divergent event: #" + std::to_string(first + 1) + " of"));
        }
    }
    // No events.jsonl: the interval's replayed events instead.
    write_text(dir / "f.json", fragile_with_pause_at("2500ms"));
    REQUIRE(run_meshsim({"run", "f.json", "--events", "none", "--out", "n"}, dir.path()).exit_code <= 1);
    write_text(dir / "f.json", fragile_with_pause_at("2s"));
    const cli_result replay = run_meshsim({"replay", "n"}, dir.path());
    INFO(replay.out);
    CHECK(replay.exit_code == 1);
    CHECK_THAT(replay.out, Catch::Contains("the recording has no events.jsonl with this interval"));
    CHECK_THAT(replay.out, Catch::Contains("\n  #"));
    CHECK_THAT(replay.out, Catch::Contains("more\n"));
    // Put back as recorded, it replays to the same trace.
    write_text(dir / "f.json", fragile_with_pause_at("2500ms"));
    CHECK(run_meshsim({"replay", "n"}, dir.path()).exit_code == 0);
}

TEST_CASE("a chaos shrunk file replays from its recording, copied anywhere", "[harness][replay][chaos][cli]") {
    const scratch_dir dir;
    const cli_result chaos = run_meshsim(
        {"chaos", source_path("tests/harness/chaos/fragile.json").string(), "--runs", "8", "--out", "c"}, dir.path());
    INFO(chaos.out << chaos.err);
    REQUIRE(chaos.exit_code == 1);
    REQUIRE(fs::exists(dir / "c/chaos-1.json"));
    REQUIRE(fs::exists(dir / "c/chaos-1.replay.json"));
    const nlohmann::json rec = read_json(dir / "c/chaos-1.replay.json");
    CHECK(rec["scenario_file"] == "chaos-1.json");
    CHECK_THAT(chaos.out, Catch::Contains("    replay: meshsim replay c/chaos-1.json\n"));
    const std::regex pinned("reproduce: meshsim run c/chaos-1\\.json --seed [0-9]+ --pin [0-9a-f]{16}@[^ \n]+\n");
    CHECK(std::regex_search(chaos.out, pinned));
    for (const std::string target : {"c/chaos-1.json", "c/chaos-1.replay.json"}) {
        const cli_result replay = run_meshsim({"replay", target}, dir.path());
        INFO(replay.out << replay.err);
        CHECK(replay.exit_code == 0);
        CHECK_THAT(replay.out,
                   Catch::StartsWith("replay: same trace: trace_hash=" + rec["trace_hash"].get<std::string>()));
    }
    // Committed elsewhere (a name a shell would split), the pair still replays.
    fs::create_directories(dir / "reg 'x'");
    fs::copy_file(dir / "c/chaos-1.json", dir / "reg 'x'/bug 1.json");
    fs::copy_file(dir / "c/chaos-1.replay.json", dir / "reg 'x'/bug 1.replay.json");
    nlohmann::json moved = read_json(dir / "reg 'x'/bug 1.replay.json");
    moved["scenario_file"] = "bug 1.json";
    write_json(dir / "reg 'x'/bug 1.replay.json", moved);
    const cli_result replay = run_meshsim({"replay", (dir / "reg 'x'/bug 1.json").string()});
    INFO(replay.err);
    CHECK(replay.exit_code == 0);
}

TEST_CASE("the reproduce command's --pin warns when the scenario or meshsim changed since it was printed",
          "[harness][replay][cli]") {
    const scratch_dir dir;
    write_text(dir / "f.json", fragile_text);
    REQUIRE(run_meshsim({"run", "f.json", "--events", "none", "--out", "a"}, dir.path()).exit_code <= 1);
    const std::string reproduce = read_json(dir / "a/summary.json")["reproduce"].get<std::string>();
    const std::string hash = read_json(dir / "a/summary.json")["scenario_hash"].get<std::string>();
    const std::string pin = hash + "@" + meshsim::version;
    CHECK(reproduce == "meshsim run f.json --seed 1 --pin " + pin);
    const cli_result same = run_meshsim({"run", "f.json", "--pin", pin, "--out", "b", "--quiet"}, dir.path());
    CHECK(same.err.empty());
    const cli_result old =
        run_meshsim({"run", "f.json", "--pin", hash + "@0.0.1", "--out", "b", "--quiet"}, dir.path());
    CHECK(old.err == std::string("meshsim: warning: pinned meshsim 0.0.1, this is meshsim ") + meshsim::version +
                         " (the trace may differ)\n");
    CHECK(old.exit_code == same.exit_code);
    write_text(dir / "f.json", fragile_with_pause_at("2s"));
    const cli_result changed = run_meshsim({"run", "f.json", "--pin", pin, "--out", "b", "--quiet"}, dir.path());
    CHECK_THAT(changed.err, Catch::StartsWith("meshsim: warning: the file has changed since this command was printed"));
    CHECK(changed.err_lines() == 1);
    for (const std::string& bad :
         std::vector<std::string>{"", "xyz", hash, hash + "@", "0123@1.0", hash.substr(1) + "g@1.0", "@" + pin}) {
        const cli_result r = run_meshsim({"run", "f.json", "--pin", bad, "--out", "b"}, dir.path());
        INFO(bad << ": " << r.err);
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Catch::Contains("--pin: expected HASH@VERSION"));
        CHECK(r.err_lines() == 1);
    }
}

TEST_CASE("bad recordings are exit 2 with one line", "[harness][replay][cli][bad_input]") {
    const scratch_dir dir;
    write_text(dir / "f.json", fragile_text);
    REQUIRE(run_meshsim({"run", "f.json", "--events", "all", "--out", "good", "--until", "2s"}, dir.path()).exit_code <=
            1);
    const auto edit = [](const fs::path& d, const std::function<void(nlohmann::json&)>& change) {
        nlohmann::json s = read_json(d / "summary.json");
        change(s["recording"]);
        write_json(d / "summary.json", s);
    };
    const bad_case cases[] = {
        {"no summary.json", [](const fs::path& d) { fs::remove(d / "summary.json"); },
         "no summary.json (not the --out"},
        {"summary.json a directory",
         [](const fs::path& d) {
             fs::remove(d / "summary.json");
             fs::create_directory(d / "summary.json");
         },
         "is a directory"},
        {"unreadable summary.json", [](const fs::path& d) { fs::permissions(d / "summary.json", fs::perms::none); },
         "cannot read it"},
        {"truncated summary.json",
         [](const fs::path& d) {
             const std::string text = read_text(d / "summary.json");
             write_text(d / "summary.json", text.substr(0, text.size() / 2));
         },
         "not JSON (truncated or corrupt?)"},
        {"no recording", [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r = nullptr; }); },
         "recording: expected an object"},
        {"recording removed",
         [](const fs::path& d) {
             nlohmann::json s = read_json(d / "summary.json");
             s.erase("recording");
             write_json(d / "summary.json", s);
         },
         "has no \"recording\""},
        {"checkpoints cut short",
         [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["checkpoints"].erase(0); }); },
         "checkpoints: expected"},
        {"a checkpoint not a hash",
         [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["checkpoints"][0] = 12; }); },
         "checkpoints[0]: expected 16 hex digits, got 12"},
        {"a checkpoint of 15 digits",
         [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["checkpoints"][0] = "0123456789abcde"; }); },
         "checkpoints[0]: expected 16 hex digits"},
        {"seed a string", [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["seed"] = "1"; }); },
         "seed: expected a whole number"},
        {"seed negative", [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["seed"] = -1; }); },
         "seed: expected a whole number"},
        {"trace hash missing", [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r.erase("trace_hash"); }); },
         "trace_hash: missing"},
        {"until zero", [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["until_ns"] = 0; }); },
         "until_ns: expected null or a number"},
        {"until a float", [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["until_ns"] = 1.5; }); },
         "until_ns: expected null or a number"},
        {"checkpoint_every 3",
         [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["checkpoint_every"] = 3; }); },
         "checkpoint_every: expected a power of two"},
        {"set not strings", [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["set"] = {1}; }); },
         "set: expected an array"},
        {"set without =", [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["set"] = {"seed"}; }); },
         "recording: set:"},
        {"unknown events level",
         [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["events_level"] = "most"; }); },
         "events_level: expected one of"},
        {"wrong schema", [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["schema"] = "x/9"; }); },
         "schema: expected \"meshsim.recording/1\""},
        {"another version",
         [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["meshsim_version"] = "0.0.1"; }); },
         std::string("recorded by meshsim 0.0.1, this is meshsim ") + meshsim::version + " (traces may differ"},
        {"scenario gone", [](const fs::path&) {}, "the scenario file g.json no longer exists"},
        {"standard input", [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["scenario_file"] = "-"; }); },
         "read its scenario from standard input"},
        {"scenario name with a newline",
         [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["scenario_file"] = "x\ny 'z'.json"; }); },
         "the scenario file x\\ny 'z'.json no longer exists"},
        {"scenario no longer loads",
         [&](const fs::path& d) { edit(d, [](nlohmann::json& r) { r["scenario_file"] = "broken.json"; }); },
         "the recorded scenario no longer loads"},
    };
    write_text(dir / "broken.json", "{\"name\": 1}");
    for (const bad_case& c : cases) {
        const std::string name = "bad " + std::to_string(&c - cases) + " 'q'";
        fs::remove_all(dir / name);
        fs::copy(dir / "good", dir / name);
        if (c.what == "scenario gone") {
            write_text(dir / "g.json", fragile_text);
            edit(dir / name, [](nlohmann::json& r) { r["scenario_file"] = "g.json"; });
            fs::remove(dir / "g.json");
        }
        c.spoil(dir / name);
        if (c.what == "unreadable summary.json" && ::geteuid() == 0) continue;  // root reads it anyway
        const cli_result r = run_meshsim({"replay", name}, dir.path());
        INFO(c.what << ": " << r.out << r.err);
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Catch::Contains(c.message));
        // Diagnostics of a file that no longer loads come first; the verdict is one line.
        if (c.what != "scenario no longer loads") CHECK(r.err_lines() == 1);
        CHECK(r.out.empty());
        std::error_code ec;  // readable again, for the cleanup (absent in some cases)
        fs::permissions(dir / name / "summary.json", fs::perms::owner_all, fs::perm_options::add, ec);
    }
    // --any-version replays another version's recording (and says so).
    fs::copy(dir / "good", dir / "old");
    edit(dir / "old", [](nlohmann::json& r) { r["meshsim_version"] = "0.0.1"; });
    const cli_result any = run_meshsim({"replay", "old", "--any-version"}, dir.path());
    CHECK(any.exit_code == 0);
    CHECK_THAT(any.err, Catch::Contains("recorded by meshsim 0.0.1, replayed by meshsim"));

    const struct {
        std::vector<std::string> args;
        std::string message;
    } targets[] = {
        {{"replay", ""}, "replay: expected a run's --out directory or a recording, got \"\""},
        {{"replay", "nowhere"}, "replay nowhere: no such file or directory"},
        {{"replay", "no\nsuch dir"}, "replay no\\nsuch dir: no such file or directory"},
        {{"replay", "f.json"}, "a scenario file with no recording beside it"},
        {{"replay", "list.json"}, "not a summary.json, a recording or a scenario file"},
        {{"replay", "other.json"}, "is neither a meshsim summary nor a recording"},
        {{"replay"}, "target is required"},
    };
    write_text(dir / "list.json", "[1, 2]");
    write_text(dir / "other.json", "{\"schema\": \"meshsim.sweep/1\"}");
    fs::create_directory(dir / "empty");
    for (const auto& t : targets) {
        const cli_result r = run_meshsim(t.args, dir.path());
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Catch::Contains(t.message));
    }
    CHECK(run_meshsim({"replay", "empty"}, dir.path()).exit_code == 2);
}
