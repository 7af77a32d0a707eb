// A simulation: one virtual clock, one event queue, the nodes and their fibers,
// the network and the trace. It runs on one OS thread; its main fiber runs the
// event loop (pop the earliest events, advance the clock, wake their fibers, run
// ready fibers until none is left), so the whole run is a function of the seed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/invariant.hpp"
#include "sim/kernel/event_queue.hpp"
#include "sim/kernel/network.hpp"
#include "sim/kernel/node.hpp"
#include "sim/kernel/scheduler.hpp"
#include "sim/kernel/stack_pool.hpp"
#include "sim/random.hpp"
#include "sim/runtime.hpp"
#include "sim/trace.hpp"

namespace meshsim::sim::kernel {

struct simulation_options {
    std::uint64_t seed = 1;
    // Stack of every fiber, pooled. Service handlers are shallow; raise it for deep ones.
    std::size_t fiber_stack_bytes = 64 * 1024;
    trace_mode trace = trace_mode::full;
};

struct run_stats {
    std::uint64_t events_fired = 0;
    std::uint64_t fibers_started = 0;
    std::uint64_t context_switches = 0;  // fiber resumptions by the event loop
};

class simulation {
public:
    explicit simulation(simulation_options options);
    ~simulation();
    simulation(const simulation&) = delete;
    simulation& operator=(const simulation&) = delete;

    // A node whose process is `boot(rt)`: it runs in the node's first fiber at
    // every start and restart. Nodes start down; start() boots them.
    node_id add_node(std::string name, std::function<void(runtime&)> boot);
    node& get_node(node_id id) { return *nodes_.at(id); }
    const node& get_node(node_id id) const { return *nodes_.at(id); }
    std::size_t node_count() const { return nodes_.size(); }
    node_id find_node(std::string_view name) const;  // no_node when unknown

    // Lifecycle. Called from a fiber, they take effect at the current instant
    // right after that fiber parks (the event loop carries them out).
    void start(node_id id);
    void crash(node_id id);    // every fiber unwinds, volatile state is lost
    void restart(node_id id);  // crash if up, then boot a fresh process
    void pause(node_id id);    // stop the world: nothing of the node runs
    void resume(node_id id);

    // Schedules control code (fault injection, checks) to run in the event loop.
    void at(time_point when, std::function<void()> action);

    // Runs events up to and including `limit`; the clock then reads `limit`.
    // Throws std::bad_alloc when the simulator ran out of memory in a fiber: that is
    // the simulator failing, not the simulated node, so the run cannot go on. Throws
    // invariant_violation (with the seed and the virtual time) when an invariant
    // broke, in the event loop or in any fiber.
    void run_until(time_point limit);
    // Runs until no event is left.
    void run();
    // Unwinds every fiber of every node now (no trace events; the run is over).
    // Call it before destroying anything the fibers reference: the destructor
    // does it too, but by then such state may be gone.
    void shutdown();

    time_point now() const { return now_; }
    std::uint64_t seed() const { return options_.seed; }
    const simulation_options& options() const { return options_; }
    trace_recorder& trace() { return trace_; }
    const trace_recorder& trace() const { return trace_; }
    network& net() { return network_; }
    const network& net() const { return network_; }
    const run_stats& stats() const { return stats_; }
    const stack_pool& fiber_stacks() const { return stacks_.pool(); }
    // A stream for control code (fault schedules, workloads): stable per name.
    random_stream& random(std::string_view name);

