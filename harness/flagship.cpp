#include "harness/flagship.hpp"

#include <memory>

#include "services/platform/backoff.hpp"
#include "services/platform/rpc.hpp"

namespace meshsim::harness {

namespace {

constexpr sim::port_id http_port = 80;

struct counters {
    std::uint64_t requests = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::uint64_t attempts_at_inventory = 0;
};

void inventory_process(sim::runtime& rt, counters& seen) {
    svc::rpc_server server(rt, http_port);
    sim::random_stream& work = rt.random("service-time");
    server.route("GET", "/stock", 1, [&](const svc::request& req, svc::request_context& ctx) {
        ++seen.attempts_at_inventory;
        ctx.rt.compute(sim::from_seconds(work.exponential(0.004)));  // mean 4ms of work
        return svc::response{200, {}, {{"sku", req.body.value("sku", "")}, {"count", 7}}};
    });
    server.serve();
}

void api_process(sim::runtime& rt, std::vector<sim::node_id> inventory) {
    auto client = std::make_shared<svc::rpc_client>(rt);
    svc::rpc_server server(rt, http_port);
    const svc::backoff retry_delay({.base_delay = sim::milliseconds(10), .max_delay = sim::milliseconds(200)});
    std::uint64_t next_instance = 0;
    server.route("POST", "/checkout", 1, [&, client](const svc::request& req, svc::request_context& ctx) {
        sim::duration previous{0};
        for (std::uint32_t attempt = 0; attempt < 3; ++attempt) {
            if (attempt > 0) {
                previous = retry_delay.delay(attempt - 1, previous, ctx.rt.random("retry"));
                ctx.rt.sleep_for(previous);
            }
            const sim::address target{inventory[next_instance++ % inventory.size()], http_port};
            svc::request stock{"GET", "/stock", 1, {}, {{"sku", req.body.value("sku", "")}}};
            stock.head.set(svc::header::correlation_id, req.head.get(svc::header::correlation_id));
            const svc::call_result r = client->call(target, std::move(stock), ctx.rt.now() + sim::milliseconds(100));
            if (r.result.kind == svc::outcome_kind::ok) return svc::response{200, {}, {{"ok", true}}};
        }
        return svc::response{503, {}, {{"ok", false}}};
    });
    server.serve();
}

void client_process(sim::runtime& rt, sim::node_id api, const flagship_options& options, counters& seen) {
    auto client = std::make_shared<svc::rpc_client>(rt);
    sim::random_stream& arrivals = rt.random("arrivals");
    const sim::time_point end = rt.now() + options.duration - sim::seconds(1);  // let the last ones finish
    std::uint64_t n = 0;
    while (true) {
        rt.sleep_for(sim::from_seconds(arrivals.exponential(1.0 / options.request_rate_per_s)));
        if (rt.now() >= end) break;
        ++seen.requests;
        const std::uint64_t id = ++n;
        rt.spawn("checkout", [&rt, client, api, id, &seen] {
            svc::request req{"POST", "/checkout", 1, {}, {{"sku", "sku-" + std::to_string(id % 50)}}};
            req.head.set(svc::header::correlation_id, "c-" + std::to_string(id));
            const svc::call_result r = client->call({api, http_port}, std::move(req), rt.now() + sim::seconds(1));
            if (r.result.kind == svc::outcome_kind::ok) {
                ++seen.succeeded;
            } else {
                ++seen.failed;
            }
        });
    }
}

}  // namespace

nlohmann::json flagship_result::to_json() const {
    return {{"requests", requests},
            {"succeeded", succeeded},
            {"failed", failed},
            {"attempts_at_inventory", attempts_at_inventory},
            {"success_ratio", success_ratio},
            {"passed", passed},
            {"verdict_reason", verdict_reason}};
}

flagship_result run_flagship(sim::kernel::simulation& world, const flagship_options& options) {
    counters seen;
    world.net().set_default_link(
        {.latency = sim::duration_distribution::lognormal(sim::microseconds(500), 0.5)});
    std::vector<sim::node_id> inventory;
    for (int i = 1; i <= 3; ++i) {
        inventory.push_back(world.add_node("inventory-" + std::to_string(i),
                                           [&seen](sim::runtime& rt) { inventory_process(rt, seen); }));
    }
    const sim::node_id api = world.add_node("api", [inventory](sim::runtime& rt) { api_process(rt, inventory); });
    const sim::node_id client = world.add_node(
        "client", [api, &options, &seen](sim::runtime& rt) { client_process(rt, api, options, seen); });
    for (const sim::node_id id : inventory) world.start(id);
    world.start(api);
    world.start(client);
    world.at(sim::time_zero + options.crash_at, [&world, id = inventory[1]] { world.crash(id); });
    world.at(sim::time_zero + options.restart_at, [&world, id = inventory[1]] { world.restart(id); });
    world.run_until(sim::time_zero + options.duration);

    flagship_result r;
    r.requests = seen.requests;
    r.succeeded = seen.succeeded;
    r.failed = seen.failed;
    r.attempts_at_inventory = seen.attempts_at_inventory;
    r.success_ratio = r.requests == 0 ? 0 : static_cast<double>(r.succeeded) / static_cast<double>(r.requests);
    const bool all_answered = r.succeeded + r.failed == r.requests;
    r.passed = all_answered && r.success_ratio >= options.success_ratio_min;
    r.verdict_reason = !all_answered ? "some requests were never answered"
                       : r.passed    ? "success ratio at or above the minimum"
                                     : "success ratio below the minimum";
    return r;
}

}  // namespace meshsim::harness
