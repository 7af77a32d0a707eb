// Discovery wired into the template and the client: services register themselves
// and heartbeat (a crash leaves the TTL to remove them), and call edges follow the
// discovered list as instances come and go, keeping it through registry outages.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "service_testing.hpp"
#include "services/platform/registry.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace meshsim::svc::testing;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
// One call of the client loop: when it started, who answered ("" = failed), and
// how many instances the edge followed when it started.
struct call_record {
    sim::time_point at;
    std::string responder;
    std::size_t instances = 0;
};

// A registry, two self-registering "orders" instances (TTL 3 s, heartbeats every
// second), and a client calling through a discovery-following edge every 100 ms.
struct world {
    simulation sim{{.seed = 7, .fiber_stack_bytes = 256 * 1024}};
    sim::node_id registry = sim::no_node;
    std::vector<sim::node_id> instances;
    sim::node_id client = sim::no_node;
    registry_service* reg = nullptr;
    discovery_client* disc = nullptr;
    std::vector<call_record> calls;

    world() {
        sim.net().set_default_link({.latency = sim::duration_distribution::constant(1ms)});
        registry = sim.add_node("registry", [this](sim::runtime& rt) {
            registry_service service(rt, {.ttl = 3s, .expiry_check_interval = 500ms});
            reg = &service;
            service.start();
            rt.sleep_until(sim::time_never);
        });
        service_config config;
        config.name = "orders";
        config.port = service_port;
        config.registry_address = sim::address{registry, registry_port};
        config.registration = {.heartbeat_interval = 1s, .call_timeout = 200ms};
        config.version = "2.1.0";
        // Instance ids default to the node names.
        for (const char* node : {"orders-1", "orders-2"}) {
            instances.push_back(sim.add_node(node, [config](sim::runtime& rt) {
                service svc(rt, config);
                svc.add_endpoint({.path = "/x"},
                                 [](const request&, endpoint_context& ctx) { return reply(200, ctx.rt.node_name()); });
                svc.serve();
            }));
        }
        client = add_client(sim, "client", [this](sim::runtime& rt, rpc_client& c) { run_client(rt, c); });
        sim.start(registry);
        sim.start(client);
    }

    void run_client(sim::runtime& rt, rpc_client& c) {
        rpc_client registry_client(rt, 49153);
        discovery_client discovery(registry_client, {registry, registry_port},
                                   {.refresh_interval = 1s, .call_timeout = 200ms});
        disc = &discovery;
        edge_policy policy = bare_policy();
        policy.timeout_per_try = 50ms;
        call_edge edge(c, "client->orders", discovery, "orders", policy);
        discovery.start();
        while (true) {
            rt.sleep_for(100ms);
            request req;
            req.path = "/x";
            const std::size_t followed = edge.instances().size();
            const sim::time_point at = rt.now();
            const call_outcome out = edge.call(req);
            const bool ok = out.result.kind == outcome_kind::ok && out.reply && out.reply->body.is_string();
            calls.push_back({at, ok ? out.reply->body.get<std::string>() : "", followed});
        }
    }

    std::vector<std::string> registered_ids() const {
        std::vector<std::string> ids;
        for (const auto& info : reg->table().lookup("orders", sim.now())) ids.push_back(info.instance_id);
        return ids;
    }
    // Calls started in [from, to) answered by `who` ("" = failed).
    int count(const std::string& who, sim::time_point from, sim::time_point to) const {
        int n = 0;
        for (const auto& c : calls) n += c.at >= from && c.at < to && c.responder == who;
        return n;
    }
};

using ids = std::vector<std::string>;
sim::time_point at(sim::duration d) { return sim::time_zero + d; }
}  // namespace

TEST_CASE("a service with a registry address registers itself with its node, port and version", "[discovery]") {
    world w;
    for (auto n : w.instances) w.sim.start(n);
    w.sim.run_until(at(1500ms));
    CHECK(w.registered_ids() == ids{"orders-1", "orders-2"});
    const auto list = w.reg->table().lookup("orders", w.sim.now());
    REQUIRE(list.size() == 2);
    CHECK(list[0].address == sim::address{w.instances[0], service_port});
    CHECK(list[0].version == "2.1.0");
}

