// Scenarios that once broke a run (tests/harness/regressions/), replayed through the
// runner: each must run to its end and pass, and must still reach the situation that
// broke it (checked on the kept events), so that a change to the scenario format or
// to the services cannot turn the replay into one that no longer tests anything.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim;
using namespace meshsim::harness;

namespace {

run_result run_regression(const std::string& file) {
    const std::filesystem::path path = std::filesystem::path(MESHSIM_SOURCE_DIR) / "tests/harness/regressions" / file;
    diagnostics diags;
    auto s = load_scenario_file(path, diags);
    INFO(diags.format());
    REQUIRE(s);
    run_options options;
    options.keep_events = true;
    return run_scenario(std::move(*s), options);
}

}  // namespace

TEST_CASE("an instance crashed while paused unwinds and restarts cleanly (once: double free)",
          "[harness][regression]") {
    // pause_then_crash.json: s0 paused at 138ms for 404ms, crashed at 326ms (in the
    // pause) for 300ms. Calls to s1 time out during the pause, so their fibers are
    // woken but not yet scheduled when the crash comes: they used to unwind after
    // the fibers whose state they run in, freeing it twice.
    const run_result result = run_regression("pause_then_crash.json");
    REQUIRE(result.sim);
    CHECK(result.setup_errors.empty());
    CHECK(result.passed);
    int pauses = 0, crashes = 0, restarts = 0, timers_in_pause = 0;
    std::map<sim::node_id, bool> paused;  // per s0 instance
    for (const auto& e : result.sim->trace().events()) {
        const std::string_view node = result.sim->get_node(e.node).node_name();
        if (node.rfind("s0", 0) != 0) continue;
        if (e.kind == sim::event_kind::node_pause) {
            ++pauses;
            paused[e.node] = true;
        } else if (e.kind == sim::event_kind::node_crash) {
            crashes += paused[e.node] ? 1 : 0;
            paused[e.node] = false;
        } else if (e.kind == sim::event_kind::node_restart) {
            ++restarts;
        } else if (e.kind == sim::event_kind::timer_fire && paused[e.node]) {
            ++timers_in_pause;
        }
    }
    CHECK(pauses >= 1);
    CHECK(crashes >= 1);  // a crash came while paused
    CHECK(restarts >= 1);
    CHECK(timers_in_pause >= 1);  // fibers were woken in the pause, before the crash
}

TEST_CASE("a publish retried after a timeout that landed is applied once (once: twice, on another partition)",
          "[harness][regression]") {
    // publish_retry_same_partition.json: bus instance 2 answers 49 ms late, past the
    // orders -> bus timeout of 50 ms, so the publish is retried after an append that
    // did land. The retry used to go to the other partition, read by the other
    // indexer instance with its own dedupe records: the event was applied twice.
    const run_result result = run_regression("publish_retry_same_partition.json");
    REQUIRE(result.sim);
    CHECK(result.setup_errors.empty());
    CHECK(result.passed);  // no_duplicate_effects
    // The situation is reached: some event appended twice, each time to the same partition.
    std::map<std::string, std::set<sim::node_id>> appended_to;  // event id -> bus nodes
    std::map<std::string, int> appends;
    for (const auto& e : result.sim->trace().events()) {
        if (e.kind != sim::event_kind::log || e.detail.find("broker_append") == std::string::npos) continue;
        const std::size_t at = e.detail.find("\"event\":\"");
        REQUIRE(at != std::string::npos);
        const std::size_t from = at + 9;
        const std::string id = e.detail.substr(from, e.detail.find('"', from) - from);
        appended_to[id].insert(e.node);
        ++appends[id];
    }
    int twice = 0;
    for (const auto& [id, count] : appends) {
        if (count < 2) continue;
        ++twice;
        CHECK(appended_to[id].size() == 1);
    }
    CHECK(twice >= 1);
}
