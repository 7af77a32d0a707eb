// The service template in live simulations: auth, versions, queueing and shedding,
// deadline honouring (and the wasted work without it), rate limits, health,
// deduplication, correlation IDs on log lines, and the tolerant reader.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "service_testing.hpp"
#include "services/platform/tolerant_reader.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace meshsim::svc::testing;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
request make_request(std::string method, std::string path, int version = 1, std::string api_key = "") {
    request req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.api_version = version;
    if (!api_key.empty()) req.head.set(header::api_key, api_key);
    return req;
}

// Runs `body` on a client node against `server` (already added), for up to 60 s.
void drive(simulation& sim, sim::node_id server, std::function<void(sim::runtime&, rpc_client&, sim::address)> body) {
    const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
        body(rt, c, {server, service_port});
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + 60s);
}

std::uint16_t status_of(const call_result& r) { return r.reply ? r.reply->status : 0; }
}  // namespace

TEST_CASE("an unknown or revoked API key gets 401, a key without the endpoint's scope 403") {
    simulation sim({.seed = 1});
    service* svc_ptr = nullptr;
    const auto server = add_service(
        sim, "orders", {},
        [](service& svc) {
            svc.issue_key("reader", {"orders:read"});
            svc.issue_key("admin", {"*"});
            svc.add_endpoint({.method = "GET", .path = "/orders", .required_scope = "orders:read"},
                             [](const request&, endpoint_context&) { return reply(200); });
            svc.add_endpoint({.method = "POST", .path = "/orders", .required_scope = "orders:write"},
                             [](const request&, endpoint_context&) { return reply(201); });
        },
        &svc_ptr);
    std::vector<std::uint16_t> statuses;
    drive(sim, server, [&](sim::runtime& rt, rpc_client& c, sim::address to) {
        auto status = [&](request req) { return status_of(c.call(to, std::move(req), rt.now() + 1s)); };
        statuses.push_back(status(make_request("GET", "/orders")));
        statuses.push_back(status(make_request("GET", "/orders", 1, "stranger")));
        statuses.push_back(status(make_request("GET", "/orders", 1, "reader")));
        statuses.push_back(status(make_request("POST", "/orders", 1, "reader")));
        statuses.push_back(status(make_request("POST", "/orders", 1, "admin")));
        svc_ptr->revoke_key("reader");
        statuses.push_back(status(make_request("GET", "/orders", 1, "reader")));
        svc_ptr->issue_key("late", {"orders:write"});
        statuses.push_back(status(make_request("POST", "/orders", 1, "late")));
    });
    CHECK(statuses == std::vector<std::uint16_t>{401, 401, 200, 403, 201, 401, 201});
    CHECK(svc_ptr->stats().unauthenticated == 3);
    CHECK(svc_ptr->stats().forbidden == 1);
}

TEST_CASE("v1 and v2 of an endpoint are served side by side, v1 relaying to v2") {
    simulation sim({.seed = 1});
    int v2_calls = 0;
    const auto server = add_service(sim, "users", {}, [&v2_calls](service& svc) {
        svc.add_endpoint({.path = "/user", .api_version = 2}, [&v2_calls](const request&, endpoint_context&) {
            ++v2_calls;
            return reply(200, {{"given_name", "Ada"}, {"family_name", "Lovelace"}});
        });
        // v1 keeps its old shape by adapting v2's answer.
        svc.add_endpoint({.path = "/user", .api_version = 1}, [](const request& req, endpoint_context& ctx) {
            response v2 = ctx.relay(2, req);
            const tolerant_reader body(v2.body);
            const std::string name =
                body.optional<std::string>("given_name", "") + " " + body.optional<std::string>("family_name", "");
            return reply(v2.status, {{"name", name}});
        });
    });
    std::vector<nlohmann::json> bodies;
    std::uint16_t v3_status = 0;
    drive(sim, server, [&](sim::runtime& rt, rpc_client& c, sim::address to) {
        bodies.push_back(c.call(to, make_request("GET", "/user", 1), rt.now() + 1s).reply->body);
        bodies.push_back(c.call(to, make_request("GET", "/user", 2), rt.now() + 1s).reply->body);
        v3_status = status_of(c.call(to, make_request("GET", "/user", 3), rt.now() + 1s));
    });
    REQUIRE(bodies.size() == 2);
    CHECK(bodies[0] == nlohmann::json{{"name", "Ada Lovelace"}});
    CHECK(bodies[1] == nlohmann::json{{"given_name", "Ada"}, {"family_name", "Lovelace"}});
    CHECK(v2_calls == 2);
    CHECK(v3_status == 404);
}

