// HTTP/1.1 at the edge of a node (Boost.Beast): each request on 127.0.0.1:port is
// one RPC from a hidden edge node to (target, service port), with the platform's
// headers (x-correlation-id, x-deadline-ns or grpc-timeout, x-api-key,
// idempotency-key, x-api-version) and JSON bodies both ways.
#pragma once

#include <cstdint>
#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "runtime/host.hpp"

namespace meshsim::real {

class host_impl;

class http_edge {
public:
    http_edge(host_impl& h, sim::node_id target, sim::port_id service_port, std::uint16_t port);
    ~http_edge();
    void open();   // binds (host_error when it cannot)
    void start();  // accepts, once run() began
    void close();  // stops accepting and closes every connection
    sim::node_id target() const { return target_; }
    std::uint16_t port() const { return port_; }

private:
    struct state;
    void accept_next();
    host_impl& host_;
    sim::node_id target_;
    sim::port_id service_port_;
    std::uint16_t port_;
    sim::node_id edge_node_ = sim::no_node;
    std::shared_ptr<state> state_;
};

// "500m" (grpc-timeout: H M S m u n) as a duration; nullopt when malformed.
std::optional<sim::duration> parse_grpc_timeout(std::string_view text);

}  // namespace meshsim::real
