#include "runtime/http_edge.hpp"

#include <charconv>
#include <map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/fiber/future.hpp>

#include "runtime/host_impl.hpp"
#include "services/platform/rpc.hpp"

namespace meshsim::real {

namespace http = boost::beast::http;
using request_t = http::request<http::string_body>;
using response_t = http::response<http::string_body>;

struct http_edge::state {
    explicit state(boost::asio::io_context& io) : acceptor(io) {}
    tcp::acceptor acceptor;
    std::map<std::uint64_t, std::weak_ptr<tcp::socket>> connections;
    std::uint64_t next_connection = 1;
    svc::rpc_client* client = nullptr;  // the edge node's, while it is up
    node* edge = nullptr;
    bool closed = false;
};

std::optional<sim::duration> parse_grpc_timeout(std::string_view text) {
    if (text.size() < 2 || text.size() > 9) return std::nullopt;
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, value);
    if (ec != std::errc() || end != text.data() + text.size() - 1 || value < 0) return std::nullopt;
    switch (text.back()) {
        case 'H': return std::chrono::hours(value);
        case 'M': return std::chrono::minutes(value);
        case 'S': return std::chrono::seconds(value);
        case 'm': return std::chrono::milliseconds(value);
        case 'u': return std::chrono::microseconds(value);
        case 'n': return std::chrono::nanoseconds(value);
        default: return std::nullopt;
    }
}

namespace {

std::string_view view(boost::beast::string_view v) { return {v.data(), v.size()}; }

// Waits in the calling fiber for an Asio operation started by `start(handler)`.
template <class Start>
boost::system::error_code await(Start start) {
    auto done = std::make_shared<boost::fibers::promise<boost::system::error_code>>();
    boost::fibers::future<boost::system::error_code> result = done->get_future();
    start([done](boost::system::error_code ec, std::size_t = 0) { done->set_value(ec); });
    return result.get();
}

response_t json_response(unsigned version, bool keep_alive, std::uint16_t status, const nlohmann::json& body) {
    response_t res{static_cast<http::status>(status), version};
    res.set(http::field::server, "meshsim");
    res.set(http::field::content_type, "application/json");
    res.keep_alive(keep_alive);
    res.body() = body.dump() + "\n";
    res.prepare_payload();
    return res;
}

response_t handle(const request_t& in, svc::rpc_client& client, sim::address to, sim::runtime& rt) {
    const auto error = [&](std::uint16_t status, std::string text) {
        return json_response(in.version(), in.keep_alive(), status, {{"error", std::move(text)}});
    };
    svc::request req;
    req.method = std::string(in.method_string());
    std::string target(in.target());
    req.path = target.substr(0, target.find('?'));
    sim::duration budget = std::chrono::seconds(5);
    for (const char* name :
         {svc::header::correlation_id, svc::header::api_key, svc::header::idempotency_key, svc::header::criticality}) {
        const auto it = in.find(name);
        if (it != in.end()) req.head.set(name, std::string(it->value()));
    }
    if (const auto it = in.find("x-api-version"); it != in.end()) {
        int v = 0;
        const std::string_view text = view(it->value());
        if (std::from_chars(text.data(), text.data() + text.size(), v).ec != std::errc() || v < 1 || v > 99)
            return error(400, "x-api-version: a version from 1 to 99");
        req.api_version = v;
    }
    if (const auto it = in.find(svc::header::deadline_ns); it != in.end()) {
        std::int64_t ns = 0;
        const std::string_view text = view(it->value());
        if (std::from_chars(text.data(), text.data() + text.size(), ns).ec != std::errc() || ns <= 0)
            return error(400, "x-deadline-ns: a positive number of nanoseconds");
        budget = sim::duration(ns);
    } else if (const auto g = in.find("grpc-timeout"); g != in.end()) {
        const std::optional<sim::duration> d = parse_grpc_timeout(view(g->value()));
        if (!d || d->count() <= 0) return error(400, "grpc-timeout: a number and a unit (H M S m u n), e.g. 500m");
        budget = *d;
    }
    budget = std::min<sim::duration>(budget, std::chrono::minutes(10));
    req.head.set(svc::header::deadline_ns, std::to_string(budget.count()));
    if (!in.body().empty()) {
        req.body = nlohmann::json::parse(in.body(), nullptr, false);
        if (req.body.is_discarded()) return error(400, "the body is not JSON");
    }
    const std::string correlation = req.head.get(svc::header::correlation_id);
    svc::call_result r = client.call(to, std::move(req), sim::saturating_add(rt.now(), budget));
    if (!r.reply) {
        const bool timeout = r.result.kind == svc::outcome_kind::timeout;
        return error(timeout ? 504 : 503, std::string(svc::to_string(r.result.kind)));
    }
    response_t res = json_response(in.version(), in.keep_alive(), r.reply->status,
                                   r.reply->body.is_null() ? nlohmann::json::object() : r.reply->body);
    for (const auto& [k, v] : r.reply->head) {
        if (k == svc::header::correlation_id || k == svc::header::reason || k == svc::header::retry_after_ns)
            res.set(std::string(k), std::string(v));
    }
    if (!correlation.empty()) res.set(svc::header::correlation_id, correlation);
    return res;
}

}  // namespace

