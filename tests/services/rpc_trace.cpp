// What the RPC layer puts in the trace: one rpc_attempt event per attempt (status,
// outcome, attempt number, the server's reason, correlation ID, callee, start, trace
// and spans, method and path, as the caller saw it), one rpc_serve per answer, and
// the status on each reply's msg_send, so that runs differing only in what the
// servers answered differ in trace hash.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "service_testing.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace meshsim::svc::testing;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
struct traced_run {
    std::uint64_t hash = 0;
    call_outcome out{};
    std::vector<sim::trace_event> attempts{};
    std::vector<sim::trace_event> serves{};
    std::vector<std::string> reply_sends{};  // details of msg_send events from the server
};

// One GET /x over `policy` to a server answering `status` after `service_time`.
traced_run run(std::uint16_t status, sim::duration service_time, edge_policy policy) {
    simulation sim({.seed = 7});
    const auto server = add_service(sim, "server", {}, [status, service_time](service& svc) {
        svc.add_endpoint({.path = "/x", .service_time = sim::duration_distribution::constant(service_time)},
                         [status](const request&, endpoint_context&) { return reply(status); });
    });
    traced_run r;
    const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
        call_edge edge(c, "client->server", {{server, service_port}}, policy);
        request req;
        req.path = "/x";
        r.out = edge.call(req);
        rt.sleep_for(1s);  // late replies arrive
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + 10s);
    r.hash = sim.trace().hash();
    for (const sim::trace_event& e : sim.trace().events()) {
        if (e.kind == sim::event_kind::rpc_attempt) r.attempts.push_back(e);
        if (e.kind == sim::event_kind::rpc_serve) r.serves.push_back(e);
        if (e.kind == sim::event_kind::msg_send && e.node == server) r.reply_sends.push_back(e.detail);
    }
    return r;
}

// A detail's space-separated fields (the last, the path, has none in these tests).
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

bool is_hex(const std::string& text, std::size_t digits) {
    return text.size() == digits && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}
}  // namespace

TEST_CASE("every attempt is one rpc_attempt event with its status, outcome and number") {
    edge_policy policy = bare_policy();
    policy.retry.max_attempts = 3;
    const traced_run r = run(503, 0ms, policy);
    REQUIRE(r.attempts.size() == 3);
    REQUIRE(r.serves.size() == 3);
    const sim::time_point sent_at[] = {sim::time_zero, sim::time_zero + 12ms, sim::time_zero + 34ms};
    std::string trace;
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i, r.attempts[i].detail, r.serves[i].detail);
        CHECK(r.attempts[i].a == 503);
        CHECK(r.attempts[i].b == i + 1);
        // <outcome> <reason> <correlation> <to> <sent ns> <trace> <span> <parent> <METHOD> <path>
        const std::vector<std::string> f = fields(r.attempts[i].detail);
        REQUIRE(f.size() == 10);
        CHECK(f[0] == "http_error");
        CHECK(f[1] == "handler");  // the handler answered 503 itself; x-reason brought it back
        CHECK(f[2] == r.out.correlation_id);
        CHECK(f[3] == "server");
        CHECK(f[4] == std::to_string(sent_at[i].time_since_epoch().count()));
        CHECK(is_hex(f[5], 32));
        if (i == 0) trace = f[5];
        CHECK(f[5] == trace);  // one call, one trace
        CHECK(is_hex(f[6], 16));
        CHECK(f[7] == "-");  // a root call
        CHECK(f[8] == "GET");
        CHECK(f[9] == "/x");
        // <reason> <correlation> <from> <arrived ns> <started ns> <trace> <span> <parent> <METHOD> <path>
        const std::vector<std::string> g = fields(r.serves[i].detail);
        REQUIRE(g.size() == 10);
        CHECK(r.serves[i].a == 503);
        CHECK(r.serves[i].b == r.attempts[i].node);  // the caller
        CHECK(g[0] == "handler");
        CHECK(g[1] == r.out.correlation_id);
        CHECK(g[2] == "client");
        CHECK(g[3] == std::to_string((sent_at[i] + 1ms).time_since_epoch().count()));  // 1 ms one way
        CHECK(g[4] == g[3]);  // no queue: the handler started on arrival
        CHECK(g[5] == trace);
        CHECK(is_hex(g[6], 16));
        CHECK(g[6] != f[6]);
        CHECK(g[7] == f[6]);  // the server span is the attempt span's child
        CHECK(g[8] == "GET");
        CHECK(g[9] == "/x");
    }
    // Ends at 2, 14 and 36 ms: 2 ms round trips, 10 and 20 ms of backoff.
    CHECK(r.attempts[0].at == sim::time_zero + 2ms);
    CHECK(r.attempts[1].at == sim::time_zero + 14ms);
    CHECK(r.attempts[2].at == sim::time_zero + 36ms);
    CHECK(r.reply_sends == std::vector<std::string>{"status=503", "status=503", "status=503"});

    const traced_run ok = run(200, 0ms, policy);
    REQUIRE(ok.attempts.size() == 1);
    CHECK(ok.attempts[0].a == 200);
    CHECK(fields(ok.attempts[0].detail)[0] == "ok");
    CHECK(fields(ok.attempts[0].detail)[1] == "-");  // no reason on a success
    CHECK(fields(ok.serves.at(0).detail)[0] == "ok");
    // Ids come from seeded streams: the same run has the same ids.
    CHECK(run(200, 0ms, policy).attempts.at(0).detail == ok.attempts[0].detail);
    CHECK(ok.hash != r.hash);
}