TEST_CASE("a request that waits longer than the queue timeout is shed with 503, one beyond the queue at once") {
    simulation sim({.seed = 1});
    service* svc_ptr = nullptr;
    service_config config;
    config.max_concurrent_requests = 1;
    config.queue_capacity = 1;
    config.queue_timeout = 50ms;
    const auto server = add_service(
        sim, "slow", config,
        [](service& svc) {
            svc.add_endpoint({.path = "/x", .service_time = sim::duration_distribution::constant(100ms)},
                             [](const request&, endpoint_context&) { return reply(200); });
        },
        &svc_ptr);
    std::vector<std::pair<std::uint16_t, sim::duration>> results(3);
    drive(sim, server, [&](sim::runtime& rt, rpc_client& c, sim::address to) {
        for (int i = 0; i < 3; ++i) {
            rt.spawn("caller", [&, i] {
                const call_result r = c.call(to, make_request("GET", "/x"), rt.now() + 1s);
                results[i] = {status_of(r), r.elapsed};
            });
        }
        rt.sleep_for(2s);
    });
    // First runs at once; second queues and times out at 51 ms; third finds the queue full.
    CHECK(results[0] == std::pair<std::uint16_t, sim::duration>{200, 102ms});
    CHECK(results[1] == std::pair<std::uint16_t, sim::duration>{503, 52ms});
    CHECK(results[2] == std::pair<std::uint16_t, sim::duration>{503, 2ms});
    CHECK(svc_ptr->stats().shed_queue_timeout == 1);
    CHECK(svc_ptr->stats().shed_queue_full == 1);
    CHECK(svc_ptr->stats().queue_depth_max == 1);
}

TEST_CASE("an expired propagated deadline is dropped when honoured, and still costs the work when not") {
    for (const bool honour : {true, false}) {
        simulation sim({.seed = 1});
        service* svc_ptr = nullptr;
        service_config config;
        config.max_concurrent_requests = 1;
        config.queue_timeout = 10s;
        config.honour_deadlines = honour;
        const auto server = add_service(
            sim, "slow", config,
            [](service& svc) {
                svc.add_endpoint({.path = "/x", .service_time = sim::duration_distribution::constant(100ms)},
                                 [](const request&, endpoint_context&) { return reply(200); });
            },
            &svc_ptr);
        std::vector<call_outcome> outs(2);
        drive(sim, server, [&](sim::runtime& rt, rpc_client& c, sim::address to) {
            call_edge edge(c, "client->slow", {to}, bare_policy());
            // The second caller gives up after 50 ms, while its request still waits for the first.
            const call_scope impatient{.correlation_id = "impatient", .deadline = rt.now() + 50ms, .criticality = ""};
            rt.spawn("patient", [&] { outs[0] = edge.call(make_request("GET", "/x")); });
            rt.spawn("impatient",
                     [&] { outs[1] = edge.call(make_request("GET", "/x"), call_options{.scope = &impatient}); });
            rt.sleep_for(2s);
        });
        CHECK(outs[0].result == outcome::success(200));
        CHECK(outs[1].result.kind == outcome_kind::deadline_exceeded);
        CHECK(outs[1].elapsed == 50ms);
        const service_stats& stats = svc_ptr->stats();
        if (honour) {
            CHECK(stats.handled == 1);
            CHECK(stats.dropped_expired == 1);
            CHECK(stats.expired_but_served == 0);
        } else {
            CHECK(stats.handled == 2);
            CHECK(stats.dropped_expired == 0);
            CHECK(stats.expired_but_served == 1);
        }
    }
}

