// Request/response calls over the runtime seam's messages: the wire format of a
// request and a response, one attempt of a call with a deadline (rpc_client), and
// a server loop that runs one fiber per request (rpc_server). Retries, breakers
// and the rest wrap an attempt; they live in their own files.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "services/platform/ids.hpp"
#include "services/platform/outcome.hpp"
#include "sim/message.hpp"
#include "sim/runtime.hpp"
#include "sim/sync.hpp"

namespace meshsim::svc {

// Header names carried by calls (correlation, deadline, auth, idempotency, ...).
namespace header {
inline constexpr const char* correlation_id = "x-correlation-id";
inline constexpr const char* deadline_ns = "x-deadline-ns";  // remaining time budget in ns (as grpc-timeout)
inline constexpr const char* api_key = "x-api-key";
inline constexpr const char* idempotency_key = "idempotency-key";
inline constexpr const char* attempt = "x-attempt";
inline constexpr const char* criticality = "x-criticality";
inline constexpr const char* retry_after_ns = "retry-after-ns";
// W3C Trace Context: "00-<trace>-<span>-01", the span of the attempt that sent the request.
inline constexpr const char* traceparent = "traceparent";
// On an error answer: why the server gave it (queue_full, codel, rate_limited, handler, ...).
inline constexpr const char* reason = "x-reason";
}  // namespace header

struct request {
    std::string method = "GET";
    std::string path = "/";
    int api_version = 1;
    sim::headers head;
    nlohmann::json body;
};

struct response {
    std::uint16_t status = 200;
    sim::headers head;
    nlohmann::json body;
};

// What one attempt produced: an outcome always, a response when one arrived.
struct call_result {
    outcome result;
    std::optional<response> reply;
    sim::duration elapsed{0};
};

// One client per node process: owns a reply port and a fiber that hands each
// reply (or bounce) to the call waiting for it.
class rpc_client {
public:
    explicit rpc_client(sim::runtime& rt, sim::port_id reply_port = 49152);
    rpc_client(const rpc_client&) = delete;
    rpc_client& operator=(const rpc_client&) = delete;

    // One attempt: sends `req` to `to` and waits for the reply until `deadline`
    // (node-local time). Never throws for network trouble: it is in the outcome.
    // The attempt is a span, a child of the one req's traceparent header names (a
    // new trace without one); the request carries the attempt's own traceparent.
    call_result call(sim::address to, request req, sim::time_point deadline);
    // The same with the parent given (it has a trace): for a caller that holds it
    // already, without writing it into a header and reading it back.
    call_result call(sim::address to, request req, sim::time_point deadline, const span_context& parent);

    sim::runtime& runtime() { return *rt_; }

private:
    struct pending {
        sim::completion<call_result>* done;
    };
    struct shared_state {
        std::map<std::uint64_t, pending> calls;  // by call id
        std::uint64_t next_call_id = 1;
    };
    static void dispatch_replies(sim::runtime& rt, sim::port_id port, std::shared_ptr<shared_state> state);

    sim::runtime* rt_;
    sim::port_id reply_port_;
    std::shared_ptr<shared_state> state_;
    span_id_streams ids_;
};

// What a handler sees besides the request: who called, and the runtime.
struct request_context {
    sim::runtime& rt;
    sim::address caller;
    // The caller's deadline (node-local time), if it sent one.
    std::optional<sim::time_point> deadline;
    // This request's server span: calls made while handling it are its children.
    span_context span{};
    // Set by a server template (service) that answers without its handler: why
    // (queue_full, codel, rate_limited, ...; see docs/outputs.md rpc_serve). Static text.
    std::string_view reason{};
    // Set by a server template whose handler starts later than the request arrived (a queue).
    std::optional<sim::time_point> started{};
};

using handler = std::function<response(const request&, request_context&)>;

// Serves requests on a port: one fiber per request, handlers found by
// (method, path, api_version). Unknown routes answer 404; a handler that throws
// answers 500 (the process survives, as a web framework's error page would).
// Each answer is one rpc_serve event; an error answer carries its reason (x-reason).
class rpc_server {
public:
    rpc_server(sim::runtime& rt, sim::port_id port);

    void route(std::string method, std::string path, int api_version, handler h);
    // Receives and dispatches until the node dies (call it from a fiber of its own).
    void serve();
    // Handles one request message in the calling fiber and sends the reply.
    void handle(sim::message msg);

    sim::port_id port() const { return port_; }

private:
    struct route_key {
        std::string method;
        std::string path;
        int api_version;
    };
    // A request's route, looked up without copying its method and path.
    struct route_view {
        std::string_view method;
        std::string_view path;
        int api_version;
    };
    struct route_order {
        using is_transparent = void;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const {
            return std::tuple<std::string_view, std::string_view, int>(a.method, a.path, a.api_version) <
                   std::tuple<std::string_view, std::string_view, int>(b.method, b.path, b.api_version);
        }
    };

    sim::runtime& rt_;
    sim::port_id port_;
    std::map<route_key, handler, route_order> routes_;
    span_id_streams ids_;
};

// Encoding on the wire (exposed for tests and the tolerant-reader checks).
// Moves req's headers and body into the message; its method and path stay in req.
sim::message encode_request(request& req, sim::address to, sim::port_id reply_port, std::uint64_t call_id);
std::optional<request> decode_request(const sim::message& msg);
// Moves the headers and body out of a request; anything else is left as it was.
std::optional<request> decode_request(sim::message&& msg);
response decode_response(sim::message&& msg);

}  // namespace meshsim::svc