TEST_CASE("a status only a late reply carries still changes the trace hash") {
    edge_policy policy = bare_policy();
    policy.timeout_per_try = 10ms;
    // The client gives up at 10 ms; the server answers at 51 ms, 200 or 500.
    const traced_run fine = run(200, 50ms, policy);
    const traced_run failing = run(500, 50ms, policy);
    for (const traced_run* r : {&fine, &failing}) {
        CHECK(r->out.result.kind == outcome_kind::timeout);
        REQUIRE(r->attempts.size() == 1);
        CHECK(r->attempts[0].a == 0);  // no response arrived in time
        CHECK(r->attempts[0].detail.rfind("timeout ", 0) == 0);
    }
    CHECK(fine.reply_sends == std::vector<std::string>{"status=200"});
    CHECK(failing.reply_sends == std::vector<std::string>{"status=500"});
    CHECK(fine.hash != failing.hash);
    CHECK(fine.hash == run(200, 50ms, policy).hash);  // and is still a function of the run
}

TEST_CASE("the server echoes the caller's correlation id, for a request and for what is not one") {
    // Raw messages to a bare rpc_server: a request, and one without the RPC framing
    // (answered 400 bad_request). Both replies and rpc_serve events carry the id.
    simulation sim({.seed = 7});
    const auto server = sim.add_node("server", [](sim::runtime& rt) {
        rpc_server srv(rt, service_port);
        srv.route("GET", "/x", 1, [](const request&, request_context&) { return reply(200); });
        srv.serve();
    });
    std::vector<std::string> echoed;
    const auto client = sim.add_node("client", [&](sim::runtime& rt) {
        constexpr sim::port_id reply_port = 9;
        rt.bind(reply_port);
        request req;
        req.path = "/x";
        req.api_version = 1;
        req.head.set(header::correlation_id, "cid-of-a-request-longer-than-sso");
        rt.send(encode_request(req, {server, service_port}, reply_port, 1));
        sim::message junk;
        junk.to = {server, service_port};
        junk.from.port = reply_port;
        junk.head.set(header::correlation_id, "cid-of-junk");
        rt.send(std::move(junk));
        while (auto m = rt.receive(reply_port, rt.now() + 1s)) {
            echoed.push_back(std::to_string(m->status) + " " + m->head.get(header::correlation_id));
        }
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + 5s);
    std::sort(echoed.begin(), echoed.end());
    CHECK(echoed == std::vector<std::string>{"200 cid-of-a-request-longer-than-sso", "400 cid-of-junk"});
    std::vector<std::string> served;
    for (const std::string& d : trace_details(sim, sim::event_kind::rpc_serve)) {
        served.push_back(fields(d)[0] + " " + fields(d)[1]);
    }
    std::sort(served.begin(), served.end());
    CHECK(served == std::vector<std::string>{"bad_request cid-of-junk", "ok cid-of-a-request-longer-than-sso"});
}
