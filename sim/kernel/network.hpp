// The virtual network: directed links with latency models and netem-style faults
// (jitter, loss, duplication, reordering, corruption, bandwidth with a bounded
// queue), partitions (cuts), messages in flight, delivery into the receiving
// node's mailbox. Every send, delivery and drop is a trace event. With no fault
// configured the send path is one latency draw and one event, nothing more.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/distribution.hpp"
#include "sim/kernel/partition.hpp"
#include "sim/message.hpp"
#include "sim/random.hpp"

namespace meshsim::sim::kernel {

class simulation;
class node;

enum class drop_reason : std::uint8_t {
    node_down,      // the receiving node is crashed (or not started)
    port_unbound,   // nothing listens on the port: connection refused
    loss,           // the link lost it (link_config::loss)
    queue_full,     // the link's bandwidth queue had no room (link_config::queue_capacity_bytes)
    partition,      // sent across a cut in drop mode
    cut_in_flight,  // in flight when a drop-mode cut appeared between its ends
};
std::string_view to_string(drop_reason r);

// One direction of one node pair (A->B is configured apart from B->A). Every
// field is off by default except the latency; probabilities are in [0, 1].
struct link_config {
    // One-way delay before jitter.
    duration_distribution latency = duration_distribution::constant(milliseconds(1));
    // Added to the latency: uniform in [-jitter, +jitter], the sum clamped at zero.
    duration jitter{0};
    // Probability that a message's jitter repeats the previous message's on this link
    // (netem's delay correlation, done so that the marginal distribution is kept).
    double delay_correlation = 0;
    // Probability that a message is lost.
    double loss = 0;
    // Probability that a message shares the previous message's loss fate on this
    // link: bursts of loss with mean length 1 / (1 - c - (1 - c) * loss), rate kept.
    double loss_correlation = 0;
    // Probability that a second copy (same id, its own latency draw) is delivered.
    double duplicate = 0;
    // Probability that a message skips the latency (netem's reorder: sent at once,
    // it overtakes those in flight). Needs a non-zero latency to have an effect.
    double reorder = 0;
    // Probability that a message arrives corrupted: the receiver gets
    // `message::corrupted = true`, the headers (framing) and a null body.
    double corrupt = 0;
    // Serialization rate in bytes per second; 0 = unlimited (no queue).
    std::uint64_t bandwidth_bytes_per_s = 0;
    // Bytes that may wait for (or be in) serialization; a message that does not
    // fit is dropped (queue_full). Only with a bandwidth.
    std::uint64_t queue_capacity_bytes = 64 * 1024;

    // Problems with the parameters, each naming the parameter; empty when valid.
    std::vector<std::string> validate(const std::string& what = "link") const;
    // Anything beyond latency configured (the slow path of send).
    bool has_faults() const {
        return jitter.count() != 0 || loss > 0 || duplicate > 0 || reorder > 0 || corrupt > 0 ||
               bandwidth_bytes_per_s != 0;
    }
};

class network {
public:
    explicit network(simulation& sim) : sim_(sim) {}

    void set_default_link(link_config config) {
        default_link_ = std::move(config);
        update_plain();
    }
    const link_config& default_link() const { return default_link_; }
    void set_link(node_id from, node_id to, link_config config);
    void clear_link(node_id from, node_id to) {
        links_.erase({from, to});
        update_plain();
    }
    // The config in force: the newest overlay covering the pair, else the pair's
    // own, else the default.
    const link_config& link(node_id from, node_id to) const {
        if (overlays_.empty() && links_.empty()) return default_link_;  // the common case, inline
        return configured_link(from, to);
    }

    // An overlay (a link fault): `config` for every pair from `from` to `to`
    // (an empty list means every node). Newest wins. Returns its id for removal.
    std::uint64_t add_link_overlay(std::vector<node_id> from, std::vector<node_id> to, link_config config);
    void remove_link_overlay(std::uint64_t id);

