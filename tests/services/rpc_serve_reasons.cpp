// rpc_serve at the server and the reason it gives: each of the service template's
// refusals (queue full, queue timeout, CoDel, rate limit, authentication, unknown
// route) is its own reason, in the server's rpc_serve and, through x-reason, in the
// caller's rpc_attempt; spans nest through the traceparent header (a handler's
// calls are children of its server span).
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "service_testing.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace meshsim::svc::testing;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
std::vector<std::string> fields(const std::string& detail) {
    std::vector<std::string> out;
    std::size_t from = 0;
    while (true) {
        const std::size_t space = detail.find(' ', from);
        out.push_back(detail.substr(from, space - from));
        if (space == std::string::npos) return out;
        from = space + 1;
    }
}

// status -> reasons, from the server's rpc_serve events and the caller's rpc_attempt events.
struct answers {
    std::multimap<std::uint64_t, std::string> served;
    std::multimap<std::uint64_t, std::string> attempted;
};

// `calls` concurrent GETs of `path` (each its own fiber) to one server.
answers run_calls(service_config config, endpoint_spec spec, int calls, const std::string& path = "/x") {
    simulation sim({.seed = 3});
    const auto server = add_service(sim, "server", config, [spec](service& svc) {
        svc.add_endpoint(spec, [](const request&, endpoint_context&) { return reply(200); });
    });
    const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
        edge_policy policy = bare_policy();
        policy.timeout_per_try = 5s;
        call_edge edge(c, "client->server", {{server, service_port}}, policy);
        for (int i = 0; i < calls; ++i) {
            rt.spawn("call", [&edge, &path] {
                request req;
                req.path = path;
                edge.call(req);
            });
        }
        rt.sleep_for(10s);
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    answers a;
    for (const sim::trace_event& e : sim.trace().events()) {
        if (e.kind == sim::event_kind::rpc_serve) a.served.emplace(e.a, fields(e.detail).at(0));
        if (e.kind == sim::event_kind::rpc_attempt) a.attempted.emplace(e.a, fields(e.detail).at(1));
    }
    return a;
}

endpoint_spec slow_x(sim::duration service_time) {
    return {.path = "/x", .service_time = sim::duration_distribution::constant(service_time)};
}
}  // namespace

TEST_CASE("each refusal of the service template is its own reason, at the server and at the caller") {
    using reasons = std::multimap<std::uint64_t, std::string>;
    struct refusal_case {
        const char* what;
        service_config config;
        endpoint_spec spec;
        int calls;
        std::string path;
        reasons expected;
    };
    const refusal_case cases[] = {
        {"queue full",
         {.max_concurrent_requests = 1, .queue_capacity = 0},
         slow_x(100ms),
         2,
         "/x",
         {{200, "ok"}, {503, "queue_full"}}},
        {"queue timeout",
         {.max_concurrent_requests = 1, .queue_capacity = 8, .queue_timeout = 10ms},
         slow_x(100ms),
         2,
         "/x",
         {{200, "ok"}, {503, "queue_timeout"}}},
        // 20 ms each: the third waits 40 ms under a standing queue and is shed, as is every one after it.
        {"codel",
         {.max_concurrent_requests = 1,
          .queue_capacity = 8,
          .queue_timeout = 10s,
          .codel = codel_config{.target = 5ms, .interval = 10ms}},
         slow_x(20ms),
         4,
         "/x",
         {{200, "ok"}, {200, "ok"}, {503, "codel"}, {503, "codel"}}},
        {"rate limit",
         {.rate_limit = rate_limit_config{.rate_per_second = 1, .burst_requests = 1}},
         slow_x(0ms),
         2,
         "/x",
         {{200, "ok"}, {429, "rate_limited"}}},
        {"no API key", {}, {.path = "/x", .required_scope = "read"}, 1, "/x", {{401, "unauthenticated"}}},
        {"unknown route", {}, slow_x(0ms), 1, "/nowhere", {{404, "not_found"}}},
    };
    for (const refusal_case& c : cases) {
        CAPTURE(c.what);
        const answers a = run_calls(c.config, c.spec, c.calls, c.path);
        CHECK(a.served == c.expected);
        // The caller sees the same reason, "-" for a success.
        reasons at_caller;
        for (const auto& [status, reason] : c.expected) at_caller.emplace(status, status < 400 ? "-" : reason);
        CHECK(a.attempted == at_caller);
    }
}

