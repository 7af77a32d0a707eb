// Outbox versus dual write, with real crashes: the outbox publishes every
// committed state change eventually (at least once); the naive dual write loses
// an event when the crash falls between its two steps, or publishes a phantom.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "services/messaging/broker.hpp"
#include "services/messaging/outbox.hpp"
#include "sim/kernel/simulation.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
enum class mode { outbox, dual_write_store_first, dual_write_publish_first };

event ticket_event(int i) { return {"ev-" + std::to_string(i), "tickets", "ticket_created", {{"ticket", i}}}; }
std::string ticket_key(int i) { return "ticket/" + std::to_string(i); }

// A broker node and a "tickets" service that creates `count` tickets, one every
// `pause`, each publishing a ticket_created event. After a restart it carries on
// with the first ticket its store does not hold.
struct world {
    simulation sim;
    sim::node_id broker = sim::no_node;
    sim::node_id service = sim::no_node;

    world(std::uint64_t seed, mode m, int count, sim::duration pause)
        : sim({.seed = seed, .fiber_stack_bytes = 256 * 1024}) {
        broker = sim.add_node("broker", [](sim::runtime& rt) {
            broker_service b(rt, {});
            b.start();
            rt.sleep_until(sim::time_never);
        });
        service = sim.add_node("tickets", [this, m, count, pause](sim::runtime& rt) { boot(rt, m, count, pause); });
        sim.start(broker);
        sim.start(service);
    }

    void boot(sim::runtime& rt, mode m, int count, sim::duration pause) {
        rpc_client client(rt);
        broker_client b(client, {broker, broker_port}, 200ms);
        publish_fn publish = [&b](const event& e) { return b.publish(e).kind == outcome_kind::ok; };
        outbox box(rt, "tickets");
        outbox_relay relay(box, publish, {});
        if (m == mode::outbox) relay.start();
        dual_writer naive(rt, publish,
                          m == mode::dual_write_publish_first ? dual_write_order::publish_then_store
                                                              : dual_write_order::store_then_publish);
        for (int i = 0; i < count; ++i) {
            if (rt.durable_store().get(ticket_key(i))) continue;
            rt.sleep_for(pause);
            auto change = [i](sim::store& s) { s.put(ticket_key(i), {{"status", "open"}}); };
            if (m == mode::outbox) {
                box.commit(change, {ticket_event(i)});
            } else {
                naive.write(change, ticket_event(i));
            }
        }
        rt.sleep_until(sim::time_never);
    }

    std::set<std::string> committed_tickets() {
        std::set<std::string> ids;
        for (const auto& key : sim.get_node(service).disk().keys("ticket/")) ids.insert("ev-" + key.substr(7));
        return ids;
    }
    std::set<std::string> published_events() {
        std::set<std::string> ids;
        auto& disk = sim.get_node(broker).disk();
        for (const auto& key : disk.keys("broker/log/tickets/")) ids.insert(disk.get(key)->at("id").get<std::string>());
        return ids;
    }
};

using ids = std::set<std::string>;
}  // namespace

TEST_CASE("messaging: the outbox never loses an event across crashes", "[messaging]") {
    rc::prop("every committed state change is eventually published", [] {
        const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1000);
        const int count = *rc::gen::inRange(1, 8);
        const auto pause = sim::milliseconds(*rc::gen::inRange(1, 100));
        const auto service_crashes =
            *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 4), rc::gen::inRange(1, 800));
        const auto broker_crashes =
            *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 3), rc::gen::inRange(1, 800));
        world w(seed, mode::outbox, count, pause);
        for (const int ms : service_crashes)
            w.sim.at(sim::time_zero + sim::milliseconds(ms), [&] { w.sim.restart(w.service); });
        for (const int ms : broker_crashes) {
            w.sim.at(sim::time_zero + sim::milliseconds(ms), [&] { w.sim.crash(w.broker); });
            w.sim.at(sim::time_zero + sim::milliseconds(ms + 100), [&] { w.sim.start(w.broker); });
        }
        w.sim.run_until(sim::time_zero + 10s);
        const auto committed = w.committed_tickets();
        RC_ASSERT(committed.size() == static_cast<std::size_t>(count));
        RC_ASSERT(w.published_events() == committed);  // nothing lost, no phantom
        RC_ASSERT(w.sim.get_node(w.service).disk().keys("tickets/outbox/").empty());
    });
}

TEST_CASE("messaging: a crash between the store write and the publish loses the dual write's event", "[messaging]") {
    // The ticket is written at 10 ms; the crash at 10.5 ms falls in the 1 ms of
    // work before the publish. The outbox, under the same crash, still publishes.
    world naive(1, mode::dual_write_store_first, 1, 10ms);
    naive.sim.at(sim::time_zero + 10500us, [&] { naive.sim.restart(naive.service); });
    naive.sim.run_until(sim::time_zero + 5s);
    CHECK(naive.committed_tickets() == ids{"ev-0"});
    CHECK(naive.published_events().empty());

    world safe(1, mode::outbox, 1, 10ms);
    safe.sim.at(sim::time_zero + 10500us, [&] { safe.sim.restart(safe.service); });
    safe.sim.run_until(sim::time_zero + 5s);
    CHECK(safe.committed_tickets() == ids{"ev-0"});
    CHECK(safe.published_events() == ids{"ev-0"});
}

TEST_CASE("messaging: publishing first and crashing before the store write leaves a phantom event", "[messaging]") {
    // The publish leaves at 10 ms and is acked at 12 ms; the crash at 12.5 ms falls
    // in the work before the store write: the stream holds an event whose state
    // change never happened.
    world w(1, mode::dual_write_publish_first, 1, 10ms);
    w.sim.at(sim::time_zero + 12500us, [&] { w.sim.crash(w.service); });
    w.sim.run_until(sim::time_zero + 5s);
    CHECK(w.committed_tickets().empty());
    CHECK(w.published_events() == ids{"ev-0"});
}

TEST_CASE("messaging: dual write loses the event when the broker is down, the outbox waits for it", "[messaging]") {
    for (const mode m : {mode::dual_write_store_first, mode::outbox}) {
        world w(1, m, 3, 100ms);
        w.sim.at(sim::time_zero + 150ms, [&] { w.sim.crash(w.broker); });
        w.sim.at(sim::time_zero + 250ms, [&] { w.sim.start(w.broker); });
        w.sim.run_until(sim::time_zero + 5s);
        CHECK(w.committed_tickets() == ids{"ev-0", "ev-1", "ev-2"});
        if (m == mode::outbox) {
            CHECK(w.published_events() == ids{"ev-0", "ev-1", "ev-2"});
        } else {
            CHECK(w.published_events() == ids{"ev-0", "ev-2"});  // ev-1 went out at 200 ms: refused
        }
    }
}