TEST_CASE("rate limits are per consumer, and a 429 says when to come back") {
    simulation sim({.seed = 1});
    service_config config;
    config.rate_limit = rate_limit_config{.rate_per_second = 10, .burst_requests = 2};
    const auto server = add_service(sim, "api", config, [](service& svc) {
        svc.add_endpoint({.path = "/x"}, [](const request&, endpoint_context&) { return reply(200); });
    });
    std::vector<std::uint16_t> statuses;
    std::string retry_after;
    drive(sim, server, [&](sim::runtime& rt, rpc_client& c, sim::address to) {
        for (const char* key : {"a", "a", "a", "b"}) {
            const call_result r = c.call(to, make_request("GET", "/x", 1, key), rt.now() + 1s);
            statuses.push_back(status_of(r));
            if (status_of(r) == 429) retry_after = r.reply->head.get(header::retry_after_ns);
        }
    });
    CHECK(statuses == std::vector<std::uint16_t>{200, 200, 429, 200});
    // Consumer a: tokens at 1 ms and 3 ms; a third token is due 100 ms after the first, at 101 ms.
    CHECK(retry_after == std::to_string(sim::duration(96ms).count()));
}

TEST_CASE("the health endpoint answers without auth or queueing, 503 while not ready") {
    simulation sim({.seed = 1});
    service* svc_ptr = nullptr;
    service_config config;
    config.max_concurrent_requests = 1;
    const auto server = add_service(
        sim, "api", config,
        [](service& svc) {
            svc.add_endpoint(
                {.path = "/x", .required_scope = "x", .service_time = sim::duration_distribution::constant(1s)},
                [](const request&, endpoint_context&) { return reply(200); });
        },
        &svc_ptr);
    std::vector<std::uint16_t> statuses;
    drive(sim, server, [&](sim::runtime& rt, rpc_client& c, sim::address to) {
        svc_ptr->issue_key("k", {"x"});
        rt.spawn("busy", [&] { c.call(to, make_request("GET", "/x", 1, "k"), rt.now() + 5s); });
        rt.sleep_for(10ms);
        statuses.push_back(status_of(c.call(to, make_request("GET", "/health"), rt.now() + 1s)));
        svc_ptr->set_ready(false);
        statuses.push_back(status_of(c.call(to, make_request("GET", "/health"), rt.now() + 1s)));
        rt.sleep_for(2s);
    });
    CHECK(statuses == std::vector<std::uint16_t>{200, 503});
}

TEST_CASE("requests with the same idempotency key run once, and duplicates get the first answer") {
    simulation sim({.seed = 1});
    int effects = 0;
    const auto server = add_service(sim, "payments", {}, [&effects](service& svc) {
        svc.add_endpoint({.method = "POST",
                          .path = "/pay",
                          .service_time = sim::duration_distribution::constant(20ms),
                          .deduplicate = true},
                         [&effects](const request&, endpoint_context&) {
                             return reply(201, {{"payment", ++effects}});
                         });
    });
    std::vector<nlohmann::json> bodies;
    drive(sim, server, [&](sim::runtime& rt, rpc_client& c, sim::address to) {
        auto pay = [&](const std::string& key) {
            request req = make_request("POST", "/pay");
            req.head.set(header::idempotency_key, key);
            bodies.push_back(c.call(to, std::move(req), rt.now() + 1s).reply->body);
        };
        rt.spawn("concurrent duplicate", [&] { pay("k1"); });
        pay("k1");
        pay("k1");
        pay("k2");
    });
    CHECK(effects == 2);
    REQUIRE(bodies.size() == 4);
    CHECK(bodies[0] == nlohmann::json{{"payment", 1}});
    CHECK(bodies[1] == nlohmann::json{{"payment", 1}});
    CHECK(bodies[2] == nlohmann::json{{"payment", 1}});
    CHECK(bodies[3] == nlohmann::json{{"payment", 2}});
}

