// A node: one simulated process host. It implements the runtime seam for the
// code running on it, owns its fibers (as a list in spawn order), its ports'
// mailboxes, its durable store and its clock model (offset, drift, slowness).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "sim/kernel/service_faults.hpp"
#include "sim/kernel/store.hpp"
#include "sim/ring_queue.hpp"
#include "sim/runtime.hpp"
#include "sim/sync.hpp"

namespace meshsim::sim::kernel {

class simulation;

enum class node_state : std::uint8_t { down, up, paused };
std::string_view to_string(node_state s);

class alignas(64) node final : public runtime {
public:
    node(simulation& sim, node_id id, std::string name, std::function<void(runtime&)> boot);

    // --- runtime seam ---
    node_id self() const override { return id_; }
    const std::string& node_name() const override { return name_; }
    std::string_view name_of(node_id id) const override;
    time_point now() const override;
    void sleep_until(time_point deadline) override;
    // True virtual time (clock faults do not touch it), unless the node measures
    // durations on its wall clock (set_wall_clock_timers).
    time_point monotonic_now() const override;
    void sleep_until_monotonic(time_point deadline) override;
    void compute(duration work) override;
    random_stream& random(std::string_view name) override;
    void spawn(std::string_view name, std::function<void()> body) override;
    fiber_ref current_fiber() override;
    wake_reason park(fiber_ref self, time_point deadline) override;
    void unpark(fiber_ref ref) override;
    void bind(port_id port) override;
    void unbind(port_id port) override;
    void send(message&& msg) override;
    std::optional<message> receive(port_id port, time_point deadline) override;
    store& durable_store() override { return store_; }
    request_fault fault_for_request(port_id port, std::string_view path) override {
        if (service_faults_.empty()) return {};
        return service_faults_.evaluate(port, path, fault_random_);
    }
    void log(std::string_view event, const nlohmann::json& fields) override;
    void record_state(std::string_view component, std::string_view state, std::string_view fields = {}) override;
    void record_attempt(const attempt_record& attempt) override;
    void record_serve(const serve_record& served) override;

    // --- clock model (clock faults) ---
    // Local time = true time + offset + drift since the drift was set.
    void set_clock_offset(duration offset);
    void set_clock_drift_ppm(double drift_ppm);
    duration clock_offset() const { return offset_; }
    double clock_drift_ppm() const { return drift_ppm_; }
    time_point to_local(time_point true_time) const;
    time_point to_true(time_point local_time) const;  // the first true instant whose local time >= local_time
    // A process that times durations on its wall clock (a scenario's "timers":
    // "wall_clock"): monotonic_now() is now(), clock faults and all.
    void set_wall_clock_timers(bool on) { wall_clock_timers_ = on; }
    // CPU slowness: compute() work is multiplied by this (1 = normal).
    void set_slowness(double factor) { slowness_ = factor; }
    double slowness() const { return slowness_; }

    // --- kernel side ---
    node_state state() const { return state_; }
    std::uint32_t incarnation() const { return incarnation_; }
    std::size_t live_fibers() const { return live_fibers_; }
    bool accepts(port_id port) const { return state_ != node_state::down && find_mailbox(port) != nullptr; }
    // Puts an arriving message in its port's mailbox; false if the port is not bound.
    bool deliver(message&& msg);
    memory_store& disk() { return store_; }
    random_stream& net_random() { return net_random_; }
    // Service-level fault rules (fault injection): outlive restarts, as a mesh's config would.
    service_fault_table& service_faults() { return service_faults_; }

private:
    friend class simulation;
    // A port's queue of arrived messages, in two cache lines (three with a backlog):
    // what finding the box and waking its receivers reads, then its oldest message.
    // Messages wait behind that one only when they arrive faster than the node's
    // fibers take them; `rest_` is touched only then.
    class alignas(cache_line_bytes) mailbox {
    public:
        port_id port = 0;
        bool bound = false;
        wait_list receivers;

        mailbox() = default;
        mailbox(const mailbox&) = delete;
        mailbox& operator=(const mailbox&) = delete;
        ~mailbox() { clear(); }
        bool empty() const { return queued_ == 0; }
        message& front() { return *first(); }
        void push_back(message&& msg);
        void pop_front();
        void clear();

    private:
        message* first() { return std::launder(reinterpret_cast<message*>(first_bytes_)); }

        std::uint32_t queued_ = 0;  // the first message (if any) and rest_
        alignas(cache_line_bytes) unsigned char first_bytes_[sizeof(message)];
        ring_queue<message> rest_;  // after the first, in arrival order
    };
    mailbox* find_mailbox(port_id port);
    const mailbox* find_mailbox(port_id port) const;
    // Unbinds: queued messages are gone, waiting receivers return nothing.
    void close_mailbox(mailbox& box);
    void close_all_mailboxes();  // a crash

    // Hot first, by cache line (the node is aligned to one): a ring of many nodes
    // misses on each line a delivery, a send or a wait needs. Line 0: the state and the
    // clock; line 1: the network's draws for messages this node sends; lines 2 and 3:
    // the first mailbox. Spawning and crashing read the fiber list after them.
    simulation& sim_;
    node_id id_;
    node_state state_ = node_state::down;
    bool wall_clock_timers_ = false;
    std::uint32_t incarnation_ = 0;
    duration offset_{0};
    double drift_ppm_ = 0;
    time_point drift_anchor_ = time_zero;
    double slowness_ = 1.0;
    random_stream net_random_;
    // Mailboxes are never freed while the node exists, only unbound and reused: a
    // fiber parked on a box's wait list removes itself from it while it unwinds.
    // The first bound port's mailbox lives in the node itself, the others in a short list.
    mailbox home_box_;
    std::uint32_t first_fiber_ = 0xffffffffu;
    std::uint32_t last_fiber_ = 0xffffffffu;
    std::size_t live_fibers_ = 0;

    std::string name_;
    std::function<void(runtime&)> boot_;
    std::vector<std::uint32_t> deferred_wakes_;                  // fibers woken while paused
    std::deque<mailbox> more_boxes_;                             // deque: growing keeps addresses stable
    std::map<std::string, random_stream, std::less<>> streams_;  // process state: reset on restart
    memory_store store_;
    service_fault_table service_faults_;
    random_stream fault_random_;  // draws of the service fault rules
};

}  // namespace meshsim::sim::kernel
