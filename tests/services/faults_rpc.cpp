// Faults seen through the RPC layer: a crash during a call, refusals while the
// server is down, a restart that keeps only synced data, a pause longer than the
// caller's timeout, and Istio-style injected status and delay on rpc_server.
#include <catch2/catch.hpp>

#include "services/platform/rpc.hpp"
#include "sim/kernel/faults.hpp"
#include "sim/kernel/simulation.hpp"

using namespace meshsim;
using namespace meshsim::sim::kernel;

namespace {
constexpr sim::port_id api_port = 80;

sim::time_point ms(std::int64_t n) { return sim::time_zero + sim::milliseconds(n); }

// A server whose /work handler computes 50ms, and whose /count reads the store.
void boot_server(sim::runtime& rt) {
    auto server = std::make_shared<svc::rpc_server>(rt, api_port);
    server->route("POST", "/work", 1, [](const svc::request&, svc::request_context& ctx) {
        ctx.rt.durable_store().put("synced", 1);
        ctx.rt.durable_store().sync();
        ctx.rt.durable_store().put("unsynced", 2);
        ctx.rt.compute(sim::milliseconds(50));
        return svc::response{200, {}, "done"};
    });
    server->route("GET", "/state", 1, [](const svc::request&, svc::request_context& ctx) {
        return svc::response{200,
                             {},
                             {{"synced", ctx.rt.durable_store().get("synced").value_or(nullptr)},
                              {"unsynced", ctx.rt.durable_store().get("unsynced").value_or(nullptr)}}};
    });
    server->serve();
}

struct call_log {
    sim::time_point at;
    svc::call_result result;
};
}  // namespace

TEST_CASE("crash during an RPC: the call times out, calls while down are refused, restart serves synced data only") {
    simulation world({.seed = 61});
    world.add_node("server", boot_server);
    std::vector<call_log> calls;
    world.add_node("client", [&](sim::runtime& rt) {
        svc::rpc_client client(rt);
        const auto call = [&](std::string method, std::string path) {
            svc::request req;
            req.method = std::move(method);
            req.path = std::move(path);
            const sim::time_point t0 = rt.now();
            calls.push_back({t0, client.call({0, api_port}, req, t0 + sim::milliseconds(200))});
        };
        call("POST", "/work");  // t=0: the server crashes 20ms into the handler
        rt.sleep_until(ms(300));
        call("GET", "/state");  // t=300: the server is down
        rt.sleep_until(ms(600));
        call("GET", "/state");  // t=600: restarted at 500
    });
    world.start(0);
    world.start(1);
    fault_injector faults(world);
    REQUIRE(
        faults.schedule(fault_spec{.at = ms(20), .length = sim::milliseconds(480), .what = crash_fault{"server", true}})
            .empty());
    world.run();
    REQUIRE(calls.size() == 3);
    CHECK(calls[0].result.result.kind == svc::outcome_kind::timeout);
    CHECK(calls[0].result.elapsed == sim::milliseconds(200));
    CHECK(calls[1].result.result.kind == svc::outcome_kind::connection_refused);
    CHECK(calls[1].result.elapsed == sim::milliseconds(2));  // there and back over 1ms links
    REQUIRE(calls[2].result.result.kind == svc::outcome_kind::ok);
    const auto& body = calls[2].result.reply->body;
    CHECK(body["synced"] == 1);
    CHECK(body["unsynced"].is_null());
}

TEST_CASE("pause longer than the caller's timeout: the RPC times out at the timeout, not at resume") {
    simulation world({.seed = 62});
    world.add_node("server", boot_server);
    std::optional<svc::call_result> got;
    world.add_node("client", [&](sim::runtime& rt) {
        svc::rpc_client client(rt);
        rt.sleep_until(ms(100));
        svc::request req;
        req.path = "/state";
        got = client.call({0, api_port}, req, rt.now() + sim::milliseconds(150));
    });
    world.start(0);
    world.start(1);
    fault_injector faults(world);
    REQUIRE(faults.schedule(fault_spec{.at = ms(50), .length = sim::milliseconds(1000), .what = pause_fault{"server"}})
                .empty());
    world.run();
    REQUIRE(got.has_value());
    CHECK(got->result.kind == svc::outcome_kind::timeout);
    CHECK(got->elapsed == sim::milliseconds(150));
}

TEST_CASE("service fault on rpc_server: 25% +- 2% of 5,000 requests answer 503, delayed ones take 100ms more") {
    simulation world({.seed = 63, .trace = sim::trace_mode::hash_only});
    world.add_node("server", boot_server);
    int aborted = 0;
    int ok = 0;
    int slow = 0;
    const int requests = 5000;
    world.add_node("client", [&](sim::runtime& rt) {
        svc::rpc_client client(rt);
        for (int i = 0; i < requests; ++i) {
            svc::request req;
            req.path = "/state";
            const auto r = client.call({0, api_port}, req, rt.now() + sim::seconds(1));
            if (r.result.http_status == 503) ++aborted;
            if (r.result.kind == svc::outcome_kind::ok) ++ok;
            if (r.elapsed == sim::milliseconds(102)) ++slow;
        }
    });
    world.start(0);
    world.start(1);
    fault_injector faults(world);
    const abort_fault aborts{.node = "server", .port = api_port, .path = "/state", .probability = 0.25, .status = 503};
    const delay_fault delays{
        .node = "server", .port = api_port, .path = "/state", .probability = 0.4, .delay = sim::milliseconds(100)};
    REQUIRE(faults.schedule({fault_spec{.what = aborts}, fault_spec{.what = delays}}).empty());
    world.run();
    CHECK(aborted / static_cast<double>(requests) == Approx(0.25).margin(0.02));  // sd 0.006
    CHECK(aborted + ok == requests);
    CHECK(slow / static_cast<double>(requests) == Approx(0.4).margin(0.03));  // sd 0.007
}