TEST_CASE("log lines and outgoing calls carry the incoming correlation ID") {
    simulation sim({.seed = 1});
    std::string seen_downstream;
    const auto leaf = add_service(sim, "leaf", {}, [&](service& svc) {
        svc.add_endpoint({.path = "/leaf"}, [&](const request& req, endpoint_context&) {
            seen_downstream = req.head.get(header::correlation_id);
            return reply(200);
        });
    });
    const auto front = sim.add_node("front", [leaf](sim::runtime& rt) {
        rpc_client client(rt);
        call_edge edge(client, "front->leaf", {{leaf, service_port}}, bare_policy());
        service_config config;
        config.name = "front";
        config.port = service_port;
        service svc(rt, config);
        svc.add_endpoint({.path = "/front"}, [&edge](const request&, endpoint_context& ctx) {
            ctx.log("calling_leaf");
            return edge.call(make_request("GET", "/leaf"), ctx.outgoing()).reply.value_or(reply(502));
        });
        svc.serve();
    });
    std::string echoed;
    sim.start(leaf);
    sim.start(front);
    drive(sim, front, [&](sim::runtime& rt, rpc_client& c, sim::address to) {
        request req = make_request("GET", "/front");
        req.head.set(header::correlation_id, "req-42");
        echoed = c.call(to, std::move(req), rt.now() + 1s).reply->head.get(header::correlation_id);
    });
    CHECK(seen_downstream == "req-42");
    CHECK(echoed == "req-42");
    CHECK(trace_details(sim, sim::event_kind::log) ==
          std::vector<std::string>{R"(calling_leaf {"correlation_id":"req-42","service":"front"})"});
}

TEST_CASE("a service config names its bad parameters") {
    service_config config;
    config.name = "";
    config.queue_timeout = -1ms;
    config.rate_limit = rate_limit_config{.rate_per_second = 0, .burst_requests = 1};
    const auto errors = config.validate();
    REQUIRE(errors.size() == 3);
    CHECK(errors[0] == "name must not be empty");
    CHECK(errors[1] == "queue_timeout must be >= 0, got -1ms");
    CHECK(errors[2].starts_with("rate_limit.rate_per_second"));
}

// ------------------------------------------------------------------ tolerant reader

TEST_CASE("a v1 consumer reading tolerantly is not broken by v2's additive change") {
    // v1 of the API answered {id, name}; v2 adds "email" and an object "address".
    const nlohmann::json v1_body = {{"id", 7}, {"name", "Ada"}};
    const nlohmann::json v2_body = {
        {"id", 7}, {"name", "Ada"}, {"email", "ada@example.org"}, {"address", {{"city", "London"}}}};
    struct user_v1 {
        int id;
        std::string name;
        std::string nickname;  // optional, never sent by either version
    };
    auto read_v1 = [](const nlohmann::json& body) {
        tolerant_reader r(body);
        user_v1 user{r.required<int>("id"), r.required<std::string>("name"), r.optional<std::string>("nickname", "-")};
        REQUIRE(r.ok());
        return user;
    };
    const user_v1 from_v1 = read_v1(v1_body);
    const user_v1 from_v2 = read_v1(v2_body);
    CHECK(from_v2.id == from_v1.id);
    CHECK(from_v2.name == from_v1.name);
    CHECK(from_v2.nickname == "-");
}

TEST_CASE("a tolerant reader reports missing or mistyped required fields and never throws") {
    const nlohmann::json body = {{"id", "not a number"}, {"note", nullptr}};
    tolerant_reader r(body);
    CHECK(r.required<int>("id") == 0);
    CHECK(r.required<std::string>("name").empty());
    CHECK(r.optional<std::string>("note", "none") == "none");
    CHECK(r.errors() == std::vector<std::string>{"id is required", "name is required"});
    const nlohmann::json not_an_object = nlohmann::json::array({1, 2});
    CHECK(tolerant_reader(not_an_object).optional<int>("id", 5) == 5);
}

// ------------------------------------------------------------------ properties

TEST_CASE("idempotency properties") {
    rc::prop("a request with an idempotency key has at most one effect however it is delivered", [] {
        const auto keys = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 4));
        const auto gaps_ms = *rc::gen::container<std::vector<int>>(keys.size(), rc::gen::inRange(0, 30));
        simulation sim({.seed = *rc::gen::inRange<std::uint64_t>(1, 1000)});
        std::map<std::string, int> effects;
        std::map<std::string, std::vector<nlohmann::json>> answers;
        const auto server = add_service(sim, "jobs", {}, [&effects](service& svc) {
            svc.add_endpoint({.method = "POST",
                              .path = "/job",
                              .service_time = sim::duration_distribution::uniform(1ms, 40ms),
                              .deduplicate = true},
                             [&effects](const request& req, endpoint_context&) {
                                 const std::string key = req.head.get(header::idempotency_key);
                                 return reply(200, {{"run", ++effects[key]}});
                             });
        });
        drive(sim, server, [&](sim::runtime& rt, rpc_client& c, sim::address to) {
            for (std::size_t i = 0; i < keys.size(); ++i) {
                rt.sleep_for(std::chrono::milliseconds(gaps_ms[i]));
                rt.spawn("delivery", [&, key = "k" + std::to_string(keys[i])] {
                    request req = make_request("POST", "/job");
                    req.head.set(header::idempotency_key, key);
                    const call_result r = c.call(to, std::move(req), rt.now() + 10s);
                    if (r.reply) answers[key].push_back(r.reply->body);
                });
            }
            rt.sleep_for(20s);
        });
        for (const auto& [key, count] : effects) RC_ASSERT(count <= 1);
        for (const auto& [key, bodies] : answers) {
            for (const auto& body : bodies) RC_ASSERT((body == nlohmann::json{{"run", 1}}));
        }
    });
}

