// The broker on the simulated network: pull consumers get unacked events again
// after the ack timeout, push subscribers get each event until they answer 2xx,
// acknowledged appends and committed offsets survive a broker crash, and a
// consumer with an idempotent sink applies each event once across its own crashes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "services/messaging/broker.hpp"
#include "services/messaging/idempotent_consumer.hpp"
#include "sim/kernel/simulation.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
event make_event(int i) { return {"e" + std::to_string(i), "orders", "order_placed", {{"n", i}}}; }

std::vector<std::uint64_t> offsets(const std::optional<std::vector<delivery>>& batch) {
    std::vector<std::uint64_t> out;
    if (batch) {
        for (const auto& d : *batch) out.push_back(d.offset);
    }
    return out;
}

struct world {
    simulation sim{{.seed = 1, .fiber_stack_bytes = 256 * 1024}};
    sim::node_id broker = sim::no_node;
    broker_service* service = nullptr;  // valid while the broker is up

    world() {
        sim.net().set_default_link({.latency = sim::duration_distribution::constant(1ms)});
        broker = sim.add_node("broker", [this](sim::runtime& rt) {
            broker_service b(rt, {.ack_timeout = 1s,
                                  .max_batch = 2,
                                  .push_timeout = 500ms,
                                  .push_backoff = {100ms, 1s, 2.0, jitter_mode::none},
                                  .push_reply_port = 49153});
            service = &b;
            b.start();
            rt.sleep_until(sim::time_never);
        });
        sim.start(broker);
    }
    sim::address address() const { return {broker, broker_port}; }
};

using offsets_t = std::vector<std::uint64_t>;
}  // namespace

TEST_CASE("messaging: the broker redelivers a pulled batch until it is acked", "[messaging]") {
    world w;
    std::vector<offsets_t> pulls;
    const auto client = w.sim.add_node("consumer", [&](sim::runtime& rt) {
        rpc_client rpc(rt);
        broker_client b(rpc, w.address());
        for (int i = 1; i <= 3; ++i) REQUIRE(b.publish(make_event(i)).kind == outcome_kind::ok);
        pulls.push_back(offsets(b.pull("orders", "reports")));  // 1, 2 (max_batch 2)
        pulls.push_back(offsets(b.pull("orders", "reports")));  // nothing while 1, 2 are leased
        rt.sleep_for(1s);                                       // the lease runs out
        pulls.push_back(offsets(b.pull("orders", "reports")));  // 1, 2 again
        REQUIRE(b.ack("orders", "reports", 3));                 // 1 and 2 done
        pulls.push_back(offsets(b.pull("orders", "reports")));  // 3
        pulls.push_back(offsets(b.pull("orders", "reports")));  // nothing: 3 is leased
        rt.sleep_for(1s);
        pulls.push_back(offsets(b.pull("orders", "reports")));  // 3 again
        REQUIRE(b.ack("orders", "reports", 4));
        rt.sleep_for(2s);
        pulls.push_back(offsets(b.pull("orders", "reports")));  // all acked: nothing ever again
        // Another subscriber has its own offset and starts from the beginning.
        pulls.push_back(offsets(b.pull("orders", "audit")));
    });
    w.sim.start(client);
    w.sim.run_until(sim::time_zero + 10s);
    CHECK(pulls == std::vector<offsets_t>{{1, 2}, {}, {1, 2}, {3}, {}, {3}, {}, {1, 2}});
    CHECK(w.service->committed_offset("orders", "reports") == 4);
}

TEST_CASE("messaging: acknowledged appends and committed offsets survive a broker crash", "[messaging]") {
    world w;
    std::vector<offsets_t> pulls;
    std::vector<std::string> published;
    const auto client = w.sim.add_node("consumer", [&](sim::runtime& rt) {
        rpc_client rpc(rt);
        broker_client b(rpc, w.address());
        for (int i = 1; i <= 3; ++i) b.publish(make_event(i));
        pulls.push_back(offsets(b.pull("orders", "reports", 1)));
        b.ack("orders", "reports", 2);
        rt.sleep_for(100ms);  // the broker restarts meanwhile
        published.push_back(std::string(to_string(b.publish(make_event(4)).kind)));
        pulls.push_back(offsets(b.pull("orders", "reports")));
        b.ack("orders", "reports", 4);
        pulls.push_back(offsets(b.pull("orders", "reports")));
    });
    w.sim.start(client);
    w.sim.at(sim::time_zero + 50ms, [&] { w.sim.restart(w.broker); });
    w.sim.run_until(sim::time_zero + 1s);
    CHECK(published == std::vector<std::string>{"ok"});
    CHECK(pulls == std::vector<offsets_t>{{1}, {2, 3}, {4}});
    REQUIRE(w.service);
    CHECK(w.service->log("orders").size() == 4);
    CHECK(w.service->log("orders")[3].e == make_event(4));
}