    // Partitions. A cut blocks the directed pairs its matrix sets; messages meeting
    // it are dropped or held per `mode`. Cuts stack; heal removes one.
    std::uint64_t add_cut(cut_matrix cut, cut_mode mode = cut_mode::drop);
    // Removes the cut; held messages no cut blocks any more are delivered now, in
    // the order they were held.
    void heal(std::uint64_t cut_id);
    void heal_all();
    bool is_cut(node_id from, node_id to) const { return !cuts_.empty() && cut_for(from, to) != nullptr; }
    std::size_t held() const { return held_.size(); }

    // Called by the sending node's runtime; from.node is set to the sender.
    void send(node& from, message&& msg);
    // The deliver_message event for an in-flight slot.
    void deliver(std::uint32_t slot);

    std::uint64_t messages_sent() const { return messages_sent_; }
    std::uint64_t messages_delivered() const { return messages_delivered_; }
    std::uint64_t messages_dropped() const { return messages_dropped_; }
    std::size_t in_flight() const { return in_flight_.size() - free_slots_.size(); }

private:
    struct overlay {
        std::uint64_t id;
        std::vector<bool> from;  // empty = every node
        std::vector<bool> to;
        link_config config;
    };
    struct cut {
        std::uint64_t id;
        cut_matrix matrix;
        cut_mode mode;
    };
    // What a link remembers between messages: correlation and its queue.
    struct link_state {
        bool last_lost = false;
        duration last_jitter{0};
        time_point busy_until = time_zero;
        std::uint64_t queued_bytes = 0;
        std::deque<std::pair<time_point, std::uint32_t>> queue;  // (departure, bytes)
    };

    const link_config& configured_link(node_id from, node_id to) const;
    // plain_: one default link without faults, no per-pair link, overlay or cut.
    void update_plain() {
        plain_ = links_.empty() && overlays_.empty() && cuts_.empty() && !default_link_.has_faults();
    }
    void record_send(const message& msg);             // the msg_send event, with the status if any
    void send_configured(node& from, message&& msg);  // anything but plain_
    void send_with_faults(node& from, const link_config& l, message&& msg);
    // The delay of one copy, or a negative duration when the queue drops it.
    duration copy_delay(const link_config& l, link_state* st, random_stream& rng, std::uint32_t size_bytes);
    void schedule_delivery(message&& msg, duration delay);
    const cut* cut_for(node_id from, node_id to) const;  // a drop-mode cut wins over a hold-mode one
    std::uint32_t park_in_flight(message&& msg);
    void drop(node_id to, std::uint64_t id, drop_reason why);
    // Drops an undeliverable message and, if asked, bounces a refusal to its sender.
    void refuse(const message& msg, drop_reason why);
    void refuse_in_flight(std::uint32_t slot, drop_reason why);  // frees the slot

    simulation& sim_;
    bool plain_ = true;
    link_config default_link_;
    std::map<std::pair<node_id, node_id>, link_config> links_;
    std::vector<overlay> overlays_;
    std::map<std::pair<node_id, node_id>, link_state> link_states_;
    std::vector<cut> cuts_;
    std::vector<std::uint32_t> held_;  // in-flight slots waiting for a heal
    // A message in flight fills one cache line of its own.
    struct alignas(cache_line_bytes) flight_slot {
        message msg;
    };
    std::vector<flight_slot> in_flight_;
    std::vector<std::uint32_t> free_slots_;
    std::uint64_t next_message_id_ = 1;
    std::uint64_t next_handle_ = 1;  // overlay and cut ids
    std::uint64_t messages_sent_ = 0;
    std::uint64_t messages_delivered_ = 0;
    std::uint64_t messages_dropped_ = 0;
};

// Rough wire size of a JSON body, without serializing it.
std::uint32_t estimate_size_bytes(const nlohmann::json& body);

}  // namespace meshsim::sim::kernel
