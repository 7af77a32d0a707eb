// The virtual network: directed links with latency models, messages in flight,
// delivery into the receiving node's mailbox. Every send, delivery and drop is a
// trace event. Fault models (loss, partitions, ...) hook in at send and delivery.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "sim/distribution.hpp"
#include "sim/message.hpp"
#include "sim/random.hpp"

namespace meshsim::sim::kernel {

class simulation;
class node;

enum class drop_reason : std::uint8_t {
    node_down,     // the receiving node is crashed (or not started)
    port_unbound,  // nothing listens on the port: connection refused
};
std::string_view to_string(drop_reason r);

// One direction of one node pair (A->B is configured apart from B->A).
struct link_config {
    duration_distribution latency = duration_distribution::constant(milliseconds(1));
};

class network {
public:
    explicit network(simulation& sim) : sim_(sim) {}

    void set_default_link(link_config config) { default_link_ = std::move(config); }
    const link_config& default_link() const { return default_link_; }
    void set_link(node_id from, node_id to, link_config config);
    const link_config& link(node_id from, node_id to) const;

    // Called by the sending node's runtime; from.node is set to the sender.
    void send(node& from, message&& msg);
    // The deliver_message event for an in-flight slot.
    void deliver(std::uint32_t slot);

    std::uint64_t messages_sent() const { return messages_sent_; }
    std::uint64_t messages_delivered() const { return messages_delivered_; }
    std::uint64_t messages_dropped() const { return messages_dropped_; }
    std::size_t in_flight() const { return in_flight_.size() - free_slots_.size(); }

private:
    std::uint32_t park_in_flight(message&& msg);
    void drop(node_id to, std::uint64_t id, drop_reason why);
    // Drops an undeliverable message and, if asked, bounces a refusal to its sender.
    void refuse(const message& msg, drop_reason why);

    simulation& sim_;
    link_config default_link_;
    std::map<std::pair<node_id, node_id>, link_config> links_;
    std::vector<message> in_flight_;
    std::vector<std::uint32_t> free_slots_;
    std::uint64_t next_message_id_ = 1;
    std::uint64_t messages_sent_ = 0;
    std::uint64_t messages_delivered_ = 0;
    std::uint64_t messages_dropped_ = 0;
};

// Rough wire size of a JSON body, without serializing it.
std::uint32_t estimate_size_bytes(const nlohmann::json& body);

}  // namespace meshsim::sim::kernel