http_edge::http_edge(host_impl& h, sim::node_id target, sim::port_id service_port, std::uint16_t port)
    : host_(h), target_(target), service_port_(service_port), port_(port), state_(std::make_shared<state>(h.io)) {
    // The edge's own node: its RPC client's reply port and fibers live there.
    const auto id = static_cast<sim::node_id>(h.nodes.size());
    const std::string name = "http-" + h.nodes.at(target)->node_name();
    std::shared_ptr<state> st = state_;
    h.nodes.push_back(std::make_unique<node>(
        h, id, name,
        [st](sim::runtime& rt) {
            svc::rpc_client client(rt);
            st->client = &client;
            st->edge = static_cast<node*>(&rt);
            struct forget {
                state& s;
                ~forget() { s.client = nullptr; }
            } guard{*st};
            rt.sleep_until(sim::time_never);
        },
        0));
    h.boot_list.push_back(id);
    edge_node_ = id;
}

http_edge::~http_edge() { close(); }

void http_edge::open() {
    boost::system::error_code ec;
    auto& a = state_->acceptor;
    a.open(tcp::v4(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(tcp::endpoint(boost::asio::ip::address_v4::loopback(), port_), ec);
    if (!ec) a.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) {
        boost::system::error_code ignored;
        a.close(ignored);
        throw host_error("127.0.0.1:" + std::to_string(port_) + " (HTTP of " + host_.nodes.at(target_)->node_name() +
                         "): " + ec.message());
    }
    port_ = a.local_endpoint().port();
}

void http_edge::start() { accept_next(); }

void http_edge::close() {
    state_->closed = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    for (auto& [id, w] : state_->connections) {
        if (auto s = w.lock()) s->close(ignored);
    }
    state_->connections.clear();
}

void http_edge::accept_next() {
    std::shared_ptr<state> st = state_;
    const sim::address to{target_, service_port_};
    st->acceptor.async_accept([this, st, to](boost::system::error_code ec, tcp::socket s) {
        if (ec || st->closed) return;
        auto socket = std::make_shared<tcp::socket>(std::move(s));
        const std::uint64_t conn_id = st->next_connection++;
        st->connections[conn_id] = socket;
        if (st->edge != nullptr && st->edge->up()) {
            st->edge->spawn("http", [st, socket, to, conn_id] {
                boost::beast::flat_buffer buffer;
                while (!st->closed) {
                    request_t req;
                    const boost::system::error_code read_ec =
                        await([&](auto handler) { http::async_read(*socket, buffer, req, std::move(handler)); });
                    if (read_ec) break;
                    if (st->client == nullptr) break;
                    response_t res = handle(req, *st->client, to, *st->edge);
                    const bool keep = res.keep_alive();
                    const boost::system::error_code write_ec =
                        await([&](auto handler) { http::async_write(*socket, res, std::move(handler)); });
                    if (write_ec || !keep) break;
                }
                boost::system::error_code ignored;
                socket->close(ignored);
                st->connections.erase(conn_id);
            });
        }
        accept_next();
    });
}

}  // namespace meshsim::real