TEST_CASE("an endpoint's observer sees every request with its status, the queue listener sees waiting, not admission") {
    struct recorder final : request_observer {
        std::vector<std::string> seen;
        void arrived(sim::time_point at) override { seen.push_back("arrived " + sim::format_time(at)); }
        void answered(sim::time_point arrived, sim::time_point at, std::uint16_t status) override {
            seen.push_back(std::to_string(status) + " " + sim::format_time(arrived) + "->" + sim::format_time(at));
        }
    } observer;
    std::vector<int> deltas;
    simulation sim({.seed = 1});
    service_config config;
    config.max_concurrent_requests = 1;
    config.queue_capacity = 1;
    config.queue_timeout = sim::duration::max();  // waits as long as it takes
    const auto server = add_service(sim, "slow", config, [&](service& svc) {
        svc.issue_key("k", {"*"});
        svc.on_queue_change([&](int delta) { deltas.push_back(delta); });
        svc.add_endpoint({.path = "/x",
                          .required_scope = "x",
                          .service_time = sim::duration_distribution::constant(20s),
                          .observer = &observer},
                         [](const request&, endpoint_context&) { return reply(200); });
    });
    std::vector<std::uint16_t> statuses(4);
    drive(sim, server, [&](sim::runtime& rt, rpc_client& c, sim::address to) {
        for (int i = 0; i < 4; ++i) {
            rt.spawn("caller", [&, i] {
                const call_result r = c.call(to, make_request("GET", "/x", 1, i == 3 ? "" : "k"), rt.now() + 55s);
                statuses[i] = status_of(r);
            });
        }
        rt.sleep_for(50s);
    });
    // One served, one waits the whole first request (20 s, far past the default
    // queue timeout), one finds the queue full, one has no key.
    CHECK(statuses == std::vector<std::uint16_t>{200, 200, 503, 401});
    CHECK(deltas == std::vector<int>{+1, -1});
    CHECK(observer.seen == std::vector<std::string>{"arrived 1ms", "arrived 1ms", "arrived 1ms", "503 1ms->1ms",
                                                    "arrived 1ms", "401 1ms->1ms", "200 1ms->20001ms",
                                                    "200 1ms->40001ms"});
}

TEST_CASE("an endpoint's honour_deadline overrides the service's") {
    for (const bool endpoint_honours : {true, false}) {
        simulation sim({.seed = 1});
        service* svc_ptr = nullptr;
        service_config config;
        config.honour_deadlines = !endpoint_honours;
        const auto server = add_service(
            sim, "svc", config,
            [&](service& svc) {
                svc.add_endpoint({.path = "/x",
                                  .service_time = sim::duration_distribution::constant(5ms),
                                  .honour_deadline = endpoint_honours},
                                 [](const request&, endpoint_context&) { return reply(200); });
            },
            &svc_ptr);
        std::uint16_t status = 0;
        drive(sim, server, [&](sim::runtime& rt, rpc_client& c, sim::address to) {
            request req = make_request("GET", "/x");
            req.head.set(header::deadline_ns, "0");  // already expired on arrival
            status = status_of(c.call(to, std::move(req), rt.now() + 1s));
        });
        CHECK(status == (endpoint_honours ? 504 : 200));
        CHECK(svc_ptr->stats().dropped_expired == (endpoint_honours ? 1u : 0u));
    }
}
