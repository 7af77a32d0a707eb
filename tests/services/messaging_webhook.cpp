// Webhooks: the publisher's own workers POST each event to each subscriber's
// callback, retry with backoff, and dead-letter after max_attempts; a slow
// subscriber sees a delivery twice and its idempotent consumer applies it once.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "services/messaging/idempotent_consumer.hpp"
#include "services/messaging/webhook.hpp"
#include "sim/kernel/simulation.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
webhook_config exact_config(std::uint32_t max_attempts) {
    webhook_config c;
    c.delivery = {.worker_count = 1,
                  .max_attempts = max_attempts,
                  .backoff = {.base_delay = 1s, .max_delay = 1min, .multiplier = 2.0, .jitter = jitter_mode::none}};
    c.delivery_timeout = 2s;
    return c;
}
const event paid{"inv-7-paid", "invoices", "invoice_paid", {{"invoice", 7}}};
}  // namespace

TEST_CASE("messaging: a webhook is retried with backoff, then dead-lettered", "[messaging]") {
    simulation sim({.seed = 1, .fiber_stack_bytes = 256 * 1024});
    sim.net().set_default_link({.latency = sim::duration_distribution::constant(1ms)});
    std::vector<std::string> received;
    const auto subscriber = sim.add_node("crm", [&](sim::runtime& rt) {
        rpc_server server(rt, 80);
        route_event_endpoint(server, "/hooks/invoices", [&](const delivery& d) {
            received.push_back(d.e.id + "@" + sim::format_time(rt.now()));
            return false;  // always 500
        });
        server.serve();
    });
    webhook_publisher* publisher = nullptr;
    const auto billing = sim.add_node("billing", [&](sim::runtime& rt) {
        rpc_client client(rt);
        webhook_publisher hooks(client, "billing", exact_config(3));
        publisher = &hooks;
        hooks.subscribe("invoices", "crm", {subscriber, 80}, "/hooks/invoices");
        hooks.start();
        CHECK(hooks.publish(paid) == 1);
        CHECK(hooks.publish({"other", "refunds", "", nullptr}) == 0);  // nobody subscribed
        rt.sleep_until(sim::time_never);
    });
    sim.start(subscriber);
    sim.start(billing);
    sim.run_until(sim::time_zero + 1min);
    // Each attempt takes a 2 ms round trip; backoff 1 s, then 2 s.
    CHECK(received == std::vector<std::string>{"inv-7-paid@1ms", "inv-7-paid@1003ms", "inv-7-paid@3005ms"});
    const auto dead = publisher->deliveries().dead_letters();
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].id == "inv-7-paid@crm");
    CHECK(dead[0].attempts == 3);
    CHECK(dead[0].last_error == "http_error 500");
}

TEST_CASE("messaging: a slow webhook subscriber gets a delivery twice and applies it once", "[messaging]") {
    simulation sim({.seed = 1, .fiber_stack_bytes = 256 * 1024});
    sim.net().set_default_link({.latency = sim::duration_distribution::constant(1ms)});
    const auto billing_id = sim::node_id{1};
    webhook_publisher* publisher = nullptr;
    idempotent_consumer* dedup_ptr = nullptr;
    const auto subscriber = sim.add_node("crm", [&](sim::runtime& rt) {
        idempotent_consumer dedup(rt.durable_store(), "crm");
        dedup_ptr = &dedup;
        rpc_server server(rt, 80);
        int calls = 0;
        route_event_endpoint(server, "/hooks/invoices", [&](const delivery& d) {
            dedup.apply_once(d.e.id, [](sim::store& s) { s.put("paid/7", true); });
            if (calls++ == 0) rt.sleep_for(3s);  // slower than the publisher's 2 s deadline
            return true;
        });
        rt.spawn("serve", [&] { server.serve(); });
        // Registers its callback over the network.
        rpc_client client(rt);
        request req;
        req.method = "POST";
        req.path = "/webhooks/subscriptions";
        req.body = {{"topic", "invoices"},
                    {"subscriber", "crm"},
                    {"endpoint", {{"node", rt.self()}, {"port", 80}}},
                    {"path", "/hooks/invoices"}};
        CHECK(client.call({billing_id, 80}, req, rt.now() + 1s).result.kind == outcome_kind::ok);
        rt.sleep_until(sim::time_never);
    });
    const auto billing = sim.add_node("billing", [&](sim::runtime& rt) {
        rpc_client client(rt);
        rpc_server server(rt, 80);
        webhook_publisher hooks(client, "billing", exact_config(5));
        publisher = &hooks;
        hooks.add_routes(server);
        rt.spawn("serve", [&] { server.serve(); });
        hooks.start();
        rt.sleep_for(100ms);  // after the subscription
        hooks.publish(paid);
        rt.sleep_until(sim::time_never);
    });
    REQUIRE(billing == billing_id);
    sim.start(subscriber);
    sim.start(billing);
    sim.run_until(sim::time_zero + 1min);
    CHECK(dedup_ptr->applied_count() == 1);
    CHECK(dedup_ptr->duplicate_count() == 1);
    CHECK(publisher->deliveries().completed_count() == 1);
    CHECK(publisher->deliveries().dead_letters().empty());
    CHECK(webhook_config{}.validate().empty());
}
