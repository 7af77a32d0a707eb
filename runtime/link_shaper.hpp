// Network faults on the real wire: link faults (latency, jitter, loss, duplication,
// reordering, corruption) and partitions (cuts that drop or hold), applied to each
// frame at the sending side of the real network layer, just before it is written to
// the TCP connection between the two nodes (host_impl::send). The same parameters
// and the same newest-overlay-wins / drop-beats-hold rules as the simulation's
// network (sim/kernel/network.cpp), drawn from a real-mode random stream.
// Internal to runtime/ (host.cpp); real clock: outside the determinism lint.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "runtime/host.hpp"
#include "sim/kernel/network.hpp"
#include "sim/kernel/partition.hpp"
#include "sim/message.hpp"
#include "sim/random.hpp"

namespace meshsim::real {

class link_shaper {
public:
    // One encoded frame on its way from one node's process (that incarnation) to another.
    struct frame {
        sim::node_id from = sim::no_node;
        sim::node_id to = sim::no_node;
        std::uint32_t incarnation = 0;
        std::string bytes;
        sim::message stub;  // without the body: enough to bounce it
    };
    // Writes a frame on its link now (host_impl::transmit: drops it when its sender
    // crashed since, as the bytes of a dead process are gone).
    using transmit_fn = std::function<void(frame&&)>;

    // What happens to one message: its copies' extra delays (none: lost), or the cut's.
    struct plan {
        enum class fate : std::uint8_t { send, lost, cut_dropped, held };
        fate what = fate::send;
        bool corrupt = false;
        std::vector<sim::duration> delays;  // one per copy (two when duplicated); 0 = now
    };

    // base_latency: the latency the loopback stands for (the scenario's default link
    // latency); a link fault adds only what its latency draw exceeds it by.
    link_shaper(boost::asio::io_context& io, std::uint64_t seed, sim::duration base_latency, transmit_fn transmit);

    // Nothing configured: every frame goes straight out (the common case).
    bool idle() const { return overlays_.empty() && cuts_.empty() && held_.empty() && delayed_.empty(); }
    plan shape(sim::node_id from, sim::node_id to);
    // A copy whose plan said `delay` > 0, or a held one.
    void later(sim::duration delay, frame f);
    void hold(frame f);

    std::uint64_t add_overlay(std::vector<sim::node_id> from, std::vector<sim::node_id> to,
                              sim::kernel::link_config config);
    void remove_overlay(std::uint64_t id);
    std::uint64_t add_cut(sim::kernel::cut_matrix cut, sim::kernel::cut_mode mode);
    // Removes the cut; held frames no cut blocks any more go out now, in the order held.
    void heal(std::uint64_t id);
    // The run ends: every delayed and held frame is forgotten, the timer stops.
    void clear();

    network_counts counts() const { return counts_; }

private:
    struct overlay {
        std::uint64_t id;
        std::vector<bool> from;  // empty = every node
        std::vector<bool> to;
        sim::kernel::link_config config;
    };
    struct cut {
        std::uint64_t id;
        sim::kernel::cut_matrix matrix;
        sim::kernel::cut_mode mode;
    };
    struct link_memory {  // loss and jitter correlation, per directed pair
        bool last_lost = false;
        sim::duration last_jitter{0};
    };
    const sim::kernel::link_config* overlay_for(sim::node_id from, sim::node_id to) const;
    const cut* cut_for(sim::node_id from, sim::node_id to) const;  // a drop cut wins over a hold one
    sim::duration copy_delay(const sim::kernel::link_config& l, link_memory& m);
    void arm();
    void fire();

    boost::asio::steady_timer timer_;
    sim::random_stream rng_;
    sim::duration base_latency_;
    transmit_fn transmit_;
    std::vector<overlay> overlays_;
    std::vector<cut> cuts_;
    std::map<std::pair<sim::node_id, sim::node_id>, link_memory> memory_;
    std::multimap<std::chrono::steady_clock::time_point, frame> delayed_;  // equal times keep their order
    std::vector<frame> held_;
    std::chrono::steady_clock::time_point armed_for_ = std::chrono::steady_clock::time_point::max();
    std::uint64_t next_handle_ = 1;
    network_counts counts_;
};

}  // namespace meshsim::real
