#include "sim/kernel/node.hpp"

#include <algorithm>
#include <cmath>

#include "sim/invariant.hpp"
#include "sim/kernel/simulation.hpp"
#include "sim/rpc_detail.hpp"

namespace meshsim::sim::kernel {

std::string_view to_string(node_state s) {
    switch (s) {
        case node_state::down: return "down";
        case node_state::up: return "up";
        case node_state::paused: return "paused";
    }
    return "unknown";
}

node::node(simulation& sim, node_id id, std::string name, std::function<void(runtime&)> boot)
    : sim_(sim),
      id_(id),
      net_random_(sim.seed(), "network/" + name),
      name_(std::move(name)),
      boot_(std::move(boot)),
      fault_random_(sim.seed(), "faults/service/" + name_) {}

time_point node::now() const { return to_local(sim_.now()); }

time_point node::monotonic_now() const { return wall_clock_timers_ ? now() : sim_.now(); }

void node::sleep_until_monotonic(time_point deadline) {
    if (wall_clock_timers_) return sleep_until(deadline);
    sim_.park_current(current_fiber(), deadline);
}

time_point node::to_local(time_point true_time) const {
    if (drift_ppm_ == 0) return saturating_add(true_time, offset_);
    const auto since = static_cast<long double>((true_time - drift_anchor_).count());
    const auto drift = static_cast<std::int64_t>(std::llround(since * drift_ppm_ * 1e-6L));
    return saturating_add(saturating_add(true_time, offset_), duration{drift});
}

time_point node::to_true(time_point local_time) const {
    if (local_time == time_never) return time_never;
    if (drift_ppm_ == 0) return saturating_sub(local_time, offset_);
    // local = t + offset + (t - anchor) * k  =>  t = (local - offset + anchor * k) / (1 + k)
    const long double k = drift_ppm_ * 1e-6L;
    const long double local_ns = static_cast<long double>((local_time - offset_).time_since_epoch().count());
    const long double anchor_ns = static_cast<long double>(drift_anchor_.time_since_epoch().count());
    const long double true_ns = std::ceil((local_ns + anchor_ns * k) / (1 + k));
    if (true_ns >= 9223372036854775807.0L) return time_never;  // past the end of virtual time
    auto t = time_point{duration{static_cast<std::int64_t>(true_ns)}};
    while (to_local(t) < local_time) t += duration{1};  // rounding: never fire early
    return t;
}

void node::set_clock_offset(duration offset) { offset_ = offset; }

void node::set_clock_drift_ppm(double drift_ppm) {
    // Fold the drift accumulated so far into the offset so local time stays continuous.
    const time_point true_now = sim_.now();
    offset_ = to_local(true_now) - true_now;
    drift_anchor_ = true_now;
    drift_ppm_ = drift_ppm;
}

void node::sleep_until(time_point deadline) {
    const fiber_ref self = current_fiber();
    park(self, deadline);
}

void node::compute(duration work) {
    const fiber_ref self = current_fiber();
    sim_.park_current(self, saturating_add(sim_.now(), scaled(work, slowness_)));
}

random_stream& node::random(std::string_view name) {
    auto it = streams_.find(name);
    if (it == streams_.end()) {
        // The incarnation is part of the name: a restarted process does not replay its draws.
        const std::string full = name_ + "#" + std::to_string(incarnation_) + "/" + std::string(name);
        it = streams_.emplace(std::string(name), random_stream(sim_.seed(), full)).first;
    }
    return it->second;
}

void node::spawn(std::string_view name, std::function<void()> body) {
    if (state_ == node_state::down) return;  // a crashed process starts nothing
    sim_.spawn_fiber(*this, name, std::move(body));
}

fiber_ref node::current_fiber() {
    const fiber_ref self = sim_.current_fiber();
    // Waits (a mailbox's receivers above all) belong to one node: a fiber of another
    // node waiting through this runtime would sleep on the wrong clock and outlive a crash.
    MESHSIM_INVARIANT(sim_.slot(self.slot).owner == id_, "a fiber waits only through its own node's runtime");
    return self;
}

wake_reason node::park(fiber_ref self, time_point deadline) { return sim_.park_current(self, to_true(deadline)); }

void node::unpark(fiber_ref ref) { sim_.wake(ref, wake_reason::woken); }

void node::mailbox::push_back(message&& msg) {
    if (queued_ == 0) {
        std::construct_at(first(), std::move(msg));
    } else {
        rest_.push_back(std::move(msg));
    }
    ++queued_;
}

void node::mailbox::pop_front() {
    std::destroy_at(first());
    if (--queued_ == 0) return;
    std::construct_at(first(), std::move(rest_.front()));
    rest_.pop_front();
}

void node::mailbox::clear() {
    while (!empty()) pop_front();
}

node::mailbox* node::find_mailbox(port_id port) {
    if (home_box_.bound && home_box_.port == port) return &home_box_;
    for (mailbox& box : more_boxes_) {
        if (box.bound && box.port == port) return &box;
    }
    return nullptr;
}

const node::mailbox* node::find_mailbox(port_id port) const { return const_cast<node*>(this)->find_mailbox(port); }

void node::bind(port_id port) {
    if (find_mailbox(port) != nullptr) return;
    mailbox* box = home_box_.bound ? nullptr : &home_box_;
    for (auto it = more_boxes_.begin(); box == nullptr && it != more_boxes_.end(); ++it) {
        if (!it->bound) box = &*it;
    }
    if (box == nullptr) box = &more_boxes_.emplace_back();
    box->port = port;
    box->bound = true;
}

void node::unbind(port_id port) {
    if (mailbox* box = find_mailbox(port)) close_mailbox(*box);
}

void node::close_mailbox(mailbox& box) {
    box.bound = false;
    box.clear();
    box.receivers.wake_all(*this);  // they find the port gone and return nothing
}

void node::close_all_mailboxes() {
    close_mailbox(home_box_);
    for (mailbox& box : more_boxes_) close_mailbox(box);
}

void node::send(message&& msg) {
    MESHSIM_INVARIANT(state_ != node_state::down, "a node that is down sends nothing");
    sim_.net().send(*this, std::move(msg));
}

std::optional<message> node::receive(port_id port, time_point deadline) {
    std::optional<message> got;  // one named result: returned without another move
    while (!got) {
        // Found again after every wait: binding another port may move mailboxes.
        mailbox* box = find_mailbox(port);
        if (box == nullptr) break;  // not bound (or unbound while waiting)
        if (box->empty()) {
            if (wait_on(*this, box->receivers, deadline) != wake_reason::timed_out) continue;
            // A message may have arrived at the same instant as the deadline.
            box = find_mailbox(port);
            if (box == nullptr || box->empty()) break;
        }
        got.emplace(std::move(box->front()));
        box->pop_front();
    }
    return got;
}

bool node::deliver(message&& msg) {
    MESHSIM_INVARIANT(msg.to.node == id_, "a message goes only into its destination node's mailbox");
    mailbox* box = find_mailbox(msg.to.port);
    if (box == nullptr) return false;
    box->push_back(std::move(msg));
    box->receivers.wake_one(*this);
    return true;
}

void node::log(std::string_view event, const nlohmann::json& fields) {
    std::string detail(event);
    if (!fields.is_null()) {
        detail += ' ';
        detail += fields.dump();
    }
    sim_.trace().record(sim_.now(), event_kind::log, id_, 0, 0, detail);
}

// The detail of the RPC events (sim/rpc_detail.hpp), written into a buffer reused by
// every node of the thread: one event per attempt and per request served, and no
// buffer on the recording fiber's stack, whose depth is memory every fiber touches.
namespace {
thread_local std::string rpc_detail_buffer;
}  // namespace

std::string_view node::name_of(node_id id) const {
    return id < sim_.node_count() ? std::string_view(sim_.get_node(id).node_name()) : std::string_view();
}

void node::record_attempt(const attempt_record& attempt) {
    const std::string_view detail = write_attempt_detail(rpc_detail_buffer, attempt, name_of(attempt.to),
                                                         to_true(attempt.sent).time_since_epoch().count());
    sim_.trace().record(sim_.now(), event_kind::rpc_attempt, id_, attempt.status, attempt.attempt, detail);
}

// a = status, b = the caller's node.
void node::record_serve(const serve_record& served) {
    const std::string_view detail = write_serve_detail(rpc_detail_buffer, served, name_of(served.from),
                                                       to_true(served.arrived).time_since_epoch().count(),
                                                       to_true(served.started).time_since_epoch().count());
    sim_.trace().record(sim_.now(), event_kind::rpc_serve, id_, served.status, served.from, detail);
}

// "<component>=<state>" and the change's fields (" key=value ..."), if any.
void node::record_state(std::string_view component, std::string_view state, std::string_view fields) {
    std::string detail(component);
    detail += '=';
    detail += state;
    detail += fields;
    sim_.trace().record(sim_.now(), event_kind::state, id_, 0, 0, detail);
}

}  // namespace meshsim::sim::kernel
