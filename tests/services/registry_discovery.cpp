// Service discovery on the simulated network: TTL expiry of crashed instances,
// re-registration after restarts (of an instance or of the registry itself), and
// clients that keep calling instances from their cached list while the registry
// is down. Exact expectations: every run is deterministic.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "services/platform/registry.hpp"
#include "services/platform/rpc.hpp"
#include "sim/kernel/simulation.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
constexpr sim::port_id app_port = 80;

struct world {
    simulation sim;
    sim::node_id registry = sim::no_node;
    std::vector<sim::node_id> instances;
    sim::node_id client = sim::no_node;
    registry_service* reg = nullptr;   // valid while the registry node is up
    discovery_client* disc = nullptr;  // valid while the client node is up
    int calls_ok = 0;
    int calls_failed = 0;
    int calls_while_registry_down = 0;
    bool registry_down = false;

    explicit world(std::uint64_t seed, double loss = 0) : sim({.seed = seed, .fiber_stack_bytes = 256 * 1024}) {
        sim.net().set_default_link({.latency = sim::duration_distribution::constant(1ms), .loss = loss});
        registry = sim.add_node("registry", [this](sim::runtime& rt) { boot_registry(rt); });
        for (int i = 1; i <= 2; ++i) {
            const std::string id = "orders-" + std::to_string(i);
            instances.push_back(sim.add_node(id, [this, id](sim::runtime& rt) { boot_instance(rt, id); }));
        }
        client = sim.add_node("client", [this](sim::runtime& rt) { boot_client(rt); });
        sim.start(registry);
        for (auto n : instances) sim.start(n);
        sim.start(client);
    }

    sim::address registry_address() const { return {registry, registry_port}; }

    void boot_registry(sim::runtime& rt) {
        registry_service service(rt, {.ttl = 3s, .expiry_check_interval = 500ms});
        reg = &service;
        // A crash unwinds this fiber: the service is gone until the restart boots a new one.
        struct forget_on_exit {
            registry_service*& reg;
            ~forget_on_exit() { reg = nullptr; }
        } forget{reg};
        service.start();
        rt.sleep_until(sim::time_never);
    }

    void boot_instance(sim::runtime& rt, const std::string& id) {
        rpc_client client(rt);
        rpc_server server(rt, app_port);
        server.route("GET", "/hello", 1, [](const request&, request_context&) { return response{200, {}, "hi"}; });
        rt.spawn("serve", [&server] { server.serve(); });
        registration_agent agent(client, registry_address(),
                                 {"orders", id, {rt.self(), app_port}, "1.0.0", {{"zone", "a"}}},
                                 {.heartbeat_interval = 1s, .call_timeout = 200ms});
        agent.start();
        rt.sleep_until(sim::time_never);
    }

    void boot_client(sim::runtime& rt) {
        rpc_client client(rt);
        discovery_client discovery(client, registry_address(), {.refresh_interval = 1s, .call_timeout = 200ms});
        disc = &discovery;
        discovery.watch("orders");
        discovery.start();
        // A steady caller that picks instances round robin from the cached list.
        for (std::size_t i = 0;; ++i) {
            rt.sleep_for(500ms);
            const auto& list = discovery.instances("orders");
            if (list.empty()) continue;
            request req;
            req.path = "/hello";
            const call_result r = client.call(list[i % list.size()].address, req, rt.now() + 200ms);
            const bool ok = r.result.kind == outcome_kind::ok;
            (ok ? calls_ok : calls_failed)++;
            if (ok && registry_down) ++calls_while_registry_down;
        }
    }

    std::vector<std::string> live_ids() const {
        std::vector<std::string> ids;
        if (reg == nullptr) return ids;  // down, or restarted and not yet booted: an empty table
        for (const auto& info : reg->table().lookup("orders", sim.now())) ids.push_back(info.instance_id);
        return ids;
    }
    std::vector<std::string> cached_ids() const {
        std::vector<std::string> ids;
        for (const auto& info : disc->instances("orders")) ids.push_back(info.instance_id);
        return ids;
    }
};

