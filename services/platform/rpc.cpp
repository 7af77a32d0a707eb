#include "services/platform/rpc.hpp"

#include <algorithm>
#include <exception>

#include "sim/decimal_text.hpp"

namespace meshsim::svc {

namespace {
constexpr const char* kind_header = "rpc";        // "req" or "resp"
constexpr const char* call_id_header = "rpc-id";  // the caller's call id
constexpr const char* method_header = ":method";
constexpr const char* path_header = ":path";
constexpr const char* version_header = ":version";
constexpr const char* status_header = ":status";

std::uint64_t parse_u64(std::optional<std::string_view> text) {
    if (!text || text->empty()) return 0;
    std::uint64_t v = 0;
    for (const char c : *text) {
        if (c < '0' || c > '9') return 0;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}
}  // namespace

sim::message encode_request(request& req, sim::address to, sim::port_id reply_port, std::uint64_t call_id) {
    sim::message msg;
    msg.to = to;
    msg.from.port = reply_port;
    msg.head = std::move(req.head);
    msg.head.set(kind_header, "req");
    msg.head.set(call_id_header, sim::decimal_text(call_id).view());
    msg.head.set(method_header, req.method);
    msg.head.set(path_header, req.path);
    msg.head.set(version_header, std::to_string(req.api_version));
    msg.body = std::move(req.body);
    msg.bounce_if_refused = true;
    return msg;
}

namespace {
bool is_request(const sim::message& msg) {
    const std::optional<std::string_view> kind = msg.head.find(kind_header);
    return !msg.corrupted && kind == "req";
}

// The fields besides the headers and body, which the callers copy or move.
request request_line_of(const sim::message& msg) {
    request req;
    req.method = msg.head.get(method_header, "GET");
    req.path = msg.head.get(path_header, "/");
    req.api_version = static_cast<int>(parse_u64(msg.head.find(version_header)));
    return req;
}
}  // namespace

std::optional<request> decode_request(const sim::message& msg) {
    if (!is_request(msg)) return std::nullopt;
    request req = request_line_of(msg);
    req.head = msg.head;
    req.body = msg.body;
    return req;
}

std::optional<request> decode_request(sim::message&& msg) {
    if (!is_request(msg)) return std::nullopt;
    request req = request_line_of(msg);
    req.head = std::move(msg.head);
    req.body = std::move(msg.body);
    return req;
}

response decode_response(sim::message&& msg) {
    response resp;
    resp.status = static_cast<std::uint16_t>(parse_u64(msg.head.find(status_header)));
    resp.head = std::move(msg.head);
    resp.body = std::move(msg.body);
    return resp;
}

// ------------------------------------------------------------------ client

rpc_client::rpc_client(sim::runtime& rt, sim::port_id reply_port)
    : rt_(&rt), reply_port_(reply_port), state_(std::make_shared<shared_state>()), ids_(rt) {
    rt.bind(reply_port);
    rt.spawn("rpc-replies", [&rt, reply_port, state = state_] { dispatch_replies(rt, reply_port, state); });
}

void rpc_client::dispatch_replies(sim::runtime& rt, sim::port_id port, std::shared_ptr<shared_state> state) {
    while (auto msg = rt.receive(port, sim::time_never)) {
        call_result result;
        std::uint64_t call_id = 0;
        if (msg->head.find(sim::bounce_header)) {
            // A refusal names the request's message id; the call id rode in its header.
            call_id = parse_u64(msg->head.find(call_id_header));
            result.result = outcome::of(outcome_kind::connection_refused);
        } else {
            call_id = parse_u64(msg->head.find(call_id_header));
            if (msg->corrupted) {
                result.result = outcome::of(outcome_kind::decode_error);
            } else {
                response resp = decode_response(std::move(*msg));
                std::optional<sim::duration> retry_after;
                if (const std::optional<std::string_view> ra = resp.head.find(header::retry_after_ns)) {
                    retry_after = sim::duration{static_cast<std::int64_t>(parse_u64(ra))};
                }
                result.result =
                    resp.status < 400 ? outcome::success(resp.status) : outcome::http(resp.status, retry_after);
                result.reply = std::move(resp);
            }
        }
        auto it = state->calls.find(call_id);
        if (it == state->calls.end()) continue;  // the caller gave up already: a late reply
        it->second.done->set(std::move(result));
    }
}

call_result rpc_client::call(sim::address to, request req, sim::time_point deadline) {
    // The caller's traceparent names the parent (a span of all zeros: a root call in a
    // chosen trace); without one this attempt starts a trace.
    const std::optional<std::string_view> given = req.head.find(header::traceparent);
    std::optional<span_context> parent = given ? span_context::parse(*given) : std::nullopt;
    if (!parent) parent = new_trace(ids_);
    return call(to, std::move(req), deadline, *parent);
}

// The calling fiber stays parked under call() until the reply or the deadline, so
// what is needed only before or after the wait lives in frames of its own (as in
// rpc_server::handle below): sending the request, and recording the attempt.
namespace {
[[gnu::noinline]] void send_attempt(sim::runtime& rt, request& req, sim::address to, sim::port_id reply_port,
                                    std::uint64_t call_id, const span_context& span) {
    const auto traceparent = span.traceparent_chars();  // sent: this attempt's span
    req.head.set(header::traceparent, std::string_view(traceparent.data(), traceparent.size()));
    rt.send(encode_request(req, to, reply_port, call_id));
}

[[gnu::noinline]] void record_attempt(sim::runtime& rt, const call_result& result, std::uint32_t attempt,
                                      std::string_view correlation_id, const request& req, sim::address to,
                                      sim::time_point sent, const span_context& span, const span_context& parent) {
    const std::optional<std::string_view> reason =
        result.reply ? result.reply->head.find(header::reason) : std::nullopt;
    rt.record_attempt({.status = result.reply ? result.reply->status : std::uint16_t{0},
                       .attempt = attempt,
                       .outcome = to_string(result.result.kind),
                       .correlation_id = correlation_id,
                       .method = req.method,
                       .path = req.path,
                       .reason = reason.value_or(std::string_view()),
                       .to = to.node,
                       .sent = sent,
                       .trace_id = span.trace_id(),
                       .span_id = span.span_id(),
                       .parent_span_id = parent.span_id()});
}
}  // namespace

call_result rpc_client::call(sim::address to, request req, sim::time_point deadline, const span_context& parent) {
    const sim::time_point started = rt_->now();
    const std::uint64_t call_id = state_->next_call_id++;
    // What the rpc_attempt event names, kept before the headers move into the message
    // (the method and path stay in req).
    const std::uint32_t attempt =
        static_cast<std::uint32_t>(std::max<std::uint64_t>(1, parse_u64(req.head.find(header::attempt))));
    const std::string correlation_id = req.head.get(header::correlation_id);
    const span_context span = new_child_span(ids_, parent);
    sim::completion<call_result> done(*rt_);
    state_->calls.emplace(call_id, pending{&done});
    struct forget_on_exit {
        shared_state& state;
        std::uint64_t id;
        ~forget_on_exit() { state.calls.erase(id); }
    } guard{*state_, call_id};
    send_attempt(*rt_, req, to, reply_port_, call_id, span);
    done.wait(deadline);
    // The completion is ours alone and dies with this call: its value can be moved out.
    std::optional<call_result> result = done.take();
    if (!result) result.emplace(call_result{outcome::of(outcome_kind::timeout), std::nullopt, {}});
    result->elapsed = rt_->now() - started;
    record_attempt(*rt_, *result, attempt, correlation_id, req, to, started, span, parent);
    return std::move(*result);
}

// ------------------------------------------------------------------ server

rpc_server::rpc_server(sim::runtime& rt, sim::port_id port) : rt_(rt), port_(port), ids_(rt) { rt.bind(port); }

void rpc_server::route(std::string method, std::string path, int api_version, handler h) {
    routes_.insert_or_assign(route_key{std::move(method), std::move(path), api_version}, std::move(h));
}

void rpc_server::serve() {
    while (auto msg = rt_.receive(port_, sim::time_never)) {
        rt_.spawn("request", [this, m = std::move(*msg)]() mutable { handle(std::move(m)); });
    }
}

// A request's fiber stays parked under handle() for as long as its handler waits,
// and every line of stack it has touched is memory that fiber costs (a large mesh has
// thousands parked). So what is needed only before or after the handler runs lives in
// frames of its own, [[gnu::noinline]]: the error log and the answer to the caller.
namespace {
// What the answer needs from the request, kept in handle()'s frame meanwhile.
struct incoming {
    sim::time_point arrived;
    sim::address caller;
    std::string call_id;
    std::optional<span_context> parent;              // the caller's attempt span, if it sent one
    std::optional<std::string_view> correlation_id;  // a view into the request's headers
};

[[gnu::noinline]] void log_handler_error(sim::runtime& rt, const std::string& path, const char* what) {
    rt.log("handler_error", {{"path", path}, {"what", what}});
}

[[gnu::noinline]] span_context server_span(const span_id_streams& ids, const std::optional<span_context>& parent) {
    return new_child_span(ids, parent ? *parent : new_trace(ids));
}

[[gnu::noinline]] void answer(sim::runtime& rt, sim::port_id port, incoming& in, const std::optional<request>& req,
                              const request_context& ctx, response&& resp, std::string_view reason) {
    const std::optional<std::string_view> answered_cid = resp.head.find(header::correlation_id);
    rt.record_serve({resp.status, reason,
                     answered_cid        ? *answered_cid
                     : in.correlation_id ? *in.correlation_id
                                         : std::string_view(),
                     req ? std::string_view(req->method) : "-", req ? std::string_view(req->path) : "-", in.caller.node,
                     in.arrived, ctx.started.value_or(in.arrived), ctx.span.trace_id(), ctx.span.span_id(),
                     in.parent ? in.parent->span_id() : std::string_view()});
    sim::message reply;
    reply.to = in.caller;
    reply.from.port = port;
    reply.head = std::move(resp.head);
    reply.head.set(kind_header, "resp");
    reply.head.set(call_id_header, std::move(in.call_id));
    reply.head.set(status_header, std::to_string(resp.status));
    // Only this server's own reason travels back (never one a handler copied from a reply).
    if (reason == "ok") {
        reply.head.erase(header::reason);
    } else {
        reply.head.set(header::reason, std::string(reason));
    }
    reply.status = resp.status;  // in the trace: a 502 and a 200 make different runs
    if (in.correlation_id) reply.head.set(header::correlation_id, *in.correlation_id);
    reply.body = std::move(resp.body);
    rt.send(std::move(reply));
}
}  // namespace

void rpc_server::handle(sim::message msg) {
    // What the answer needs from the request's headers, taken before they move into `req`.
    incoming in{rt_.now(), msg.from, msg.head.get(call_id_header), std::nullopt, std::nullopt};
    if (const std::optional<std::string_view> given = msg.head.find(header::traceparent))
        in.parent = span_context::parse(*given);
    // This request's server span: a child of the caller's attempt span, or a new trace.
    request_context ctx{rt_, in.caller, std::nullopt, server_span(ids_, in.parent), {}, {}};
    std::optional<request> req = decode_request(std::move(msg));
    // The caller's correlation id, read where the headers are now (a request's moved
    // into req; handlers see req as const, so the view stays valid).
    in.correlation_id = (req ? req->head : msg.head).find(header::correlation_id);
    response resp;
    std::string_view reason;
    if (!req) {
        resp.status = 400;
        reason = "bad_request";
    } else {
        // Service-level fault injection (Istio-style): delay first, then maybe abort.
        const sim::request_fault fault = rt_.fault_for_request(port_, req->path);
        if (fault.delay.count() > 0) rt_.sleep_for(fault.delay);
        auto it = routes_.find(route_view{req->method, req->path, req->api_version});
        if (fault.abort_status != 0) {
            resp.status = fault.abort_status;
            reason = "fault_abort";
        } else if (it == routes_.end()) {
            resp.status = 404;
            reason = "not_found";
        } else {
            ctx.started = rt_.now();
            try {
                resp = it->second(*req, ctx);
                reason = ctx.reason;
            } catch (const sim::fiber_killed&) {
                throw;
            } catch (const std::exception& e) {
                log_handler_error(rt_, req->path, e.what());
                resp = response{500, {}, nullptr};
                reason = "exception";
            }
            if (reason.empty()) reason = resp.status < 400 ? "ok" : "handler";
        }
    }
    answer(rt_, port_, in, req, ctx, std::move(resp), reason);
}

}  // namespace meshsim::svc