TEST_CASE("a self-registered service heartbeats, and after a crash disappears at the TTL, not before", "[discovery]") {
    world w;
    for (auto n : w.instances) w.sim.start(n);
    w.sim.at(at(10500ms), [&] { w.sim.crash(w.instances[0]); });
    w.sim.run_until(at(10500ms));
    const auto last = w.reg->table().last_heartbeat("orders", "orders-1");
    REQUIRE(last);
    CHECK(*last > at(9500ms));  // heartbeats every second until the crash
    w.sim.run_until(*last + 3s - 1ns);
    CHECK(w.registered_ids() == ids{"orders-1", "orders-2"});
    w.sim.run_until(*last + 3s);
    CHECK(w.registered_ids() == ids{"orders-2"});
}

TEST_CASE("a call edge following discovery sends to a new instance once it registered and the client refreshed",
          "[discovery]") {
    world w;
    w.sim.start(w.instances[0]);
    w.sim.at(at(5s), [&] { w.sim.start(w.instances[1]); });
    w.sim.run_until(at(9s));
    // Calls are 102 ms apart (100 ms pause + 2 ms round trip). The first ten find no
    // instance yet: the client's first refresh (t = 0) came before any registration.
    CHECK(w.count("", at(0s), at(1050ms)) == 10);
    CHECK(w.count("", at(1050ms), at(9s)) == 0);
    // Before orders-2 exists every call goes to orders-1.
    CHECK(w.count("orders-1", at(1050ms), at(5s)) == 39);
    CHECK(w.count("orders-2", at(0s), at(5s)) == 0);
    // orders-2 registers at 5.001 s; the refresh at 5.010 s lists it; the edge takes
    // the new list at its next call (5078 ms, round robin resuming at orders-1).
    sim::time_point first_to_2 = sim::time_never;
    for (const auto& c : w.calls) {
        if (c.responder == "orders-2") first_to_2 = std::min(first_to_2, c.at);
    }
    CHECK(first_to_2 == at(5180ms));
    // From then on round robin alternates between the two.
    CHECK(w.count("orders-2", at(5180ms), at(9s)) == 19);
    CHECK(w.count("orders-1", at(5180ms), at(9s)) == 19);
}

TEST_CASE("a crashed instance stops being picked after the TTL and the next refresh", "[discovery]") {
    world w;
    for (auto n : w.instances) w.sim.start(n);
    w.sim.at(at(10s), [&] { w.sim.crash(w.instances[0]); });
    w.sim.run_until(at(20s));
    // Every other call fails (50 ms per-try timeout) while the dead instance is still
    // listed: until its last heartbeat (before 10 s) plus the 3 s TTL, plus at most
    // one 1 s refresh. Here the refresh at about 12.1 s drops it.
    CHECK(w.count("", at(10s), at(20s)) == 10);
    sim::time_point last_failure = sim::time_zero;
    for (const auto& c : w.calls) {
        if (c.responder.empty()) last_failure = c.at;
    }
    CHECK(last_failure == at(11912ms));
    CHECK(last_failure < at(10s) + 3s + 1s);
    CHECK(w.count("orders-1", at(11912ms), at(20s)) == 0);
    CHECK(w.count("", at(11950ms), at(20s)) == 0);
    CHECK(w.count("orders-2", at(11950ms), at(20s)) == 79);
    CHECK(w.calls.back().instances == 1);
}

TEST_CASE("a call edge keeps calling its cached instances while the registry is down", "[discovery]") {
    world w;
    for (auto n : w.instances) w.sim.start(n);
    w.sim.at(at(3s), [&] { w.sim.crash(w.registry); });
    w.sim.run_until(at(10s));
    CHECK(w.disc->stale("orders"));
    CHECK(w.count("", at(1050ms), at(10s)) == 0);
    CHECK(w.count("orders-1", at(4s), at(10s)) == 29);
    CHECK(w.count("orders-2", at(4s), at(10s)) == 30);
}

TEST_CASE("a load balancer remap keeps the ejection of an instance that stays and drops one that left", "[discovery]") {
    load_balancer_config config;
    config.outlier_detection.consecutive_5xx = 1;
    config.outlier_detection.max_ejection_percent = 100;
    load_balancer lb(config, 3);
    const sim::time_point now = sim::time_zero;
    lb.on_result(1, now, outcome::http(503));
    lb.on_result(2, now, outcome::http(503));
    REQUIRE(lb.is_ejected(1, now));
    REQUIRE(lb.is_ejected(2, now));
    // Old 1 moves to index 0, old 2 leaves, a newcomer takes index 1.
    lb.remap({1, std::nullopt});
    CHECK(lb.endpoint_count() == 2);
    CHECK(lb.is_ejected(0, now));
    CHECK(lb.times_ejected(0) == 1);
    CHECK_FALSE(lb.is_ejected(1, now));
    CHECK(lb.times_ejected(1) == 0);
}
