// Shared by the network and fault tests: a world of listening nodes that record
// every arrival, and control-code sends at chosen instants (no sender fibers).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/kernel/simulation.hpp"

namespace meshsim::sim::testing {

inline constexpr port_id probe_port = 1;

struct arrival {
    node_id at_node;
    node_id from;
    std::uint64_t id;
    time_point when;
    bool corrupted;
    nlohmann::json body;
};

class probe_world {
public:
    explicit probe_world(std::uint64_t seed, std::uint32_t nodes = 2, trace_mode mode = trace_mode::full)
        : world({.seed = seed, .fiber_stack_bytes = 64 * 1024, .trace = mode}) {
        for (std::uint32_t i = 0; i < nodes; ++i) {
            world.add_node("n" + std::to_string(i), [this](runtime& rt) {
                rt.bind(probe_port);
                while (auto m = rt.receive(probe_port, time_never)) {
                    arrivals.push_back({rt.self(), m->from.node, m->id, world.now(), m->corrupted, std::move(m->body)});
                }
            });
            world.start(i);
        }
    }

    // Sends from `from` to `to` at `when`; the body carries the send time (ns).
    void send_at(time_point when, node_id from, node_id to, std::uint32_t size_bytes = 0) {
        world.at(when, [this, from, to, size_bytes] {
            message m;
            m.to = {to, probe_port};
            m.body = world.now().time_since_epoch().count();
            m.size_bytes = size_bytes;
            world.net().send(world.get_node(from), std::move(m));
        });
    }

    // Latency of an arrival whose body is its send time.
    static double latency_ms(const arrival& a) {
        return static_cast<double>(a.when.time_since_epoch().count() - a.body.get<std::int64_t>()) * 1e-6;
    }

    std::uint64_t drops(std::string_view reason) const {
        std::uint64_t n = 0;
        for (const trace_event& e : world.trace().events()) {
            if (e.kind == event_kind::msg_drop && e.detail == reason) ++n;
        }
        return n;
    }

    kernel::simulation world;
    std::vector<arrival> arrivals;
};

// The q-quantile (0..1) of values, by nearest rank.
inline double quantile(std::vector<double> values, double q) {
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
    return values[rank];
}

}  // namespace meshsim::sim::testing
