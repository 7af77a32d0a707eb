// Reconciliation: a replica that drifted from its source of truth (missing,
// stale and extra records) is repaired in one pass that reports each fix; a
// newer replica version is kept; an unreachable source repairs nothing.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "services/messaging/reconciler.hpp"
#include "sim/kernel/simulation.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
nlohmann::json ticket(int version, const char* status) { return {{"version", version}, {"status", status}}; }
using keys = std::vector<std::string>;
}  // namespace

TEST_CASE("messaging: reconciliation repairs a divergent replica and reports what it fixed", "[messaging]") {
    simulation sim({.seed = 1, .fiber_stack_bytes = 256 * 1024});
    const auto source = sim.add_node("tickets", [](sim::runtime& rt) {
        sim::store& s = rt.durable_store();
        s.put("ticket/1", ticket(1, "open"));
        s.put("ticket/2", ticket(2, "closed"));
        s.put("ticket/3", ticket(1, "open"));
        s.put("ticket/4", ticket(3, "open"));
        s.put("other/x", 1);  // not part of the records
        s.sync();
        rpc_server server(rt, 80);
        route_records_endpoint(server, rt, "ticket/");
        server.serve();
    });
    std::vector<std::optional<reconcile_report>> reports;
    const auto replica = sim.add_node("reports", [&](sim::runtime& rt) {
        sim::store& s = rt.durable_store();
        s.put("copy/2", ticket(1, "open"));     // stale
        s.put("copy/3", ticket(1, "open"));     // equal
        s.put("copy/4", ticket(5, "pending"));  // newer: an event the source snapshot predates
        s.put("copy/9", ticket(1, "open"));     // gone at the source
        s.sync();
        rpc_client client(rt);
        reconciler job(client, {0, 80}, "copy/", {.interval = 1min, .call_timeout = 1s, .page_size = 2});
        reports.push_back(job.run_once());
        reports.push_back(job.run_once());
        rt.sleep_for(1s);  // the source crashes meanwhile
        reports.push_back(job.run_once());
    });
    REQUIRE(source == 0);
    sim.start(source);
    sim.start(replica);
    sim.at(sim::time_zero + 500ms, [&] { sim.crash(source); });
    sim.run_until(sim::time_zero + 10s);

    REQUIRE(reports.size() == 3);
    REQUIRE(reports[0]);
    CHECK(reports[0]->added == keys{"1"});
    CHECK(reports[0]->updated == keys{"2"});
    CHECK(reports[0]->removed == keys{"9"});
    CHECK(reports[0]->kept_newer == keys{"4"});
    CHECK(reports[0]->compared == 4);
    REQUIRE(reports[1]);
    CHECK_FALSE(reports[1]->repaired_anything());
    CHECK(reports[1]->kept_newer == keys{"4"});
    CHECK_FALSE(reports[2]);  // source down: nothing fetched, nothing repaired

    auto& disk = sim.get_node(replica).disk();
    CHECK(disk.keys("copy/") == keys{"copy/1", "copy/2", "copy/3", "copy/4"});
    CHECK(disk.get("copy/2") == ticket(2, "closed"));
    CHECK(disk.unsynced_writes() == 0);  // the repair was committed
    bool logged = false;
    for (const auto& e : sim.trace().events()) logged |= e.detail.rfind("reconcile {", 0) == 0;
    CHECK(logged);
}

TEST_CASE("messaging: reconciler config validation", "[messaging]") {
    CHECK(reconciler_config{}.validate().empty());
    CHECK(reconciler_config{.interval = 0s, .call_timeout = 1s, .page_size = 0}.validate().size() == 2);
}
