// Service-level fault rules (Istio's HTTPFaultInjection): on a fraction of the
// requests to a port (or one path of it) a node serves, add a delay and/or answer
// an error status without running the handler. The node's runtime evaluates them
// for its RPC server through runtime::fault_for_request.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/message.hpp"
#include "sim/random.hpp"
#include "sim/runtime.hpp"
#include "sim/time.hpp"

namespace meshsim::sim::kernel {

struct service_fault_rule {
    std::uint64_t id = 0;          // set by the node when added
    port_id port = 0;              // 0 = every port
    std::string path{};            // "" = every path; "/a/*" = every path starting with "/a/"
    double delay_probability = 0;  // Istio's delay.percentage / 100
    duration delay{0};             // Istio's fixedDelay
    double abort_probability = 0;  // Istio's abort.percentage / 100
    std::uint16_t abort_status = 503;

    bool matches(port_id p, std::string_view request_path) const;
    // Problems with the parameters, each naming the parameter; empty when valid.
    std::vector<std::string> validate(const std::string& what = "service_fault") const;
};

// The rules of one node, evaluated in the order they were added: delays add up,
// the first abort drawn wins. Draws come from the node's own fault stream.
class service_fault_table {
public:
    std::uint64_t add(service_fault_rule rule);
    void remove(std::uint64_t id);
    bool empty() const { return rules_.empty(); }
    request_fault evaluate(port_id port, std::string_view path, random_stream& rng) const;

private:
    std::vector<service_fault_rule> rules_;
    std::uint64_t next_id_ = 1;
};

}  // namespace meshsim::sim::kernel
