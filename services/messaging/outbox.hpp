// Publishing state changes as events: the transactional outbox (state change and
// event committed in one local store transaction, a relay fiber publishes later
// and marks them sent) next to the naive dual write (store, then publish, as two
// separate steps: a crash between them loses the event or publishes a phantom).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "services/messaging/event.hpp"
#include "services/platform/config_errors.hpp"
#include "sim/runtime.hpp"
#include "sim/sync.hpp"

namespace meshsim::svc {

// Publishes one event somewhere (a broker, webhooks); true once it is accepted.
// May park. broker_client::publish fits: [&](const event& e) { return is ok(b.publish(e)); }.
using publish_fn = std::function<bool(const event&)>;

// Writes to the store without syncing; the caller commits.
using state_change = std::function<void(sim::store&)>;

class outbox {
public:
    // Entries live under "<name>/outbox/<sequence>", in commit order.
    outbox(sim::runtime& rt, std::string name);

    // One local transaction: the state writes and the outbox entries, then one
    // sync. Nothing parks in between, so a crash keeps both or neither.
    void commit(const state_change& change, const std::vector<event>& events);

    struct entry {
        std::string key;
        event e;
    };
    // The oldest unsent entries, at most `max`.
    std::vector<entry> pending(std::size_t max) const;
    void mark_sent(const std::string& key);
    std::size_t pending_count() const;

    // The relay parks here until a commit or the deadline.
    sim::wake_reason wait_for_commit(sim::time_point deadline) { return sim::wait_on(rt_, committed_, deadline); }
    sim::runtime& runtime() { return rt_; }

private:
    std::string prefix() const { return name_ + "/outbox/"; }

    sim::runtime& rt_;
    std::string name_;
    std::uint64_t next_sequence_ = 1;
    sim::wait_list committed_;
};

struct outbox_relay_config {
    // Rescan the outbox at least this often (after failures; commits wake it sooner).
    sim::duration poll_interval = sim::milliseconds{100};
    // Entries published per scan.
    std::size_t batch_size = 10;

    config_errors validate() const;
};

// Publishes outbox entries in order and marks each sent after it was accepted.
// A crash between publish and mark_sent publishes it again after restart: the
// outbox is at least once, consumers deduplicate by event id.
class outbox_relay {
public:
    outbox_relay(outbox& box, publish_fn publish, outbox_relay_config config);

    void start();
    // One scan; stops at the first failed publish (keeps the order). Returns how many were published.
    std::size_t relay_once();
    std::uint64_t published_count() const { return published_; }

private:
    std::size_t relay_once_marking_first();

    outbox& box_;
    publish_fn publish_;
    outbox_relay_config config_;
    std::uint64_t published_ = 0;
};

enum class dual_write_order : std::uint8_t {
    store_then_publish,  // a crash (or a failed publish) after the sync loses the event
    publish_then_store,  // a crash after the publish leaves a phantom: an event with no state
};

// The naive dual write, kept to show what the outbox prevents. Not atomic: the
// state write and the publish are two systems, and nothing retries the second.
class dual_writer {
public:
    // `gap_between_steps` is the work between the two writes (building the message,
    // taking a connection): a crash inside it splits them. Zero still leaves the
    // publish itself, which fails without retry when the broker is unreachable.
    dual_writer(sim::runtime& rt, publish_fn publish, dual_write_order order = dual_write_order::store_then_publish,
                sim::duration gap_between_steps = sim::milliseconds{1});

    // Returns whether the publish was accepted.
    bool write(const state_change& change, const event& e);

private:
    sim::runtime& rt_;
    publish_fn publish_;
    dual_write_order order_;
    sim::duration gap_;
};

}  // namespace meshsim::svc