using ids = std::vector<std::string>;
}  // namespace

TEST_CASE("registry: instances register at start and clients discover them", "[registry]") {
    world w(1);
    w.sim.run_until(sim::time_zero + 1500ms);
    CHECK(w.live_ids() == ids{"orders-1", "orders-2"});
    CHECK(w.cached_ids() == ids{"orders-1", "orders-2"});
    CHECK_FALSE(w.disc->stale("orders"));
    const auto list = w.disc->instances("orders");
    CHECK(list[0].version == "1.0.0");
    CHECK(list[0].metadata == nlohmann::json{{"zone", "a"}});
    CHECK(list[0].address == sim::address{w.instances[0], app_port});
}

TEST_CASE("registry: a crashed instance disappears after the TTL and not before", "[registry]") {
    world w(1);
    w.sim.at(sim::time_zero + 10500ms, [&] { w.sim.crash(w.instances[0]); });
    w.sim.run_until(sim::time_zero + 10500ms);
    const auto last = w.reg->table().last_heartbeat("orders", "orders-1");
    REQUIRE(last);
    CHECK(*last > sim::time_zero + 9500ms);  // heartbeats every second until the crash
    w.sim.run_until(*last + 3s - 1ns);
    CHECK(w.live_ids() == ids{"orders-1", "orders-2"});
    w.sim.run_until(*last + 3s);
    CHECK(w.live_ids() == ids{"orders-2"});
    // The client's next refresh (every second) drops it too.
    w.sim.run_until(*last + 4500ms);
    CHECK(w.cached_ids() == ids{"orders-2"});
    bool expired_logged = false;
    for (const auto& e : w.sim.trace().events()) {
        expired_logged |= e.kind == sim::event_kind::log && e.detail.rfind("registry_expired", 0) == 0 &&
                          e.detail.find("orders-1") != std::string::npos;
    }
    CHECK(expired_logged);
}

TEST_CASE("registry: a restarted instance registers again", "[registry]") {
    world w(1);
    w.sim.at(sim::time_zero + 5s, [&] { w.sim.crash(w.instances[0]); });
    w.sim.at(sim::time_zero + 20s, [&] { w.sim.restart(w.instances[0]); });
    w.sim.run_until(sim::time_zero + 19s);
    CHECK(w.live_ids() == ids{"orders-2"});
    w.sim.run_until(sim::time_zero + 20010ms);
    CHECK(w.live_ids() == ids{"orders-1", "orders-2"});
    w.sim.run_until(sim::time_zero + 22s);
    CHECK(w.cached_ids() == ids{"orders-1", "orders-2"});
}

TEST_CASE("registry: clients keep calling from the cached list while the registry is down", "[registry]") {
    world w(1);
    w.sim.at(sim::time_zero + 5s, [&] {
        w.sim.crash(w.registry);
        w.registry_down = true;
    });
    w.sim.run_until(sim::time_zero + 15s);
    CHECK(w.disc->stale("orders"));
    CHECK(w.cached_ids() == ids{"orders-1", "orders-2"});
    CHECK(w.calls_while_registry_down >= 19);  // two calls a second for ten seconds
    CHECK(w.calls_failed == 0);

    // The restarted registry is empty: heartbeats get 404 and instances register again.
    w.sim.at(sim::time_zero + 20s, [&] {
        w.sim.restart(w.registry);
        w.registry_down = false;
    });
    w.sim.run_until(sim::time_zero + 23s);
    CHECK(w.live_ids() == ids{"orders-1", "orders-2"});
    CHECK_FALSE(w.disc->stale("orders"));
    CHECK(w.cached_ids() == ids{"orders-1", "orders-2"});

    std::vector<std::string> discovery_states;
    for (const auto& e : w.sim.trace().events()) {
        if (e.kind == sim::event_kind::state && e.detail.rfind("discovery/orders=", 0) == 0) {
            discovery_states.push_back(e.detail);
        }
    }
    CHECK(discovery_states == ids{"discovery/orders=fresh", "discovery/orders=stale", "discovery/orders=fresh"});
}

