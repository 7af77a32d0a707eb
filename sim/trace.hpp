// The trace model: every significant event of a run, with its virtual time, and a
// 64-bit hash folded over the canonical form of each one. events.jsonl, reports and
// checkers all read this; the hash is what proves two runs identical.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/message.hpp"
#include "sim/random.hpp"
#include "sim/time.hpp"

namespace meshsim::sim {

enum class event_kind : std::uint16_t {
    node_start,
    node_crash,
    node_restart,
    node_pause,
    node_resume,
    fiber_start,
    fiber_end,
    fiber_killed,     // unwound because its node crashed
    fiber_exception,  // ended by an uncaught exception: its node crashes
    timer_fire,       // a park with a deadline timed out
    msg_send,
    msg_deliver,
    msg_drop,
    fault_start,
    fault_end,
    log,     // structured log line from a service
    metric,  // a metric sample a service chose to record
    state,   // a component's state change (breaker, registry, ...)
    custom,
    rpc_attempt,  // one RPC attempt ended, as its caller saw it (status, outcome, attempt number)
    rpc_serve,    // a server answered one request (admission rejections included)
};
inline constexpr std::size_t event_kind_count = 21;
static_assert(static_cast<std::size_t>(event_kind::rpc_serve) + 1 == event_kind_count, "the last kind counts them");

// A set of kinds, one bit per kind (which events a sink is handed).
using event_kind_mask = std::uint32_t;
constexpr event_kind_mask mask_of(event_kind kind) { return event_kind_mask{1} << static_cast<unsigned>(kind); }
inline constexpr event_kind_mask every_event_kind = (event_kind_mask{1} << event_kind_count) - 1;

std::string_view to_string(event_kind kind);

// a and b are kind-specific integers (fiber id, message id, peer node, ...);
// detail is free text (names, parameters as JSON) and is part of the hash.
struct trace_event {
    time_point at;
    event_kind kind;
    node_id node;
    std::uint64_t a;
    std::uint64_t b;
    std::string detail;
};

enum class trace_mode : std::uint8_t {
    hash_only,  // fold into the hash, keep nothing (benchmarks, sweeps)
    full,       // also keep every event (runs that write events.jsonl)
};

class trace_recorder {
public:
    explicit trace_recorder(trace_mode mode = trace_mode::full) : mode_(mode) {}

    // Canonical form folded into the hash: (time ns, kind, node, a, b, detail).
    void record(time_point at, event_kind kind, node_id node, std::uint64_t a = 0, std::uint64_t b = 0,
                std::string_view detail = {}) {
        std::uint64_t h = hash_;
        h = mix64(h ^ static_cast<std::uint64_t>(at.time_since_epoch().count()));
        h = mix64(h ^ (static_cast<std::uint64_t>(kind) << 32 | node));
        h = mix64(h ^ a);
        h = mix64(h ^ b);
        if (!detail.empty()) h = mix64(h ^ stable_hash(detail) ^ detail.size());
        hash_ = h;
        ++count_;
        if ((count_ & checkpoint_mask_) == 0) checkpoints_.push_back(hash_);
        if (mode_ == trace_mode::full) keep(at, kind, node, a, b, detail);
        if (sink_ && (sink_kinds_ & mask_of(kind)) != 0) sink_(trace_event{at, kind, node, a, b, std::string(detail)});
    }

    // Also hands every event of the kinds in `kinds` to `sink` as it is recorded
    // (events.jsonl streams to disk this way, with hash_only, so a run's events need
    // not fit in memory). The hash is over every event, whatever the sink is handed.
    void set_sink(std::function<void(const trace_event&)> sink, event_kind_mask kinds = every_event_kind) {
        sink_ = std::move(sink);
        sink_kinds_ = kinds;
    }

    // Keeps the hash after every EVERY-th event (a power of two; 0: none, the default),
    // so two runs can be compared interval by interval (`meshsim replay`).
    void keep_checkpoints(std::uint64_t every) {
        checkpoint_mask_ = every == 0 ? ~std::uint64_t{0} : every - 1;
        checkpoints_.clear();
    }
    // checkpoints()[i]: the hash after (i + 1) * EVERY events.
    const std::vector<std::uint64_t>& checkpoints() const { return checkpoints_; }

    std::uint64_t hash() const { return hash_; }
    std::uint64_t count() const { return count_; }
    const std::vector<trace_event>& events() const { return events_; }
    trace_mode mode() const { return mode_; }

private:
    void keep(time_point at, event_kind kind, node_id node, std::uint64_t a, std::uint64_t b, std::string_view detail);

    trace_mode mode_;
    std::uint64_t hash_ = 0x6d65736873696d00ull;  // "meshsim\0"
    std::uint64_t count_ = 0;
    // count_ & mask == 0 at a checkpoint; all ones (none) until keep_checkpoints().
    std::uint64_t checkpoint_mask_ = ~std::uint64_t{0};
    std::vector<std::uint64_t> checkpoints_;
    std::vector<trace_event> events_;
    std::function<void(const trace_event&)> sink_;
    event_kind_mask sink_kinds_ = every_event_kind;
};

// 16 lowercase hex digits, as printed by `meshsim run` (trace_hash=...).
std::string format_hash(std::uint64_t hash);

}  // namespace meshsim::sim
