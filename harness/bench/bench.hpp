// `meshsim bench`: throughput and memory of the kernel on a ring workload, next
// to the same workload on a bare Boost.Context event loop with no project code
// (the machine's limit), so the ratio means the same on any machine.
// Wall-clock time is read here and only here: benchmarks measure the host.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace meshsim::harness::bench {

enum class workload { ring, network };

struct ring_options {
    workload kind = workload::ring;
    std::uint32_t nodes = 1000;
    std::uint64_t messages = 2'000'000;
    std::uint64_t seed = 1;
    std::size_t fiber_stack_bytes = 16 * 1024;
    bool run_baseline = true;
};

struct ring_result {
    std::string workload;
    std::uint32_t nodes = 0;
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

}  // namespace meshsim::harness::bench
