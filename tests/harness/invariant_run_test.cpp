// A broken invariant in a scenario run (a meshsim bug) ends the run with the seed,
// the virtual time and the command that replays it, which the CLI prints as an
// internal error (exit 3). Broken here on purpose from the event sink, which runs
// wherever events are recorded: in the event loop and inside the services' fibers.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"
#include "meshsim_version.hpp"
#include "sim/invariant.hpp"

using namespace meshsim;
using namespace meshsim::harness;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;

namespace {

const char* const one_endpoint = R"({"name": "broken", "duration": "2s",
  "services": [{"name": "api", "endpoints": [{"path": "/x", "service_time": "1ms"}]}],
  "workloads": [{"name": "w", "service": "api", "endpoint": "/x", "open": {"rate_per_s": 50, "arrivals": "constant"}}]})";

}  // namespace

TEST_CASE("an invariant broken during a run ends it with the seed, the virtual time and the reproduce command") {
    for (const sim::event_kind kind :
         {sim::event_kind::msg_deliver, sim::event_kind::rpc_attempt, sim::event_kind::msg_send}) {
        CAPTURE(sim::to_string(kind));  // in the event loop, in a client fiber, in a server fiber
        diagnostics diags;
        auto s = load_scenario_text(one_endpoint, "broken.json", diags);
        REQUIRE(s);
        run_options options;
        options.seed = 5;
        options.keep_events = false;
        std::optional<sim::time_point> broke_at;
        std::uint64_t events_after = 0;
        options.on_event = [&](const sim::trace_event& e, const std::string*) {
            if (broke_at) {
                ++events_after;
                return;
            }
            if (e.at < sim::time_zero + 700ms || e.kind != kind) return;
            broke_at = e.at;
            sim::random_stream r(1, "test");
            (void)r.below(0);  // a precondition no correct caller breaks
        };
        try {
            (void)run_scenario(std::move(*s), options);
            FAIL("the run went on");
        } catch (const sim::invariant_violation& v) {
            REQUIRE(broke_at);
            CHECK(v.seed() == 5u);
            CHECK(v.at() == broke_at);
            CHECK_THAT(v.what(), StartsWith("invariant broken at virtual time " + sim::format_time_hms(*broke_at) +
                                            " (seed 5): a draw below a bound has a bound above 0 (bound > 0, "
                                            "sim/random.cpp:"));
            // The reproduce command pins the file's content hash and meshsim's version.
            CHECK_THAT(v.what(), Contains("; reproduce: meshsim run broken.json --seed 5 --pin "));
            CHECK_THAT(v.what(), EndsWith(std::string("@") + meshsim::version));
        }
        // The run stopped within the instant it broke in (the rest of the 2s never ran).
        CHECK(events_after < 20);
    }
}
