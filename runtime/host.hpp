// The real runtime: a second implementation of the seam (sim/runtime.hpp) on
// Boost.Fiber fibers scheduled together with a Boost.Asio io_context (the
// documented integration, runtime/asio_scheduler.hpp). One host runs many nodes
// in one OS thread, as a simulation does, but on the real steady clock:
//   now()/sleep_until   the steady clock, from the start of run() (time_zero)
//   compute(work)       real work: the fiber sleeps `work` x the node's slowness
//   ports               every node listens on one loopback TCP port; a message to
//                       (node, port) is a length-prefixed CBOR frame on a
//                       connection from the sender's node to the receiver's
//   refused             a connection refused or reset before the frame was sent
//                       bounces back to the sender when it asked (TCP RST)
//   durable_store()     an append-only file per node, written and fsynced by sync()
//   crash               closes the node's sockets, unwinds its fibers (fiber_killed)
//                       and forgets every unsynced write; restart reopens its port
// Outside the determinism lint (real clocks, threads): see runtime/CMakeLists.txt.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/kernel/network.hpp"
#include "sim/kernel/partition.hpp"
#include "sim/kernel/service_faults.hpp"
#include "sim/runtime.hpp"
#include "sim/trace.hpp"

namespace meshsim::real {

// Bad input the host found while opening (a port in use, a data file it cannot make).
struct host_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct host_options {
    std::uint64_t seed = 1;
    std::string data_dir;  // one append-only store file per node: <data_dir>/<node name>.store
    std::size_t fiber_stack_bytes = 256 * 1024;
    bool handle_signals = false;  // SIGINT/SIGTERM stop run() (which still returns normally)
    // The latency the loopback stands for (the scenario's default link latency): a
    // link fault delays a frame by what its latency draw exceeds this by.
    sim::duration base_latency{0};
};

// What the network faults did to frames (runtime/link_shaper.cpp), since run() began.
struct network_counts {
    std::uint64_t delayed = 0;      // copies held back by a link fault's latency before their socket
    std::uint64_t lost = 0;         // frames a link fault's loss dropped
    std::uint64_t duplicated = 0;   // frames sent twice
    std::uint64_t reordered = 0;    // copies sent at once past the delayed ones
    std::uint64_t corrupted = 0;    // frames whose body was replaced (the receiver sees `corrupted`)
    std::uint64_t cut_dropped = 0;  // frames a drop-mode partition dropped (sent across it or on their way)
    std::uint64_t held = 0;         // frames a hold-mode partition held
    std::uint64_t released = 0;     // held frames sent when their partition healed
};

// How run() ended.
enum class run_end : std::uint8_t { elapsed, stopped, signalled };

class host_impl;

class host {
public:
    explicit host(host_options options);
    ~host();
    host(const host&) = delete;
    host& operator=(const host&) = delete;

    // A node whose process is boot(rt); it listens on 127.0.0.1:port (0: a free port
    // the system picks). Ids are given in order from 0, as the simulation gives them.
    sim::node_id add_node(std::string name, std::function<void(sim::runtime&)> boot, std::uint16_t port);
    // An HTTP/1.1 edge on 127.0.0.1:port (0: any) for the node `target`: each request
    // becomes an RPC to (target, service_port) (runtime/http_edge.cpp).
    void add_http_edge(sim::node_id target, sim::port_id service_port, std::uint16_t port);
    // Binds every listening socket and creates every store file. host_error (and
    // nothing left open) when a port is taken or a file cannot be made.
    void open();
    std::uint16_t port_of(sim::node_id id) const;
    std::uint16_t http_port_of(sim::node_id id) const;  // 0 when it has no edge
    std::size_t node_count() const;
    const std::string& name_of(sim::node_id id) const;

    // Before run(): the nodes started when run() begins, and control code run at
    // `when` (true time since the start) in a fiber of its own on the host thread.
    void start_at_begin(sim::node_id id);
    void at(sim::time_point when, std::function<void()> action);
    // Lifecycle and faults: on the host thread only (from at() actions).
    void start(sim::node_id id);
    void crash(sim::node_id id);
    void restart(sim::node_id id);
    void pause(sim::node_id id);
    void resume(sim::node_id id);
    void set_slowness(sim::node_id id, double factor);
    sim::kernel::service_fault_table& service_faults(sim::node_id id);
    bool is_up(sim::node_id id) const;
    // Network faults, applied to frames at the sending side, before their socket
    // (runtime/link_shaper.hpp). A link fault covers every pair from `from` to `to`
    // (empty: every node; the newest wins); a cut blocks the pairs its matrix sets,
    // dropping or holding their frames until heal(). Ids for removal.
    std::uint64_t add_link_fault(std::vector<sim::node_id> from, std::vector<sim::node_id> to,
                                 sim::kernel::link_config config);
    void remove_link_fault(std::uint64_t id);
    std::uint64_t add_cut(sim::kernel::cut_matrix cut, sim::kernel::cut_mode mode);
    void heal(std::uint64_t id);
    network_counts network() const;

    // Lifecycle (node_start/crash/restart/pause/resume) and fault events, as the
    // simulation's trace would record them; also record() from control code. The
    // nodes' log, state, rpc_attempt and rpc_serve events (same details as the
    // simulation's) only for the kinds in `also`.
    void set_event_sink(std::function<void(const sim::trace_event&)> sink, sim::event_kind_mask also = 0);
    void record(sim::event_kind kind, sim::node_id node, std::uint64_t a, std::uint64_t b, std::string detail);

    // Runs every node on the calling thread, which must be a fresh one (a thread has
    // one fiber scheduler for life: use run_on_own_thread). Returns when `length`
    // of real time passed, stop() was called or a signal came; every fiber has
    // unwound and every socket is closed by then.
    run_end run(sim::duration length);
    // From any thread.
    void stop();
    // True time since run() began (time_zero before).
    sim::time_point now() const;
    const sim::store& store_of(sim::node_id id) const;
    // Messages sent over the wire, and fibers that ended with an unexpected exception.
    std::uint64_t messages_sent() const;
    std::uint64_t fiber_errors() const;

private:
    std::unique_ptr<host_impl> impl_;
};

// Runs f on a new thread and waits for it; rethrows what f threw.
void run_on_own_thread(const std::function<void()>& f);

}  // namespace meshsim::real