TEST_CASE("messaging: a push subscriber gets each event again until it answers 2xx", "[messaging]") {
    world w;
    std::vector<std::string> seen;  // "offset:status"
    int failures_left = 2;
    const auto sub = w.sim.add_node("subscriber", [&](sim::runtime& rt) {
        rpc_server server(rt, 80);
        route_event_endpoint(server, "/events", [&](const delivery& d) {
            const bool ok = failures_left-- <= 0;
            seen.push_back(std::to_string(d.offset) + (ok ? ":200" : ":500") + "@" + sim::format_time(rt.now()));
            return ok;
        });
        rt.spawn("serve", [&] { server.serve(); });
        rpc_client rpc(rt);
        broker_client b(rpc, w.address());
        REQUIRE(b.subscribe_push("orders", "search", {rt.self(), 80}, "/events"));
        b.publish(make_event(1));
        b.publish(make_event(2));
        rt.sleep_until(sim::time_never);
    });
    w.sim.start(sub);
    w.sim.run_until(sim::time_zero + 5s);
    // Published at 2 ms, pushed at 3 ms, arrives at 4 ms and fails; again after
    // 100 ms of backoff (+2 ms round trip), then after 200 ms; 2 follows at once.
    CHECK(seen == std::vector<std::string>{"1:500@4ms", "1:500@106ms", "1:200@308ms", "2:200@310ms"});
    CHECK(w.service->committed_offset("orders", "search") == 3);
}

TEST_CASE("messaging: a pull consumer with an idempotent sink applies each event once across its crashes",
          "[messaging]") {
    world w;
    const auto producer = w.sim.add_node("producer", [&](sim::runtime& rt) {
        rpc_client rpc(rt);
        broker_client b(rpc, w.address());
        for (int i = 1; i <= 20; ++i) {
            b.publish(make_event(i));
            rt.sleep_for(20ms);
        }
    });
    int deliveries = 0;
    const auto consumer = w.sim.add_node("reports", [&](sim::runtime& rt) {
        rpc_client rpc(rt);
        broker_client b(rpc, w.address());
        idempotent_consumer dedup(rt.durable_store(), "reports");
        pull_consumer c(b, "orders", "reports", {.poll_interval = 10ms, .max_batch = 5}, [&](const delivery& d) {
            ++deliveries;
            dedup.apply_once(d.e.id, [&](sim::store& s) {
                s.put("total", s.get("total").value_or(0).get<int>() + d.e.payload["n"].get<int>());
            });
            rt.sleep_for(5ms);  // processing time: the crashes land between effect and ack
            return true;
        });
        c.start();
        rt.sleep_until(sim::time_never);
    });
    w.sim.start(producer);
    w.sim.start(consumer);
    for (int ms : {57, 133, 251, 320})
        w.sim.at(sim::time_zero + sim::milliseconds(ms), [&] { w.sim.restart(consumer); });
    w.sim.run_until(sim::time_zero + 10s);
    CHECK(w.sim.get_node(consumer).disk().get("total") == nlohmann::json(210));  // 1 + ... + 20
    CHECK(deliveries > 20);                                                      // some came twice
}

TEST_CASE("messaging: broker config validation", "[messaging]") {
    CHECK(broker_config{}.validate().empty());
    CHECK(pull_consumer_config{}.validate().empty());
    broker_config bad;
    bad.ack_timeout = 0s;
    bad.max_batch = 0;
    CHECK(bad.validate() == config_errors{"ack_timeout must be > 0, got 0s", "max_batch must be >= 1, got 0"});
}
