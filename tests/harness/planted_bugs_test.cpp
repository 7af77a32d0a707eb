// Planted bugs (test-only "planted_bug"): each fixture in tests/harness/planted/ passes
// its expectations with the bug switched off; each regression in tests/regressions/,
// the file `meshsim chaos` shrank a failing run to, fails with its bug and passes
// without it; the key is refused unless it names a bug exactly, and says "test-only"
// wherever the file is loaded; a bug in a component a scenario does not use changes
// nothing, event for event.
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_testing.hpp"
#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"
#include "services/platform/planted_bug.hpp"
#include "sim/trace.hpp"

using namespace meshsim::testing;
namespace h = meshsim::harness;
using nlohmann::json;

namespace {

const std::vector<std::string> bugs = {"breaker_never_half_opens", "consumer_not_idempotent", "outbox_drops_on_crash",
                                       "retry_ignores_deadline"};

struct outcome {
    std::set<std::string> failed;  // labels of the failed checks
    std::uint64_t trace_hash = 0;
    std::string problem;  // a file that did not load or run
};

outcome run(const json& j, std::optional<std::uint64_t> seed = std::nullopt) {
    h::diagnostics diags;
    auto s = h::load_scenario_text(j.dump(), "planted.json", diags);
    if (!s) return {{}, 0, diags.format()};
    h::run_options options;
    options.keep_events = false;
    options.seed = seed;
    const h::run_result r = h::run_scenario(std::move(*s), options);
    if (!r.setup_errors.empty()) return {{}, 0, r.setup_errors.front()};
    outcome out;
    out.trace_hash = r.sim->trace().hash();
    for (const auto& c : r.summary["checks"]) {
        if (!c["passed"].get<bool>()) out.failed.insert(c["label"].get<std::string>());
    }
    return out;
}

json without_bug(json j) {
    j.erase("planted_bug");
    return j;
}

}  // namespace

TEST_CASE("every planted bug has a fixture that passes its expectations with the bug off", "[harness][planted]") {
    CHECK(meshsim::svc::all_planted_bugs().size() == bugs.size());
    for (const std::string& bug : bugs) {
        INFO(bug);
        REQUIRE(meshsim::svc::planted_bug_named(bug).has_value());
        const json fixture = json::parse(read_text(source_path("tests/harness/planted/" + bug + ".json")));
        CHECK(fixture["planted_bug"] == bug);
        CHECK(fixture["faults"].size() >= 1);  // its own fault: the practice holds under it
        const outcome off = run(without_bug(fixture));
        CHECK(off.problem.empty());
        CHECK(off.failed.empty());
    }
}

TEST_CASE("every committed regression fails with its planted bug and passes without it", "[harness][planted]") {
    for (const std::string& bug : bugs) {
        INFO(bug);
        const json regression = json::parse(read_text(source_path("tests/regressions/" + bug + ".json")));
        REQUIRE(regression["planted_bug"] == bug);
        CHECK(regression["description"].get<std::string>().find("meshsim chaos: fails") != std::string::npos);
        // Shrunk: a few faults at most.
        CHECK(regression["faults"].size() >= 1);
        CHECK(regression["faults"].size() <= 3);
        const outcome on = run(regression);
        INFO(on.problem);
        CHECK(on.problem.empty());
        CHECK(on.failed.size() == 1);
        const outcome off = run(without_bug(regression));
        CHECK(off.problem.empty());
        CHECK(off.failed.empty());
        // The same file through the CLI: exit 1 with the bug, the reproduce line's seed.
        const scratch_dir dir;
        const cli_result cli =
            run_meshsim({"run", source_path("tests/regressions/" + bug + ".json").string(), "--out", "o"}, dir.path());
        CHECK(cli.exit_code == 1);
        CHECK(cli.err.find("test-only") != std::string::npos);
        // Committed with its recording: the same trace event for event (a change that
        // alters this run must regenerate the .replay.json, deliberately).
        const cli_result replay =
            run_meshsim({"replay", source_path("tests/regressions/" + bug + ".json").string()}, dir.path());
        INFO(replay.out << replay.err);
        CHECK(replay.exit_code == 0);
        CHECK(replay.out.rfind("replay: same trace: trace_hash=", 0) == 0);
    }
}

TEST_CASE("planted_bug must name a planted bug exactly", "[harness][planted][bad_input]") {
    const json base = json::parse(read_text(source_path("tests/harness/planted/retry_ignores_deadline.json")));
    const std::vector<std::pair<json, std::string>> cases = {
        {"nope", "must be one of"},
        {"", "must be one of"},
        {"none", "must be one of"},
        {"Retry_ignores_deadline", "must be one of"},
        {" retry_ignores_deadline", "must be one of"},
        {"retry_ignores_deadline\u202e", "must be one of"},
        {3, "expected a string"},
        {true, "expected a string"},
        {nullptr, "expected a string"},
        {json::array({"retry_ignores_deadline"}), "expected a string"},
        {json::object(), "expected a string"},
    };
    for (const auto& [value, message] : cases) {
        INFO(value.dump());
        json j = base;
        j["planted_bug"] = value;
        h::diagnostics diags;
        CHECK_FALSE(h::load_scenario_text(j.dump(), "bad.json", diags).has_value());
        CHECK(diags.format().find(message) != std::string::npos);
        CHECK(diags.format().find("/planted_bug") != std::string::npos);
    }
}

TEST_CASE("a planted bug is shown as test-only by validate, run and list", "[harness][planted][cli]") {
    const scratch_dir dir;
    const std::string file = source_path("tests/harness/planted/breaker_never_half_opens.json").string();
    const cli_result validate = run_meshsim({"validate", file}, dir.path());
    CHECK(validate.exit_code == 0);
    CHECK(validate.out.find("planted bug breaker_never_half_opens: test-only") != std::string::npos);
    CHECK(validate.err.find("warning: test-only: this scenario runs with a planted bug (breaker_never_half_opens") !=
          std::string::npos);
    const cli_result list = run_meshsim({"list"}, dir.path());
    CHECK(list.out.find("planted bugs (top-level \"planted_bug\"; test-only") != std::string::npos);
    for (const std::string& bug : bugs) CHECK(list.out.find("  " + bug + " ") != std::string::npos);
    // An ordinary scenario says nothing about planted bugs.
    const cli_result plain = run_meshsim({"validate", source_path("scenarios/basic.json").string()}, dir.path());
    CHECK(plain.out.find("planted") == std::string::npos);
    CHECK(plain.err.find("planted") == std::string::npos);
}

TEST_CASE("a planted bug in a component the scenario does not use changes nothing", "[harness][planted]") {
    // fragile.json has no breaker, consumer, outbox or retries: every bug leaves its run as it was.
    const json fragile = json::parse(read_text(source_path("tests/harness/chaos/fragile.json")));
    const outcome plain = run(fragile);
    REQUIRE(plain.problem.empty());
    for (const std::string& bug : bugs) {
        json j = fragile;
        j["planted_bug"] = bug;
        CHECK(run(j).trace_hash == plain.trace_hash);
    }
    // And one that does use it runs differently (the switch is not vacuous).
    const json fixture = json::parse(read_text(source_path("tests/harness/planted/breaker_never_half_opens.json")));
    CHECK(run(fixture).trace_hash != run(without_bug(fixture)).trace_hash);
}
