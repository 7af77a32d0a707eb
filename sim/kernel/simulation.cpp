#include "sim/kernel/simulation.hpp"

#include <exception>
#include <new>
#include <stdexcept>

#include <boost/fiber/context.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

namespace meshsim::sim::kernel {

simulation::simulation(simulation_options options)
    : options_(options),
      scheduler_(fifo_scheduler::install_on_this_thread()),
      loop_ctx_(boost::fibers::context::active()),
      stacks_(options.fiber_stack_bytes),
      invariants_(options.seed, now_),
      trace_(options.trace),
      network_(*this) {
    // Boost.Fiber's own dispatcher may be waiting for its first turn: give it now,
    // so the first event of the run starts from an empty ready queue.
    drain_ready();
}

simulation::~simulation() { shutdown(); }

void simulation::shutdown() {
    // Unwind every fiber so their stacks and captured state are freed (no leaks,
    // and Boost.Fiber's scheduler finds no live worker when the thread ends).
    for (auto& n : nodes_) kill_fibers(*n);
    drain_ready();
    MESHSIM_INVARIANT_HOLDS(free_slots_.size() == slots_.size(), "every fiber's slot is free once every fiber ended");
}

node_id simulation::add_node(std::string name, std::function<void(runtime&)> boot) {
    const auto id = static_cast<node_id>(nodes_.size());
    if (!node_by_name_.emplace(name, id).second) throw std::invalid_argument("duplicate node name: " + name);
    nodes_.push_back(std::make_unique<node>(*this, id, std::move(name), std::move(boot)));
    return id;
}

node_id simulation::find_node(std::string_view name) const {
    auto it = node_by_name_.find(name);
    return it == node_by_name_.end() ? no_node : it->second;
}

random_stream& simulation::random(std::string_view name) {
    auto it = control_streams_.find(name);
    if (it == control_streams_.end()) {
        it = control_streams_.emplace(std::string(name), random_stream(options_.seed, "control/" + std::string(name)))
                 .first;
    }
    return it->second;
}

// ---------------------------------------------------------------- lifecycle

void simulation::in_event_loop(std::function<void()> action) {
    if (in_fiber()) {
        at(now_, std::move(action));
    } else {
        action();
    }
}

void simulation::start(node_id id) {
    in_event_loop([this, id] {
        node& n = get_node(id);
        if (n.state_ == node_state::down) do_start(n, event_kind::node_start);
    });
}

void simulation::crash(node_id id) {
    in_event_loop([this, id] {
        node& n = get_node(id);
        if (n.state_ != node_state::down) do_crash(n, event_kind::node_crash);
    });
}

void simulation::restart(node_id id) {
    in_event_loop([this, id] {
        node& n = get_node(id);
        if (n.state_ != node_state::down) do_crash(n, event_kind::node_crash);
        do_start(n, event_kind::node_restart);
    });
}

void simulation::pause(node_id id) {
    in_event_loop([this, id] {
        node& n = get_node(id);
        if (n.state_ != node_state::up) return;
        n.state_ = node_state::paused;
        trace_.record(now_, event_kind::node_pause, id);
    });
}

void simulation::resume(node_id id) {
    in_event_loop([this, id] {
        node& n = get_node(id);
        if (n.state_ != node_state::paused) return;
        n.state_ = node_state::up;
        trace_.record(now_, event_kind::node_resume, id);
        // Whatever woke during the pause runs now, in the order it woke: timers fire late.
        std::vector<std::uint32_t> woken;
        woken.swap(n.deferred_wakes_);
        for (const std::uint32_t s : woken) {
            slots_[s].deferred = false;
            scheduler_.awakened(slots_[s].ctx);
        }
    });
}

void simulation::do_start(node& n, event_kind why) {
    // A crash may have left fibers unwinding at this very instant: let them finish
    // before the new process exists, so no old code runs beside the new.
    drain_ready();
    MESHSIM_INVARIANT(n.live_fibers_ == 0 && n.first_fiber_ == no_slot,
                      "a node starts with no fiber of its previous process left");
    n.streams_.clear();
    ++n.incarnation_;
    n.state_ = node_state::up;
    trace_.record(now_, why, n.id_, n.incarnation_);
    spawn_fiber(n, "main", [&n] { n.boot_(n); });
}

void simulation::do_crash(node& n, event_kind why) {
    n.state_ = node_state::down;
    trace_.record(now_, why, n.id_, n.incarnation_);
    kill_fibers(n);
    // Volatile state: mailboxes (with queued messages) and unsynced writes.
    n.close_all_mailboxes();
    n.disk().lose_unsynced();
}

void simulation::kill_fibers(node& n) {
    // Newest first: a fiber spawned later usually runs inside state an earlier one
    // owns (a request handler inside its server loop's routes), so it must finish
    // unwinding before the owner's frame goes away.
    // That holds for every fiber of the node, whatever it waits for: parked, woken
    // during a pause (deferred), or already ready (woken or spawned in this instant,
    // queued before the crash): each is queued again in the same newest-first order,
    // else an owner could unwind before what runs in it.
    for (std::uint32_t s = n.last_fiber_; s != no_slot; s = links_[s].prev) {
        fiber_slot& f = slots_[s];
        f.killed = true;
        if (f.parked) {
            f.parked = false;
            ++f.token;  // any pending timer for it is now stale
            timer_went_stale(f);
            scheduler_.awakened(f.ctx);
        } else if (f.deferred) {
            f.deferred = false;
            scheduler_.awakened(f.ctx);
        } else if (f.ctx != nullptr && scheduler_.withdraw(f.ctx)) {  // (null: never ran, holds no frame)
            scheduler_.awakened(f.ctx);
        }
    }
    n.deferred_wakes_.clear();
}

void simulation::at(time_point when, std::function<void()> action) {
    std::uint32_t index;
    if (!free_callbacks_.empty()) {
        index = free_callbacks_.back();
        free_callbacks_.pop_back();
        callbacks_[index] = std::move(action);
    } else {
        index = static_cast<std::uint32_t>(callbacks_.size());
        callbacks_.push_back(std::move(action));
    }
    queue_.push(std::max(when, now_), event_type::call, index, 0);  // never before now
}

// ---------------------------------------------------------------- fibers

void simulation::spawn_fiber(node& owner, std::string_view name, std::function<void()> body) {
    std::uint32_t s;
    if (!free_slots_.empty()) {
        s = free_slots_.back();
        free_slots_.pop_back();
    } else {
        s = static_cast<std::uint32_t>(slots_.size());
        // release_slot runs at a fiber's very end, where an exception has nowhere
        // to go: its push_back must never need memory.
        free_slots_.reserve(slots_.size() + 1);
        slots_.emplace_back();
        try {
            links_.emplace_back();
        } catch (...) {
            slots_.pop_back();  // the two grow together or not at all
            throw;
        }
    }
    fiber_slot& f = slots_[s];
    MESHSIM_INVARIANT(!f.in_use, "a fiber slot on the free list is not in use");
    f.ctx = nullptr;
    f.id = next_fiber_id_++;
    f.owner = owner.id_;
    f.parked = false;
    f.killed = false;
    f.deferred = false;
    f.in_use = true;
    f.park_depth = 0;
    links_[s] = {owner.last_fiber_, no_slot};
    if (owner.last_fiber_ != no_slot) {
        links_[owner.last_fiber_].next = s;
    } else {
        owner.first_fiber_ = s;
    }
    owner.last_fiber_ = s;
    ++owner.live_fibers_;
    ++stats_.fibers_started;

    try {
        // Every fiber and the event loop may be ready at once, each once (one simulation per thread).
        scheduler_.reserve(slots_.size() + 2);
        boost::fibers::fiber fiber(
            std::allocator_arg, stacks_,
            [this, s, name = std::string(name), body = std::move(body)]() mutable { run_fiber(s, name, body); });
        fiber.detach();
    } catch (...) {
        release_slot(s);  // no stack (out of memory): no fiber, and no slot left claiming one
        throw;
    }
}

void simulation::run_fiber(std::uint32_t s, const std::string& name, std::function<void()>& body) {
    current_ = s;
    slots_[s].ctx = boost::fibers::context::active();
    const node_id owner = slots_[s].owner;
    const std::uint64_t id = slots_[s].id;
    if (!slots_[s].killed) {
        try {
            trace_.record(now_, event_kind::fiber_start, owner, id, 0, name);
            body();
            trace_.record(now_, event_kind::fiber_end, owner, id);
        } catch (const fiber_killed&) {
            try {
                trace_.record(now_, event_kind::fiber_killed, owner, id);
            } catch (...) {
                out_of_memory_ = true;
            }
        } catch (const std::bad_alloc&) {
            // The simulator is out of memory, not the simulated process: nothing the
            // run does from here can be trusted. The event loop throws it on.
            out_of_memory_ = true;
        } catch (const invariant_violation&) {
            // A bug, not the simulated process failing: the scope holds the report
            // and the event loop throws it on.
        } catch (const std::exception& e) {
            // An uncaught exception ends a real process: the node crashes.
            fiber_ended_by_exception(owner, id, e.what());
        } catch (...) {
            fiber_ended_by_exception(owner, id, "unknown exception");
        }
    }
    body = nullptr;  // free captured state now, while the node still exists
    release_slot(s);
    current_ = no_slot;
}

void simulation::fiber_ended_by_exception(node_id owner, std::uint64_t fiber, const char* what) noexcept {
    // Nothing may escape a fiber's entry function (std::terminate), not even
    // std::bad_alloc from recording the crash.
    try {
        trace_.record(now_, event_kind::fiber_exception, owner, fiber, 0, what);
        crash(owner);
    } catch (...) {
        out_of_memory_ = true;
    }
}

void simulation::release_slot(std::uint32_t s) {
    fiber_slot& f = slots_[s];
    // Runs at a fiber's very end, where nothing may throw: a broken slot is reported
    // (the event loop stops the run) and left alone.
    if (!MESHSIM_INVARIANT_HOLDS(f.in_use, "a fiber slot is released once, by its own fiber")) return;
    node& owner = *nodes_[f.owner];
    if (!MESHSIM_INVARIANT_HOLDS(owner.live_fibers_ > 0, "a node's live-fiber count covers every fiber it owns")) {
        return;
    }
    const fiber_links links = links_[s];
    if (links.prev != no_slot) {
        links_[links.prev].next = links.next;
    } else {
        owner.first_fiber_ = links.next;
    }
    if (links.next != no_slot) {
        links_[links.next].prev = links.prev;
    } else {
        owner.last_fiber_ = links.prev;
    }
    --owner.live_fibers_;
    f.in_use = false;
    f.ctx = nullptr;
    ++f.token;
    free_slots_.push_back(s);
    ++terminated_since_cleanup_;
}

fiber_ref simulation::current_fiber() const {
    MESHSIM_INVARIANT(in_fiber(), "waiting is for fibers; the event loop never blocks");
    return {current_, slots_[current_].token};
}

wake_reason simulation::park_current(fiber_ref self, time_point true_deadline) {
    MESHSIM_INVARIANT(self.slot == current_ && self.token == slots_[current_].token,
                      "a fiber parks only itself, with the ref of its current wait");
    {
        fiber_slot& f = slots_[self.slot];
        if (f.killed) throw fiber_killed{};
        f.parked = true;
        f.reason = wake_reason::woken;
    }
    if (true_deadline != time_never) {
        queue_.push(std::max(true_deadline, now_), event_type::wake_fiber, self.slot, self.token);
        slots_[self.slot].timer_pending = true;
    }
    note_park_depth(slots_[self.slot], __builtin_frame_address(0));
    // What context::suspend() does, without reading the scheduler from this fiber's
    // context (a cold line of it; the event loop's is in cache, and it is the same).
    loop_ctx_->get_scheduler()->suspend();
    current_ = self.slot;
    const fiber_slot& f = slots_[self.slot];
    if (f.killed) throw fiber_killed{};
    return f.reason;
}

void simulation::wake(fiber_ref ref, wake_reason reason) {
    if (ref.slot >= slots_.size()) return;
    fiber_slot& f = slots_[ref.slot];
    if (!f.parked || f.token != ref.token) return;  // stale: already woken, or another wait
    f.parked = false;
    ++f.token;
    timer_went_stale(f);
    f.reason = reason;
    prefetch_for_resume(f);
    fiber_was_woken(ref.slot);
}

// A woken fiber resumes by returning through the frames of its switch and of the
// wait that parked it, on lines of its stack that are cold when many fibers wait
// (a ring of 1,000 nodes, a mesh of thousands of requests): each return waits for
// its line before the next. Asked for together at the wake, they arrive together.
// Boost.Fiber builds a fiber's context at the top of its stack, so the depth below
// the context locates the frames; the context's own line is read by the switch.
// Prefetching reads nothing the run sees and changes no result.
namespace {
constexpr std::ptrdiff_t stack_prefetch_below = 256;  // the switch: park_current's callees and the saved registers
constexpr std::ptrdiff_t stack_prefetch_above = 256;  // the wait's callers the fiber returns to first
}  // namespace

void simulation::note_park_depth(fiber_slot& f, const void* frame) {
    const auto top = reinterpret_cast<std::uintptr_t>(f.ctx);
    const auto at = reinterpret_cast<std::uintptr_t>(frame);
    const std::uintptr_t units = at < top ? (top - at) / 16 : 0;
    f.park_depth = units <= 0xffff ? static_cast<std::uint16_t>(units) : 0;  // deeper than 1 MiB: not known
}

void simulation::prefetch_for_resume(const fiber_slot& f) {
    if (f.park_depth == 0) return;
    const char* frame = reinterpret_cast<const char*>(f.ctx) - std::ptrdiff_t{f.park_depth} * 16;
    // The context's line that resuming it reads and writes first (its saved stack pointer).
    __builtin_prefetch(reinterpret_cast<const char*>(f.ctx) + context_resume_offset, 1);
    for (std::ptrdiff_t at = -stack_prefetch_below; at < stack_prefetch_above;
         at += static_cast<std::ptrdiff_t>(cache_line_bytes)) {
        __builtin_prefetch(frame + at);
    }
}

void simulation::timer_went_stale(fiber_slot& f) {
    if (!f.timer_pending) return;
    f.timer_pending = false;
    ++stale_timers_;
}

// Called between instants; it passes over the whole queue, so only when at least half of it is dead.
void simulation::drop_stale_timers() {
    queue_.remove_if([this](const event& e) {
        if (e.type != event_type::wake_fiber) return false;
        const fiber_slot& f = slots_[e.a];
        return !(f.parked && f.token == static_cast<std::uint32_t>(e.b));  // as fire() tells
    });
    stale_timers_ = 0;
}

void simulation::fiber_was_woken(std::uint32_t s) {
    node& owner = *nodes_[slots_[s].owner];
    if (owner.state_ == node_state::paused) {
        owner.deferred_wakes_.push_back(s);
        slots_[s].deferred = true;
        return;
    }
    scheduler_.awakened(slots_[s].ctx);
}

// ---------------------------------------------------------------- event loop

void simulation::drain_ready(cleanup when) {
    MESHSIM_INVARIANT(!in_fiber(), "only the event loop runs the ready fibers");
    // The event loop is the running context here; it hands control to the ready
    // fibers without queueing itself, and gets it back when none is ready.
    while (scheduler_.run_ready_from(loop_ctx_)) {
        ++stats_.context_switches;
        current_ = no_slot;
    }
    // Finished fibers are freed by Boost.Fiber's dispatcher, which runs only when
    // the ready queue is empty. A turn costs two context switches and a read of the
    // real clock (its sleep queue, which the simulation never uses), so between
    // instants it is given one only once a batch of fibers has finished; when the
    // loop returns to its caller, every finished fiber is freed. Which stack a new
    // fiber gets is not observable, so the trace is the same either way.
    const std::uint64_t batch = when == cleanup::batched ? cleanup_batch : 1;
    if (terminated_since_cleanup_ >= batch) {
        terminated_since_cleanup_ = 0;
        scheduler_.request_cleanup();
        // Yields through the scheduler directly: context::yield() would look the
        // running context up again (a thread-local read).
        loop_ctx_->get_scheduler()->yield(loop_ctx_);
        current_ = no_slot;
    }
}

void simulation::fire(const event& ev) {
    ++stats_.events_fired;
    switch (ev.type) {
        case event_type::wake_fiber: {
            fiber_slot& f = slots_[ev.a];
            if (f.parked && f.token == static_cast<std::uint32_t>(ev.b)) {
                f.timer_pending = false;
                trace_.record(now_, event_kind::timer_fire, f.owner, f.id);
                wake({ev.a, static_cast<std::uint32_t>(ev.b)}, wake_reason::timed_out);
            } else if (stale_timers_ > 0) {
                --stale_timers_;  // a dead timer that came up before it was dropped
            }
            break;
        }
        case event_type::deliver_message: network_.deliver(ev.a); break;
        case event_type::call: {
            std::function<void()> action = std::move(callbacks_[ev.a]);
            callbacks_[ev.a] = nullptr;
            free_callbacks_.push_back(ev.a);
            action();
            break;
        }
        case event_type::network: break;
    }
}

void simulation::run_until(time_point limit) {
    invariants_.throw_if_broken();
    drain_ready();
    if (out_of_memory_) throw std::bad_alloc();
    invariants_.throw_if_broken();
    while (!queue_.empty() && queue_.top_time() <= limit) {
        if (stale_timers_ >= 1024 && stale_timers_ * 2 >= queue_.size()) {
            drop_stale_timers();
            if (queue_.empty() || queue_.top_time() > limit) break;
        }
        MESHSIM_INVARIANT(queue_.top_time() >= now_, "virtual time never goes back");
        now_ = queue_.top_time();
        // Every event of this instant in one pass, then run what they made ready.
        do {
            fire(queue_.pop());
        } while (!queue_.empty() && queue_.top_time() == now_);
        drain_ready(cleanup::batched);
        if (out_of_memory_) throw std::bad_alloc();
        invariants_.throw_if_broken();
    }
    drain_ready();
    if (limit != time_never && now_ < limit) now_ = limit;
}

void simulation::run() { run_until(time_never); }

}  // namespace meshsim::sim::kernel