    // --- kernel internals, used by node and network ---
    // What waking and parking a fiber read: 32 bytes, aligned, so one cache line
    // (a ring of many fibers misses once per slot, not twice when it straddles two).
    struct alignas(32) fiber_slot {
        boost::fibers::context* ctx = nullptr;
        std::uint64_t id = 0;  // monotonic, as traces show it
        node_id owner = no_node;
        std::uint32_t token = 0;
        wake_reason reason = wake_reason::woken;
        bool parked = false;
        bool killed = false;
        bool deferred = false;  // woken while its node is paused: scheduled at resume (or crash)
        bool in_use = false;
        bool timer_pending = false;  // its wait's timeout is in the event queue
        // How far below its context (the top of its stack) the fiber parked, in
        // 16-byte units; 0 when not known. Waking reads the stack from there early.
        std::uint16_t park_depth = 0;
    };
    static_assert(sizeof(fiber_slot) == 32, "a fiber slot fills half a cache line");
    // Where in a Boost.Fiber context its boost::context::fiber (the stack pointer it
    // was suspended at) lies: declared before a time point and two 4-byte enums, the
    // context's last members (Boost 1.74). A test checks it against a parked fiber;
    // were it wrong, waking would prefetch a line it does not need, nothing worse.
    static constexpr std::size_t context_resume_offset = sizeof(boost::fibers::context) - 24;
    // The owner's fiber list, in spawn order (spawns, ends and crashes only).
    struct fiber_links {
        std::uint32_t prev;
        std::uint32_t next;
    };
    static constexpr std::uint32_t no_slot = 0xffffffffu;

    void spawn_fiber(node& owner, std::string_view name, std::function<void()> body);
    fiber_ref current_fiber() const;
    wake_reason park_current(fiber_ref self, time_point true_deadline);
    // Wakes a parked fiber if `ref` still names its current wait.
    void wake(fiber_ref ref, wake_reason reason);
    void schedule_event(time_point at, event_type type, std::uint32_t a, std::uint64_t b) {
        MESHSIM_INVARIANT(at >= now_, "an event is never scheduled before now");
        queue_.push(at, type, a, b);
    }
    bool in_fiber() const { return current_ != no_slot; }
    fiber_slot& slot(std::uint32_t index) { return slots_[index]; }
    void fiber_was_woken(std::uint32_t slot_index);  // paused nodes defer it

private:
    void run_fiber(std::uint32_t slot_index, const std::string& name, std::function<void()>& body);
    void release_slot(std::uint32_t slot_index);
    void fiber_ended_by_exception(node_id owner, std::uint64_t fiber, const char* what) noexcept;
    void kill_fibers(node& n);
    enum class cleanup { now, batched };
    static constexpr std::uint64_t cleanup_batch = 16;
    void drain_ready(cleanup when = cleanup::now);
    void fire(const event& ev);
    void timer_went_stale(fiber_slot& f);
    static void note_park_depth(fiber_slot& f, const void* frame);
    static void prefetch_for_resume(const fiber_slot& f);
    void drop_stale_timers();
    void do_crash(node& n, event_kind why);
    void do_start(node& n, event_kind why);
    void in_event_loop(std::function<void()> action);

    simulation_options options_;
    fifo_scheduler& scheduler_;
    boost::fibers::context* loop_ctx_;  // the fiber running the event loop
    pooled_stacks stacks_;
    time_point now_ = time_zero;
    // Declared after now_, which it reads, and before everything whose code checks invariants.
    invariant_scope invariants_;
    event_queue queue_;
    // Timeouts in queue_ whose wait ended first: they would fire and do nothing.
    // Most waits end before their timeout (an RPC answered), so without dropping
    // them the queue holds mostly dead timers and every push and pop pays for them.
    std::uint64_t stale_timers_ = 0;
    trace_recorder trace_;
    network network_;
    std::vector<std::unique_ptr<node>> nodes_;
    std::map<std::string, node_id, std::less<>> node_by_name_;
    std::vector<fiber_slot> slots_;
    std::vector<fiber_links> links_;  // beside slots_, index for index
    std::vector<std::uint32_t> free_slots_;
    std::vector<std::function<void()>> callbacks_;
    std::vector<std::uint32_t> free_callbacks_;
    std::map<std::string, random_stream, std::less<>> control_streams_;
    std::uint32_t current_ = no_slot;  // running fiber; no_slot = the event loop
    std::uint64_t next_fiber_id_ = 1;
    std::uint64_t terminated_since_cleanup_ = 0;
    bool out_of_memory_ = false;  // a fiber hit std::bad_alloc: run_until throws it
    run_stats stats_;
};

}  // namespace meshsim::sim::kernel