TEST_CASE("registry: a registry restarted empty does not empty the clients' cached lists", "[registry]") {
    world w(1);
    w.sim.at(sim::time_zero + 5s, [&] { w.sim.crash(w.registry); });
    w.sim.at(sim::time_zero + 7s, [&] { w.sim.restart(w.registry); });
    // Sampled every 10 ms across the restart: the table is empty at 7 s and refilled
    // by the next heartbeats; the client's list never is.
    std::size_t samples = 0;
    std::size_t empty_table = 0;
    for (sim::duration t = 7s; t < 10s; t += 10ms) {
        w.sim.at(sim::time_zero + t, [&] {
            ++samples;
            if (w.live_ids().empty()) ++empty_table;
            CHECK(w.cached_ids() == ids{"orders-1", "orders-2"});
        });
    }
    w.sim.run_until(sim::time_zero + 10s);
    CHECK(samples == 300);
    CHECK(empty_table > 0);  // the situation the guard is for did happen
    CHECK_FALSE(w.disc->stale("orders"));
    CHECK(w.calls_failed == 0);
}

TEST_CASE("registry: the same seed gives the same trace, with loss and crashes", "[registry]") {
    auto run = [](std::uint64_t seed) {
        world w(seed, 0.2);
        w.sim.at(sim::time_zero + 4s, [&] { w.sim.crash(w.instances[1]); });
        w.sim.at(sim::time_zero + 6s, [&] { w.sim.restart(w.registry); });
        w.sim.at(sim::time_zero + 9s, [&] { w.sim.restart(w.instances[1]); });
        w.sim.run_until(sim::time_zero + 15s);
        return w.sim.trace().hash();
    };
    CHECK(run(7) == run(7));
    CHECK(run(7) != run(8));
}

TEST_CASE("registry: the table forgets an instance at its TTL and refuses its late heartbeat", "[registry]") {
    registry_table table({.ttl = 3s});
    const instance_info a{"orders", "a", {1, 80}, "1", nlohmann::json::object()};
    table.register_instance(a, sim::time_zero);
    CHECK(table.heartbeat("orders", "a", sim::time_zero + 2999ms));
    CHECK(table.lookup("orders", sim::time_zero + 5998ms).size() == 1);
    CHECK(table.lookup("orders", sim::time_zero + 5999ms).empty());
    CHECK_FALSE(table.heartbeat("orders", "a", sim::time_zero + 6s));
    CHECK(table.expire(sim::time_zero + 6s) == std::vector<instance_info>{a});
    CHECK_FALSE(table.deregister("orders", "a"));
}

TEST_CASE("registry: configs reject non-positive durations", "[registry]") {
    CHECK(registry_config{}.validate().empty());
    CHECK(registration_config{}.validate().empty());
    CHECK(discovery_config{}.validate().empty());
    CHECK(registry_config{.ttl = 0s}.validate().size() == 1);
    CHECK(registration_config{.heartbeat_interval = 0s, .call_timeout = -1s}.validate().size() == 2);
    CHECK(discovery_config{.refresh_interval = 0s}.validate().size() == 1);
}

TEST_CASE("registry: instance_info reads tolerantly", "[registry]") {
    const instance_info a{"orders", "a", {1, 80}, "2.0", {{"zone", "b"}}};
    CHECK(instance_from_json(to_json(a)) == a);
    nlohmann::json extra = to_json(a);
    extra["unknown"] = 42;
    extra.erase("metadata");
    auto read = instance_from_json(extra);
    REQUIRE(read);
    CHECK(read->metadata == nlohmann::json::object());
    CHECK_FALSE(instance_from_json({{"service", "orders"}}));
}
