// Shared by the client pipeline and service template tests: a server node running
// a service, and a client node running a scenario body with an rpc_client.
// Objects live in the nodes' boot fibers, as they would in a real service.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "services/platform/client.hpp"
#include "services/platform/service.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::svc::testing {

constexpr sim::port_id service_port = 80;

// Boots `name` with a service built by `setup`; `out` points at it while the node is up.
inline sim::node_id add_service(sim::kernel::simulation& sim, const std::string& name, service_config config,
                                std::function<void(service&)> setup, service** out = nullptr) {
    config.name = name;
    config.port = service_port;
    return sim.add_node(name, [config, setup = std::move(setup), out](sim::runtime& rt) {
        service svc(rt, config);
        setup(svc);
        if (out) *out = &svc;
        svc.serve();
    });
}

// Boots `name` running `body(rt, client)`; the client lives as long as the body.
inline sim::node_id add_client(sim::kernel::simulation& sim, const std::string& name,
                               std::function<void(sim::runtime&, rpc_client&)> body) {
    return sim.add_node(name, [body = std::move(body)](sim::runtime& rt) {
        rpc_client client(rt);
        body(rt, client);
    });
}

// A policy with every optional component off and no retries: tests switch on what they test.
inline edge_policy bare_policy() {
    edge_policy p;
    p.retry.max_attempts = 1;
    p.retry.backoff = {sim::milliseconds{10}, sim::seconds{1}, 2.0, jitter_mode::none};
    p.retry_budget.reset();
    p.circuit_breaker.reset();
    p.bulkhead.reset();
    p.load_balancer.outlier_detection.enabled = false;
    return p;
}

inline response reply(std::uint16_t status, nlohmann::json body = nullptr) {
    return response{status, {}, std::move(body)};
}

// Trace details of one kind, in order ("component=state" for states, "event {json}" for logs).
inline std::vector<std::string> trace_details(const sim::kernel::simulation& sim, sim::event_kind kind) {
    std::vector<std::string> out;
    for (const auto& e : sim.trace().events()) {
        if (e.kind == kind) out.push_back(e.detail);
    }
    return out;
}

}  // namespace meshsim::svc::testing