TEST_CASE("a handler's calls are children of its server span, in the trace of the root call") {
    simulation sim({.seed = 11});
    const auto back = add_service(sim, "back", {}, [](service& svc) {
        svc.add_endpoint({.path = "/b"}, [](const request&, endpoint_context&) { return reply(200); });
    });
    const auto front = sim.add_node("front", [back](sim::runtime& rt) {
        rpc_client client(rt, 49150);
        call_edge edge(client, "front->back", {{back, service_port}}, bare_policy());
        service svc(rt, service_config{.name = "front", .port = service_port});
        svc.add_endpoint({.path = "/f"}, [&edge](const request&, endpoint_context& ctx) {
            request req;
            req.path = "/b";
            return reply(edge.call(req, ctx.outgoing()).result.kind == outcome_kind::ok ? 200 : 502);
        });
        svc.serve();
    });
    const auto client = add_client(sim, "client", [front](sim::runtime&, rpc_client& c) {
        call_edge edge(c, "client->front", {{front, service_port}}, bare_policy());
        request req;
        req.path = "/f";
        edge.call(req);
    });
    for (const auto n : {back, front, client}) sim.start(n);
    sim.run_until(sim::time_zero + 1s);
    // By node: the attempt's and the serve's fields.
    std::map<std::string, std::vector<std::string>> attempt, serve;
    for (const sim::trace_event& e : sim.trace().events()) {
        const std::string& node = sim.get_node(e.node).node_name();
        if (e.kind == sim::event_kind::rpc_attempt) attempt[node] = fields(e.detail);
        if (e.kind == sim::event_kind::rpc_serve) serve[node] = fields(e.detail);
    }
    REQUIRE(attempt.size() == 2);
    REQUIRE(serve.size() == 2);
    // attempt: [5] trace [6] span [7] parent; serve: [5] trace [6] span [7] parent.
    const std::string trace = attempt["client"][5];
    CHECK(attempt["client"][7] == "-");
    CHECK(serve["front"][7] == attempt["client"][6]);
    CHECK(attempt["front"][7] == serve["front"][6]);
    CHECK(serve["back"][7] == attempt["front"][6]);
    for (const auto* f : {&attempt["front"], &serve["front"], &serve["back"]}) CHECK((*f)[5] == trace);
    CHECK(attempt["front"][3] == "back");
    CHECK(serve["back"][2] == "front");
}

TEST_CASE("a bare rpc_client call is a child of the span its traceparent header names, or starts a trace") {
    const std::string given_trace = "4bf92f3577b34da6a3ce929d0e0e4736", given_span = "00f067aa0ba902b7";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"a span", "00-" + given_trace + "-" + given_span + "-01"},
        {"a root call in a chosen trace", "00-" + given_trace + "-0000000000000000-01"},
        {"no header", ""},
        {"not W3C's form", "00-" + given_trace + "-" + given_span + "-0"},
    };
    for (const auto& [what, traceparent] : cases) {
        CAPTURE(what);
        simulation sim({.seed = 5});
        const auto server = add_service(sim, "server", {}, [](service& svc) {
            svc.add_endpoint({.path = "/x"}, [](const request&, endpoint_context&) { return reply(200); });
        });
        const auto client = add_client(sim, "client", [server, tp = traceparent](sim::runtime& rt, rpc_client& c) {
            request req;
            req.path = "/x";
            if (!tp.empty()) req.head.set(header::traceparent, tp);
            c.call({server, service_port}, req, rt.now() + 1s);
        });
        sim.start(server);
        sim.start(client);
        sim.run_until(sim::time_zero + 1s);
        std::vector<std::string> attempt, serve;
        for (const sim::trace_event& e : sim.trace().events()) {
            if (e.kind == sim::event_kind::rpc_attempt) attempt = fields(e.detail);
            if (e.kind == sim::event_kind::rpc_serve) serve = fields(e.detail);
        }
        REQUIRE(attempt.size() > 7);
        REQUIRE(serve.size() > 7);
        const bool valid = what == "a span" || what == "a root call in a chosen trace";
        CHECK((attempt[5] == given_trace) == valid);
        CHECK(attempt[7] == (what == "a span" ? given_span : "-"));
        CHECK(attempt[6] != given_span);
        // The server is a child of the attempt, whichever way the attempt found its parent.
        CHECK(serve[5] == attempt[5]);
        CHECK(serve[7] == attempt[6]);
    }
}

