// Fault specs and their injector. A fault_spec is a plain struct (one parameter
// struct per kind, nodes named as in the scenario) with a validate() that names
// every bad parameter; the injector schedules valid specs on the simulation (at a
// time, for a length, optionally repeating) and applies nothing when any is
// invalid. Every start and end of a fault is a fault_start / fault_end trace event
// whose detail is the fault's parameters as JSON. See docs/faults.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/kernel/network.hpp"
#include "sim/kernel/partition.hpp"
#include "sim/kernel/service_faults.hpp"
#include "sim/time.hpp"

namespace meshsim::sim::kernel {

class simulation;

// Node names: a node's name, or "*" for a node drawn at random (from the
// control stream "faults") at every occurrence.
inline constexpr const char* any_node = "*";

// Each parameter struct names its kind (`name`): the one name a user meets in a
// scenario's "kind", a nemesis's kinds, summary.json and the fault_start/fault_end
// events (whose `b` is the kind's index in fault_params).

// Links from every node of `from` to every node of `to` (empty = every node)
// take `config` while the fault lasts (an overlay: the newest one wins).
struct link_fault {
    static constexpr std::string_view name = "link";
    std::vector<std::string> from{};
    std::vector<std::string> to{};
    link_config config{};
};

enum class partition_shape : std::uint8_t { groups, one_way, halves, random_halves, isolate, majorities_ring, bridge };
std::string_view to_string(partition_shape s);

struct partition_fault {
    static constexpr std::string_view name = "partition";
    partition_shape shape = partition_shape::halves;
    std::vector<std::vector<std::string>> groups{};  // groups: disjoint, non-empty (unnamed nodes: one more group)
    std::vector<std::string> from{};                 // one_way: messages from these ...
    std::vector<std::string> to{};                   // ... to these are cut; the reverse flows
    std::string node{};                              // isolate: the lonely node
    cut_mode mode = cut_mode::drop;                  // messages meeting the cut: dropped or held until heal
};

// The node crashes (volatile state and unsynced writes lost); at the end of the
// fault it restarts as a fresh process, unless restart_at_end is false.
struct crash_fault {
    static constexpr std::string_view name = "crash";
    std::string node{};
    bool restart_at_end = true;
};

// Stop the world (SIGSTOP): nothing of the node runs; its timers fire late, at resume.
struct pause_fault {
    static constexpr std::string_view name = "pause";
    std::string node{};
};

// The node's clock reads true time + offset and drifts by drift_ppm (parts per
// million, + = fast) from the start; the end restores the previous clock. Timers
// armed while the clock was wrong keep the true deadline they were armed with.
struct clock_fault {
    static constexpr std::string_view name = "clock";
    std::string node{};
    duration offset{0};
    double drift_ppm = 0;
};

// compute() work on the node is multiplied by factor (> 0; 1 = normal).
struct slow_fault {
    static constexpr std::string_view name = "slow";
    std::string node{};
    double factor = 2;
};

// Istio-style (HTTPFaultInjection.abort): on `probability` of the requests the node
// serves on `port` (0 = every port) and `path` ("" = every path, "/a/*" = a prefix),
// answer `status` without running the handler.
struct abort_fault {
    static constexpr std::string_view name = "abort";
    std::string node{};
    port_id port = 0;
    std::string path{};
    double probability = 1;
    std::uint16_t status = 503;
    service_fault_rule rule() const;
};

// Istio-style (HTTPFaultInjection.delay): on `probability` of the requests the node
// serves on `port` and `path` (as for abort_fault), wait `delay` before the handler.
struct delay_fault {
    static constexpr std::string_view name = "delay";
    std::string node{};
    port_id port = 0;
    std::string path{};
    double probability = 1;
    duration delay{0};
    service_fault_rule rule() const;
};

// New kinds go at the end: a kind's index is in the trace (`b` of fault events).
using fault_params = std::variant<link_fault, partition_fault, crash_fault, pause_fault, clock_fault, slow_fault,
                                  abort_fault, delay_fault>;

// In the variant's order (static_asserts in faults.cpp keep the two in step).
enum class fault_kind : std::uint8_t { link, partition, crash, pause, clock, slow, abort, delay };
inline constexpr std::size_t fault_kind_count = std::variant_size_v<fault_params>;
// Every kind, in the variant's order.
const std::array<fault_kind, fault_kind_count>& all_fault_kinds();
// The kind's name (its parameter struct's `name`).
std::string_view to_string(fault_kind k);

struct fault_spec {
    std::string name{};                    // free label, in the trace detail
    time_point at = time_zero;             // first start (true virtual time)
    duration length{0};                    // how long each occurrence lasts; 0 = until the run ends
    duration repeat_every{0};              // start-to-start period; 0 = once. Needs 0 < length < repeat_every
    time_point repeat_until = time_never;  // no occurrence starts after this
    fault_params what = partition_fault{};

    fault_kind kind() const { return static_cast<fault_kind>(what.index()); }
    // Problems, each naming the parameter (prefixed with `where`); empty when valid.
    std::vector<std::string> validate(const simulation& sim, const std::string& where = "fault") const;
    // The parameters as JSON (trace detail, reports).
    nlohmann::json to_json() const;
};

nlohmann::json to_json(const link_config& l);

// Applies fault specs to one simulation. Its scheduled work keeps its own state
// alive, so the injector may go away before the run ends.
class fault_injector {
public:
    explicit fault_injector(simulation& sim);
    ~fault_injector();

    // Validates every spec; if all are valid schedules them all, else schedules
    // none. Returns the errors (empty = scheduled).
    std::vector<std::string> schedule(const std::vector<fault_spec>& specs);
    std::vector<std::string> schedule(const fault_spec& spec) { return schedule(std::vector<fault_spec>{spec}); }

    // Control code: starts one occurrence now (timing fields ignored, it lasts until
    // stop()). Returns its id, or 0 and the errors when invalid.
    std::uint64_t start_now(const fault_spec& spec, std::vector<std::string>* errors = nullptr);
    void stop(std::uint64_t fault_id);

    std::size_t active() const;
    std::uint64_t started() const;
    std::uint64_t ended() const;

private:
    struct state;
    static void schedule_occurrence(const std::shared_ptr<state>& st, std::shared_ptr<const fault_spec> spec,
                                    time_point t, std::uint64_t occurrence);
    std::shared_ptr<state> state_;
};

}  // namespace meshsim::sim::kernel
