// `meshsim bench`: throughput and memory of the kernel on a ring workload, next
// to the same workload on a bare Boost.Context event loop with no project code
// (the machine's limit), so the ratio means the same on any machine; and of a
// generated mesh scenario run as `meshsim run` runs it (docs/performance.md).
// Wall-clock time is read here and only here: benchmarks measure the host.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/scenario/model.hpp"
#include "sim/time.hpp"

namespace meshsim::harness::bench {

enum class workload { ring, network };

struct ring_options {
    workload kind = workload::ring;
    std::uint32_t nodes = 1000;
    std::uint64_t messages = 2'000'000;
    std::uint64_t seed = 1;
    std::size_t fiber_stack_bytes = 16 * 1024;
    // Fibers each node starts beside its ring fiber, parked for the whole run: the
    // difference in peak RSS is the memory of an idle fiber.
    std::uint32_t idle_fibers_per_node = 0;
    bool run_baseline = true;
};

struct ring_result {
    std::string workload;
    std::uint32_t nodes = 0;
    std::uint32_t idle_fibers_per_node = 0;
    std::uint64_t messages = 0;
    double wall_s = 0;
    double msgs_per_s = 0;
    double baseline_msgs_per_s = 0;
    double ratio_to_baseline = 0;  // baseline / kernel: 1.0 means as fast as the bare loop
    std::uint64_t peak_rss_bytes = 0;
    std::string trace_hash;
    double virtual_s = 0;
};

ring_result run_ring(const ring_options& options);
// The same workload on raw Boost.Context fibers and a binary heap: messages per second.
double run_baseline(std::uint32_t nodes, std::uint64_t messages, std::uint64_t seed, std::size_t stack_bytes);

nlohmann::json to_json(const ring_result& r);

// A mesh like scenarios/mesh_100.json; the defaults are its size, rate and length.
struct mesh_options {
    std::uint32_t services = 100;            // 1 gateway, about sqrt(services) - 1 mid-tier, the rest leaves
    std::optional<std::uint32_t> instances;  // per service; default mesh_100's: gateway 4, mid 2, leaf 1
    std::uint64_t rate_per_s = 10'000;       // requests per virtual second (Poisson)
    sim::duration virtual_duration = std::chrono::seconds(10);
    std::uint64_t seed = 1;
};

struct mesh_shape {
    std::uint32_t mids = 0;
    std::uint32_t leaves = 0;
};
mesh_shape shape_of(std::uint32_t services);

struct mesh_result {
    std::uint32_t services = 0;
    std::uint64_t instances = 0;
    std::uint64_t requests = 0;  // arrivals of the workload at the gateway
    std::uint64_t events = 0;    // trace events (the run's "events")
    double wall_s = 0;
    double events_per_s = 0;
    double requests_per_s = 0;
    double baseline_msgs_per_s = 0;     // the bare loop's ring, this run
    double ratio_to_baseline = 0;       // baseline msgs/s / mesh events/s
    double ring_msgs_per_s = 0;         // the kernel's ring, this run
    double cost_per_event_vs_ring = 0;  // ring msgs/s / mesh events/s: 1.0 means an event costs a ring message
    std::uint64_t peak_rss_bytes = 0;
    std::string trace_hash;
    double virtual_s = 0;
};

// The scenario document (JSON, as a file would hold it).
nlohmann::json mesh_scenario(const mesh_options& options);
// The document through the scenario loader; throws bad_mesh with the loader's
// diagnostics when it refuses it (bad input: too long, too many calls...).
scenario build_mesh(const mesh_options& options);
// Runs it as `meshsim run FILE --events none --report none` does; throws bad_mesh on setup errors.
mesh_result run_mesh(scenario s);
// Fills in the yardsticks from a ring (and its bare loop) run in the same process.
void compare_with(mesh_result& mesh, const ring_result& ring);
nlohmann::json to_json(const mesh_result& r);

struct bad_mesh : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The process's peak resident set so far, in bytes.
std::uint64_t peak_rss_bytes();

}  // namespace meshsim::harness::bench
