#include "sim/kernel/network.hpp"

#include <algorithm>
#include <charconv>

#include "sim/kernel/simulation.hpp"

namespace meshsim::sim::kernel {

std::string_view to_string(drop_reason r) {
    switch (r) {
        case drop_reason::node_down: return "node_down";
        case drop_reason::port_unbound: return "port_unbound";
        case drop_reason::loss: return "loss";
        case drop_reason::queue_full: return "queue_full";
        case drop_reason::partition: return "partition";
        case drop_reason::cut_in_flight: return "cut_in_flight";
    }
    return "unknown";
}

std::vector<std::string> link_config::validate(const std::string& what) const {
    std::vector<std::string> errors = latency.validate(what + ".latency");
    auto probability = [&](const char* name, double p) {
        if (!(p >= 0 && p <= 1))
            errors.push_back(what + "." + name + ": must be a probability in [0, 1], got " + std::to_string(p));
    };
    probability("loss", loss);
    probability("loss_correlation", loss_correlation);
    probability("delay_correlation", delay_correlation);
    probability("duplicate", duplicate);
    probability("reorder", reorder);
    probability("corrupt", corrupt);
    if (jitter.count() < 0) errors.push_back(what + ".jitter: must not be negative, got " + format_duration(jitter));
    if (bandwidth_bytes_per_s != 0 && queue_capacity_bytes == 0) {
        errors.push_back(what + ".queue_capacity_bytes: must be > 0 with a bandwidth (nothing could be sent)");
    }
    return errors;
}

void network::set_link(node_id from, node_id to, link_config config) {
    links_.insert_or_assign({from, to}, std::move(config));
    update_plain();
}

const link_config& network::configured_link(node_id from, node_id to) const {
    for (auto it = overlays_.rbegin(); it != overlays_.rend(); ++it) {
        const bool from_ok = it->from.empty() || (from < it->from.size() && it->from[from]);
        const bool to_ok = it->to.empty() || (to < it->to.size() && it->to[to]);
        if (from_ok && to_ok) return it->config;
    }
    if (links_.empty()) return default_link_;
    auto it = links_.find({from, to});
    return it == links_.end() ? default_link_ : it->second;
}

namespace {
std::vector<bool> node_set(const std::vector<node_id>& ids) {
    std::vector<bool> set;
    for (const node_id id : ids) {
        if (id >= set.size()) set.resize(static_cast<std::size_t>(id) + 1, false);
        set[id] = true;
    }
    return set;
}
}  // namespace

std::uint64_t network::add_link_overlay(std::vector<node_id> from, std::vector<node_id> to, link_config config) {
    const std::uint64_t id = next_handle_++;
    overlays_.push_back({id, node_set(from), node_set(to), std::move(config)});
    update_plain();
    return id;
}

void network::remove_link_overlay(std::uint64_t id) {
    std::erase_if(overlays_, [id](const overlay& o) { return o.id == id; });
    update_plain();
}

std::uint64_t network::add_cut(cut_matrix matrix, cut_mode mode) {
    const std::uint64_t id = next_handle_++;
    cuts_.push_back({id, std::move(matrix), mode});
    update_plain();
    return id;
}

void network::heal(std::uint64_t cut_id) {
    std::erase_if(cuts_, [cut_id](const cut& c) { return c.id == cut_id; });
    update_plain();
    if (held_.empty()) return;
    std::vector<std::uint32_t> still_held;
    for (const std::uint32_t slot : held_) {
        const message& msg = in_flight_[slot].msg;
        if (is_cut(msg.from.node, msg.to.node)) {
            still_held.push_back(slot);
        } else {
            sim_.schedule_event(sim_.now(), event_type::deliver_message, slot, 0);
        }
    }
    held_.swap(still_held);
}

void network::heal_all() {
    while (!cuts_.empty()) heal(cuts_.back().id);
    // (a cut-free network holds nothing: heal released every held message)
}

const network::cut* network::cut_for(node_id from, node_id to) const {
    const cut* found = nullptr;
    for (const cut& c : cuts_) {
        if (!c.matrix.blocks(from, to)) continue;
        if (c.mode == cut_mode::drop) return &c;
        found = &c;
    }
    return found;
}

void network::send(node& from, message&& msg) {
    msg.from.node = from.self();
    msg.id = next_message_id_++;
    if (msg.size_bytes == 0) {
        const std::uint32_t body_bytes = msg.body.is_null() ? 0 : estimate_size_bytes(msg.body);  // no call for none
        msg.size_bytes = 64 + static_cast<std::uint32_t>(msg.head.size_bytes()) + body_bytes;
    }
    ++messages_sent_;
    record_send(msg);
    if (!plain_) {
        send_configured(from, std::move(msg));
        return;
    }
    // No fault anywhere: one latency draw and one event (the hot path).
    const duration latency = default_link_.latency.sample(from.net_random());
    const std::uint32_t slot = park_in_flight(std::move(msg));
    sim_.schedule_event(saturating_add(sim_.now(), latency), event_type::deliver_message, slot, 0);
}

void network::record_send(const message& msg) {
    const std::uint64_t to = static_cast<std::uint64_t>(msg.to.node) << 32 | msg.to.port;
    if (msg.status == 0) {
        sim_.trace().record(sim_.now(), event_kind::msg_send, msg.from.node, msg.id, to);
        return;
    }
    char detail[16] = "status=";  // formatted in place: no allocation on the hot path
    const auto end = std::to_chars(detail + 7, detail + sizeof detail, msg.status).ptr;
    sim_.trace().record(sim_.now(), event_kind::msg_send, msg.from.node, msg.id, to,
                        std::string_view(detail, static_cast<std::size_t>(end - detail)));
}

void network::send_configured(node& from, message&& msg) {
    if (!cuts_.empty()) {
        if (const cut* c = cut_for(msg.from.node, msg.to.node)) {
            if (c->mode == cut_mode::drop) {
                drop(msg.to.node, msg.id, drop_reason::partition);
            } else {
                held_.push_back(park_in_flight(std::move(msg)));
            }
            return;
        }
    }
    const link_config& l = link(msg.from.node, msg.to.node);
    if (l.has_faults()) {
        send_with_faults(from, l, std::move(msg));
        return;
    }
    schedule_delivery(std::move(msg), l.latency.sample(from.net_random()));
}

void network::send_with_faults(node& from, const link_config& l, message&& msg) {
    random_stream& rng = from.net_random();
    const bool stateful = (l.loss > 0 && l.loss_correlation > 0) ||
                          (l.jitter.count() != 0 && l.delay_correlation > 0) || l.bandwidth_bytes_per_s != 0;
    link_state* st = stateful ? &link_states_[{msg.from.node, msg.to.node}] : nullptr;
    if (l.loss > 0) {
        bool lost;
        if (st != nullptr && l.loss_correlation > 0 && rng.bernoulli(l.loss_correlation)) {
            lost = st->last_lost;
        } else {
            lost = rng.bernoulli(l.loss);
        }
        if (st != nullptr) st->last_lost = lost;
        if (lost) {
            drop(msg.to.node, msg.id, drop_reason::loss);
            return;
        }
    }
    if (l.corrupt > 0 && rng.bernoulli(l.corrupt)) {
        // Cannot be decoded: the receiver learns that much and nothing else.
        msg.corrupted = true;
        msg.body = nullptr;
    }
    if (l.duplicate > 0 && rng.bernoulli(l.duplicate)) {
        message copy = msg;
        const duration d = copy_delay(l, st, rng, copy.size_bytes);
        if (d.count() < 0) {
            drop(copy.to.node, copy.id, drop_reason::queue_full);
        } else {
            schedule_delivery(std::move(copy), d);
        }
    }
    const duration d = copy_delay(l, st, rng, msg.size_bytes);
    if (d.count() < 0) {
        drop(msg.to.node, msg.id, drop_reason::queue_full);
        return;
    }
    schedule_delivery(std::move(msg), d);
}

duration network::copy_delay(const link_config& l, link_state* st, random_stream& rng, std::uint32_t size_bytes) {
    duration delay = l.latency.sample(rng);
    if (l.jitter.count() != 0) {
        duration j;
        if (st != nullptr && l.delay_correlation > 0 && rng.bernoulli(l.delay_correlation)) {
            j = st->last_jitter;
        } else {
            const double span = static_cast<double>(l.jitter.count());
            j = duration{static_cast<std::int64_t>(rng.uniform(-span, span))};
        }
        if (st != nullptr) st->last_jitter = j;
        delay = std::max(saturating_add(delay, j), duration{0});
    }
    if (l.reorder > 0 && rng.bernoulli(l.reorder)) delay = duration{0};
    if (l.bandwidth_bytes_per_s != 0) {
        // FIFO serialization: the copy leaves the queue once everything before it has.
        const time_point now = sim_.now();
        while (!st->queue.empty() && st->queue.front().first <= now) {
            st->queued_bytes -= st->queue.front().second;
            st->queue.pop_front();
        }
        if (st->queued_bytes + size_bytes > l.queue_capacity_bytes) return duration{-1};
        const auto serialize_ns = static_cast<std::int64_t>((static_cast<long double>(size_bytes) * 1e9L) /
                                                            static_cast<long double>(l.bandwidth_bytes_per_s));
        const time_point departs = saturating_add(std::max(now, st->busy_until), duration{serialize_ns});
        st->busy_until = departs;
        st->queue.emplace_back(departs, size_bytes);
        st->queued_bytes += size_bytes;
        delay = saturating_add(delay, departs - now);
    }
    return delay;
}

void network::schedule_delivery(message&& msg, duration delay) {
    const std::uint32_t slot = park_in_flight(std::move(msg));
    sim_.schedule_event(saturating_add(sim_.now(), delay), event_type::deliver_message, slot, 0);
}

std::uint32_t network::park_in_flight(message&& msg) {
    if (!free_slots_.empty()) {
        const std::uint32_t slot = free_slots_.back();
        free_slots_.pop_back();
        in_flight_[slot].msg = std::move(msg);
        return slot;
    }
    in_flight_.emplace_back().msg = std::move(msg);
    return static_cast<std::uint32_t>(in_flight_.size() - 1);
}

void network::deliver(std::uint32_t slot) {
    if (!cuts_.empty()) {
        // A cut that appeared while the message was in flight.
        const message& flying = in_flight_[slot].msg;
        if (const cut* c = cut_for(flying.from.node, flying.to.node)) {
            if (c->mode == cut_mode::hold) {
                held_.push_back(slot);
                return;
            }
            drop(flying.to.node, flying.id, drop_reason::cut_in_flight);
            in_flight_[slot].msg = message{};
            free_slots_.push_back(slot);
            return;
        }
    }
    // Delivered straight from its slot (one move less per message); a refusal moves
    // it out first, since the bounce it sends may grow in_flight_.
    message& msg = in_flight_[slot].msg;
    if (msg.to.node >= sim_.node_count() || sim_.get_node(msg.to.node).state() == node_state::down) {
        refuse_in_flight(slot, drop_reason::node_down);
        return;
    }
    node& dest = sim_.get_node(msg.to.node);
    const std::uint64_t id = msg.id;
    const std::uint64_t from = static_cast<std::uint64_t>(msg.from.node) << 32 | msg.from.port;
    if (!dest.deliver(std::move(msg))) {  // not moved from when refused
        refuse_in_flight(slot, drop_reason::port_unbound);
        return;
    }
    free_slots_.push_back(slot);
    ++messages_delivered_;
    sim_.trace().record(sim_.now(), event_kind::msg_deliver, dest.self(), id, from);
}

void network::refuse_in_flight(std::uint32_t slot, drop_reason why) {
    const message msg = std::move(in_flight_[slot].msg);
    free_slots_.push_back(slot);
    refuse(msg, why);
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
            for (const auto& [key, value] : body.items())
                n += static_cast<std::uint32_t>(key.size()) + 4 + estimate_size_bytes(value);
            return n;
        }
        case t::discarded: return 0;
    }
    return 0;
}

}  // namespace meshsim::sim::kernel