TEST_CASE("the traceparent header reads only W3C's form") {
    const std::string good = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const auto c = span_context::parse(good);
    REQUIRE(c);
    CHECK(c->trace_id() == "0af7651916cd43dd8448eb211c80319c");
    CHECK(c->span_id() == "b7ad6b7169203331");
    CHECK(c->traceparent() == good);
    const auto root = span_context::parse("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01");
    REQUIRE(root);
    CHECK(root->span_id().empty());
    for (const std::string& bad :
         std::vector<std::string>{std::string(), std::string("00"), good.substr(1), good + "x",
                                  "01" + good.substr(2),                                      // another version
                                  "00-00000000000000000000000000000000-b7ad6b7169203331-01",  // zero trace
                                  "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  // uppercase
                                  "00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",
                                  "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01"}) {
        CAPTURE(bad);
        CHECK_FALSE(span_context::parse(bad));
    }
}

TEST_CASE("a traceparent's hex fields take exactly the lowercase hex digits, every byte at every place") {
    // The check reads eight characters at a time; a wrong byte must be found wherever
    // it stands, whatever its value (high bit set, just outside a range, NUL).
    const std::string good = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    REQUIRE(span_context::parse(good));
    std::size_t accepted = 0;
    std::size_t refused = 0;
    for (const std::size_t at : {3, 4, 10, 11, 12, 18, 19, 26, 27, 34, 36, 42, 43, 44, 50, 51, 53, 54}) {
        for (int value = 0; value < 256; ++value) {
            std::string text = good;
            text[at] = static_cast<char>(value);
            const bool hex = (value >= '0' && value <= '9') || (value >= 'a' && value <= 'f');
            const bool parsed = span_context::parse(text).has_value();
            CAPTURE(at, value);
            // All zeros in the trace is refused; a single changed digit never makes it so.
            CHECK(parsed == hex);
            (parsed ? accepted : refused) += 1;
        }
    }
    CHECK(accepted == 18 * 16);
    CHECK(refused == 18 * 240);
}

TEST_CASE("a route matches its method, path and API version exactly") {
    simulation sim({.seed = 3});
    const auto server = sim.add_node("server", [](sim::runtime& rt) {
        rpc_server s(rt, service_port);
        s.route("GET", "/x", 1, [](const request&, request_context&) { return response{200, {}, "get v1"}; });
        s.route("POST", "/x", 1, [](const request&, request_context&) { return response{200, {}, "post v1"}; });
        s.route("GET", "/x", 2, [](const request&, request_context&) { return response{200, {}, "get v2"}; });
        s.route("GET", "/xy", 1, [](const request&, request_context&) { return response{200, {}, "get xy"}; });
        s.serve();
    });
    struct probe {
        std::string method, path;
        int version;
        std::string want;  // the body, or "404"
    };
    const std::vector<probe> probes = {
        {"GET", "/x", 1, "get v1"},  {"POST", "/x", 1, "post v1"}, {"GET", "/x", 2, "get v2"},
        {"GET", "/xy", 1, "get xy"}, {"POST", "/x", 2, "404"},     {"PUT", "/x", 1, "404"},
        {"GET", "/x/", 1, "404"},    {"GET", "/", 1, "404"},       {"get", "/x", 1, "404"},
        {"GET", "/x", 0, "404"},     {"", "", 1, "404"},
    };
    std::vector<std::string> got;
    const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
        for (const probe& p : probes) {
            request req;
            req.method = p.method;
            req.path = p.path;
            req.api_version = p.version;
            const call_result r = c.call({server, service_port}, req, rt.now() + 1s);
            got.push_back(!r.reply ? "none" : r.reply->status == 404 ? "404" : r.reply->body.get<std::string>());
        }
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + 1s);
    REQUIRE(got.size() == probes.size());
    for (std::size_t i = 0; i < probes.size(); ++i) {
        CAPTURE(probes[i].method, probes[i].path, probes[i].version);
        CHECK(got[i] == probes[i].want);
    }
}
