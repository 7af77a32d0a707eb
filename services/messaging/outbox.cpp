#include "services/messaging/outbox.hpp"

#include "services/platform/planted_bug.hpp"

namespace meshsim::svc {

config_errors outbox_relay_config::validate() const {
    config_errors errors;
    require(errors, poll_interval > sim::duration::zero(), "poll_interval", "> 0", poll_interval);
    require(errors, batch_size >= 1, "batch_size", ">= 1", static_cast<double>(batch_size));
    return errors;
}

outbox::outbox(sim::runtime& rt, std::string name) : rt_(rt), name_(std::move(name)) {
    // Sequences continue after the last entry that survived (a restart).
    const auto keys = rt_.durable_store().keys(prefix());
    if (!keys.empty()) next_sequence_ = sequence_of(keys.back()) + 1;
}

void outbox::commit(const state_change& change, const std::vector<event>& events) {
    sim::store& disk = rt_.durable_store();
    change(disk);
    for (const event& e : events) disk.put(prefix() + sequence_key(next_sequence_++), to_json(e));
    disk.sync();
    committed_.wake_all(rt_);
}

std::vector<outbox::entry> outbox::pending(std::size_t max) const {
    std::vector<entry> out;
    const sim::store& disk = rt_.durable_store();
    for (const auto& key : disk.keys(prefix())) {
        if (out.size() >= max) break;
        if (auto e = event_from_json(*disk.get(key))) out.push_back({key, std::move(*e)});
    }
    return out;
}

void outbox::mark_sent(const std::string& key) {
    rt_.durable_store().erase(key);
    rt_.durable_store().sync();
}

std::size_t outbox::pending_count() const { return rt_.durable_store().keys(prefix()).size(); }

outbox_relay::outbox_relay(outbox& box, publish_fn publish, outbox_relay_config config)
    : box_(box), publish_(std::move(publish)), config_(config) {}

void outbox_relay::start() {
    box_.runtime().spawn("outbox-relay", [this] {
        while (true) {
            if (box_.pending_count() == 0 || relay_once() == 0) {
                box_.wait_for_commit(sim::saturating_add(box_.runtime().now(), config_.poll_interval));
            }
        }
    });
}

std::size_t outbox_relay::relay_once() {
    if (planted(planted_bug::outbox_drops_on_crash)) return relay_once_marking_first();
    std::size_t published = 0;
    for (const outbox::entry& item : box_.pending(config_.batch_size)) {
        if (!publish_(item.e)) break;
        box_.mark_sent(item.key);
        ++published;
        ++published_;
    }
    return published;
}

// Planted bug (test-only): the batch is marked sent before it is published (at most
// once): a failed publish (the broker down or cut off) or a crash meanwhile loses the rest.
std::size_t outbox_relay::relay_once_marking_first() {
    const std::vector<outbox::entry> batch = box_.pending(config_.batch_size);
    for (const outbox::entry& item : batch) box_.mark_sent(item.key);
    std::size_t published = 0;
    for (const outbox::entry& item : batch) {
        if (!publish_(item.e)) break;
        ++published;
        ++published_;
    }
    return published;
}

dual_writer::dual_writer(sim::runtime& rt, publish_fn publish, dual_write_order order, sim::duration gap_between_steps)
    : rt_(rt), publish_(std::move(publish)), order_(order), gap_(gap_between_steps) {}

bool dual_writer::write(const state_change& change, const event& e) {
    auto store_state = [&] {
        change(rt_.durable_store());
        rt_.durable_store().sync();
    };
    if (order_ == dual_write_order::store_then_publish) {
        store_state();
        rt_.compute(gap_);  // a crash here: state kept, event never sent
        return publish_(e);
    }
    const bool accepted = publish_(e);
    rt_.compute(gap_);  // a crash here (or while the publish waited): a phantom event
    store_state();
    return accepted;
}

}  // namespace meshsim::svc
