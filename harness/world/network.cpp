#include "harness/world/network.hpp"

namespace meshsim::harness {

void configure_network(const network_config& network, const instance_addresses& instances,
                       sim::kernel::simulation& sim) {
    sim.net().set_default_link(network.defaults);
    for (const link_override& o : network.links) {
        const auto expand = [&](const std::string& s) {
            std::vector<sim::node_id> ids;
            if (s == "*") {
                for (std::size_t i = 0; i < sim.node_count(); ++i) ids.push_back(static_cast<sim::node_id>(i));
            } else {
                for (const auto& a : instances.at(s)) ids.push_back(a.node);
            }
            return ids;
        };
        for (const sim::node_id from : expand(o.from)) {
            for (const sim::node_id to : expand(o.to)) {
                if (from != to) sim.net().set_link(from, to, o.link);
            }
        }
    }
}

}  // namespace meshsim::harness
