// The runtime seam: everything a service may touch of the outside world.
// Services include this header (and time/random/message/sync), never sim/kernel/.
// The kernel implements it deterministically, one instance per node; a real
// implementation on sockets can implement it again without changing a service.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sim/message.hpp"
#include "sim/random.hpp"
#include "sim/time.hpp"

namespace meshsim::sim {

// Names one wait of one fiber. It is valid for exactly one park: waking a fiber
// with a stale ref is a no-op, which makes timeouts and wake-ups race-free.
struct fiber_ref {
    std::uint32_t slot = 0xffffffffu;
    std::uint32_t token = 0;
};

enum class wake_reason : std::uint8_t { woken, timed_out };

// Thrown into a fiber whose node crashed, to unwind its stack. Never catch it
// (a catch (...) must rethrow): a crashed process runs no more of its code.
struct fiber_killed {};

// A node's durable store. Writes are volatile until sync(); a crash loses every
// write since the last sync, as a process that had not fsync'ed would.
class store {
public:
    virtual ~store() = default;
    virtual void put(const std::string& key, nlohmann::json value) = 0;
    virtual bool erase(const std::string& key) = 0;
    virtual std::optional<nlohmann::json> get(const std::string& key) const = 0;
    // Makes every write so far survive a crash.
    virtual void sync() = 0;
    // Keys with the given prefix, in key order.
    virtual std::vector<std::string> keys(std::string_view prefix = {}) const = 0;
};

// A service-level fault (Istio-style) chosen for one incoming request: the server
// waits `delay`, then answers `abort_status` without running the handler (0: runs it).
struct request_fault {
    duration delay{0};
    std::uint16_t abort_status = 0;
};

// One RPC attempt's end, as the calling node saw it: in the trace and its hash, so
// runs that differ only in what servers answered, or in which attempt succeeded,
// differ in hash. The text fields are views: copied only when the trace keeps events.
struct attempt_record {
    std::uint16_t status = 0;         // HTTP status of the response; 0 when none arrived
    std::uint32_t attempt = 1;        // 1 for a call's first attempt (x-attempt)
    std::string_view outcome;         // svc::outcome_kind name: ok, http_error, timeout, ...
    std::string_view correlation_id;  // x-correlation-id; empty when the call has none
    std::string_view method;
    std::string_view path;
    std::string_view reason;          // the server's reason for an error answer (x-reason); empty: none
    node_id to = no_node;             // the callee; no_node when the attempt was never sent
    time_point sent{};                // when the attempt started (this node's clock)
    std::string_view trace_id;        // 32 hex
    std::string_view span_id;         // 16 hex: this attempt's client span
    std::string_view parent_span_id;  // 16 hex: the server span whose handler called; empty for a root call
};

// One request a server answered (rejections included), as the server saw it.
struct serve_record {
    std::uint16_t status = 0;
    std::string_view reason;  // "ok", "handler", or why it was refused (queue_full, codel, ...)
    std::string_view correlation_id;
    std::string_view method;
    std::string_view path;
    node_id from = no_node;           // the caller
    time_point arrived{};             // this node's clock
    time_point started{};             // the handler's start; = arrived when it never ran
    std::string_view trace_id;        // 32 hex
    std::string_view span_id;         // 16 hex: the server span
    std::string_view parent_span_id;  // 16 hex: the caller's attempt span; empty when the request had none
};

class runtime {
public:
    virtual ~runtime() = default;

    // Identity of the node this code runs on.
    virtual node_id self() const = 0;
    virtual const std::string& node_name() const = 0;
    // The name of another node (for the trace: a callee, a caller, an ejected instance); empty if unknown.
    virtual std::string_view name_of(node_id id) const {
        (void)id;
        return {};
    }

    // This node's clock: may be offset or drift from true virtual time (clock faults).
    virtual time_point now() const = 0;
    // Suspends the calling fiber until the node's clock reads `deadline`.
    virtual void sleep_until(time_point deadline) = 0;
    void sleep_for(duration d) { sleep_until(saturating_add(now(), d)); }
    // A monotonic clock (CLOCK_MONOTONIC, Java's nanoTime, the monotonic reading of Go's
    // time.Now): elapsed time, never stepped or skewed. Durations a node measures for
    // itself belong on it (a breaker's time in open, a cache entry's age, the leases a
    // registry grants); timestamps compared across nodes stay on now(). Its readings
    // compare only with each other. The default suits runtimes whose now() is already
    // monotonic (runtime/: the steady clock); the kernel's reads true virtual time.
    virtual time_point monotonic_now() const { return now(); }
    // Suspends the calling fiber until monotonic_now() reads `deadline`.
    virtual void sleep_until_monotonic(time_point deadline) { sleep_until(deadline); }
    // Simulated CPU work: sleeps for `work` scaled by the node's slowness factor.
    virtual void compute(duration work) = 0;

    // A stream derived from (master seed, node name, name): stable across runs.
    // The reference stays valid for the life of the node's process.
    virtual random_stream& random(std::string_view name) = 0;

    // Starts a fiber on this node. It dies with the node.
    virtual void spawn(std::string_view name, std::function<void()> body) = 0;

    // Low-level waiting, for the primitives in sim/sync.hpp: take a ref, publish it
    // where a waker will find it, then park. Deadlines are on this node's clock.
    virtual fiber_ref current_fiber() = 0;
    virtual wake_reason park(fiber_ref self, time_point deadline) = 0;
    virtual void unpark(fiber_ref ref) = 0;

    // Messaging. A port must be bound before messages to it are kept; messages to
    // an unbound port are dropped (connection refused).
    virtual void bind(port_id port) = 0;
    virtual void unbind(port_id port) = 0;
    virtual void send(message&& msg) = 0;  // moved from; to send a copy, send(message(msg))
    // Next message on `port`, or nothing once the deadline passes.
    virtual std::optional<message> receive(port_id port, time_point deadline) = 0;

    virtual store& durable_store() = 0;

    // The injected fault for a request arriving on `port` for `path` (RPC servers
    // ask once per request). Runtimes without fault injection inject nothing.
    virtual request_fault fault_for_request(port_id port, std::string_view path) {
        (void)port;
        (void)path;
        return {};
    }

    // Observability: recorded in the trace with the current virtual time.
    virtual void log(std::string_view event, const nlohmann::json& fields = {}) = 0;
    // `fields`: more of the change as " key=value" pairs (each starting with a space;
    // values without spaces), e.g. a breaker's window: " from=closed calls=20".
    virtual void record_state(std::string_view component, std::string_view state, std::string_view fields = {}) = 0;
    // The end of one RPC attempt as its caller saw it (one rpc_attempt event).
    virtual void record_attempt(const attempt_record& attempt) = 0;
    // One answered request as its server saw it (one rpc_serve event).
    virtual void record_serve(const serve_record& served) = 0;
};

}  // namespace meshsim::sim
