#include "sim/kernel/network.hpp"

#include "sim/kernel/simulation.hpp"

namespace meshsim::sim::kernel {

std::string_view to_string(drop_reason r) {
    switch (r) {
        case drop_reason::node_down: return "node_down";
        case drop_reason::port_unbound: return "port_unbound";
    }
    return "unknown";
}

void network::set_link(node_id from, node_id to, link_config config) {
    links_.insert_or_assign({from, to}, std::move(config));
}

const link_config& network::link(node_id from, node_id to) const {
    if (links_.empty()) return default_link_;
    auto it = links_.find({from, to});
    return it == links_.end() ? default_link_ : it->second;
}

void network::send(node& from, message&& msg) {
    msg.from.node = from.self();
    msg.id = next_message_id_++;
    if (msg.size_bytes == 0) {
        msg.size_bytes = 64 + static_cast<std::uint32_t>(msg.head.size_bytes()) + estimate_size_bytes(msg.body);
    }
    ++messages_sent_;
    sim_.trace().record(sim_.now(), event_kind::msg_send, from.self(), msg.id,
                        static_cast<std::uint64_t>(msg.to.node) << 32 | msg.to.port);
    const link_config& l = link(msg.from.node, msg.to.node);
    const duration latency = l.latency.sample(from.net_random());
    const std::uint32_t slot = park_in_flight(std::move(msg));
    sim_.schedule_event(sim_.now() + latency, event_type::deliver_message, slot, 0);
}

std::uint32_t network::park_in_flight(message&& msg) {
    if (!free_slots_.empty()) {
        const std::uint32_t slot = free_slots_.back();
        free_slots_.pop_back();
        in_flight_[slot] = std::move(msg);
        return slot;
    }
    in_flight_.push_back(std::move(msg));
    return static_cast<std::uint32_t>(in_flight_.size() - 1);
}

void network::deliver(std::uint32_t slot) {
    message msg = std::move(in_flight_[slot]);
    free_slots_.push_back(slot);
    if (msg.to.node >= sim_.node_count()) {
        refuse(msg, drop_reason::node_down);
        return;
    }
    node& dest = sim_.get_node(msg.to.node);
    if (dest.state() == node_state::down) {
        refuse(msg, drop_reason::node_down);
        return;
    }
    const std::uint64_t id = msg.id;
    const std::uint64_t from = static_cast<std::uint64_t>(msg.from.node) << 32 | msg.from.port;
    if (!dest.deliver(std::move(msg))) {  // not moved from when refused
        refuse(msg, drop_reason::port_unbound);
        return;
    }
    ++messages_delivered_;
    sim_.trace().record(sim_.now(), event_kind::msg_deliver, dest.self(), id, from);
}

void network::refuse(const message& msg, drop_reason why) {
    drop(msg.to.node, msg.id, why);
    if (!msg.bounce_if_refused || msg.from.node >= sim_.node_count()) return;
    node& sender = sim_.get_node(msg.from.node);
    if (sender.state() == node_state::down) return;
    message bounce;
    bounce.from = msg.to;
    bounce.to = msg.from;
    bounce.head = msg.head;  // lets the sender match the refusal to its request
    bounce.head.set(std::string(bounce_header), std::string(to_string(why)));
    bounce.body = msg.id;
    // The refusal travels back over the reverse link like any message.
    node& origin = sim_.get_node(msg.to.node < sim_.node_count() ? msg.to.node : msg.from.node);
    send(origin, std::move(bounce));
}

void network::drop(node_id to, std::uint64_t id, drop_reason why) {
    ++messages_dropped_;
    sim_.trace().record(sim_.now(), event_kind::msg_drop, to, id, static_cast<std::uint64_t>(why), to_string(why));
}

std::uint32_t estimate_size_bytes(const nlohmann::json& body) {
    using t = nlohmann::json::value_t;
    switch (body.type()) {
        case t::null: return 0;
        case t::boolean: return 5;
        case t::number_integer:
        case t::number_unsigned:
        case t::number_float: return 8;
        case t::string: return static_cast<std::uint32_t>(body.get_ref<const std::string&>().size() + 2);
        case t::binary: return static_cast<std::uint32_t>(body.get_binary().size());
        case t::array: {
            std::uint32_t n = 2;
            for (const auto& item : body) n += estimate_size_bytes(item) + 1;
            return n;
        }
        case t::object: {
            std::uint32_t n = 2;
            for (const auto& [key, value] : body.items()) n += static_cast<std::uint32_t>(key.size()) + 4 + estimate_size_bytes(value);
            return n;
        }
        case t::discarded: return 0;
    }
    return 0;
}

}  // namespace meshsim::sim::kernel
