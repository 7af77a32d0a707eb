// What a run observed, per service endpoint, call edge, workload and service, in
// totals and per metric bucket: what checkers judge and summary.json reports.
// Recorded by the world's fibers as things happen (one thread, so no locks);
// indices, not names, on the hot path. Latency totals skip the warmup.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "services/platform/circuit_breaker.hpp"
#include "services/platform/histogram.hpp"
#include "services/platform/outcome.hpp"
#include "sim/time.hpp"

namespace meshsim::harness {

struct outcome_counts {
    std::array<std::uint64_t, svc::outcome_kind_count> by_kind{};
    std::map<std::uint16_t, std::uint64_t> by_status;  // HTTP status of responses
    void add(const svc::outcome& o);
    std::uint64_t total() const;
    std::uint64_t ok() const { return by_kind[0]; }
    std::uint64_t failed() const { return total() - ok(); }
};

// Breaker states by severity, so a bucket shows the worst state seen in it.
enum class breaker_level : std::uint8_t { none, closed, half_open, open };
breaker_level level_of(svc::breaker_state s);
std::string_view to_string(breaker_level l);

struct bucket {
    std::uint64_t arrivals = 0;  // started in the bucket
    std::uint64_t goodput = 0;   // ended in the bucket, successfully
    std::uint64_t errors = 0;    // ended in the bucket, not successfully
    svc::histogram latency;      // of those that ended in the bucket
    std::uint64_t queue_depth_max = 0;
    breaker_level breaker = breaker_level::none;
};

// Requests of one kind (an endpoint served, calls on an edge, a workload's requests).
struct flow_stats {
    outcome_counts outcomes;
    std::uint64_t arrivals = 0;
    std::uint64_t attempts = 0;  // edges and workloads: attempts sent (retries and hedges included)
    std::uint64_t retries = 0;   // edges and workloads: retries the clients decided (svc::call_outcome)
    std::uint64_t hedges = 0;    // edges and workloads: hedged attempts launched
    std::uint64_t partial = 0;   // endpoints: answered 200 without the optional calls that failed
    svc::histogram latency;      // completions after the warmup
    std::vector<bucket> buckets;
};

struct endpoint_key {
    std::string service;
    std::string path;
    int version = 1;
};

struct breaker_transition {
    sim::time_point at;
    std::string caller_node;
    breaker_level to;
};

class observations {
public:
    observations(sim::duration bucket_width, sim::duration warmup, sim::duration run_length);

    std::size_t add_endpoint(endpoint_key key);
    std::size_t add_edge(std::string from, std::string to);
    std::size_t add_workload(std::string name);
    std::size_t add_service(std::string name);

    void arrival(flow_stats& f, sim::time_point at);
    void completion(flow_stats& f, sim::time_point started, sim::time_point ended, const svc::outcome& o);
    void queue_depth(std::size_t service, sim::time_point at, std::uint64_t depth);
    // Call once when the run ends, before reading any flow's `latency`: fills the
    // latency totals that completion() leaves to the bucket histograms.
    void finish();
    // The breaker state a caller's edge is in after a call; transitions are remembered.
    void breaker_seen(std::size_t edge, const std::string& caller_node, sim::time_point at, svc::breaker_state s);

    flow_stats& endpoint(std::size_t i) { return endpoints_[i]; }
    flow_stats& edge(std::size_t i) { return edges_[i]; }
    flow_stats& workload(std::size_t i) { return workloads_[i]; }

    const std::vector<endpoint_key>& endpoint_keys() const { return endpoint_keys_; }
    const std::vector<flow_stats>& endpoints() const { return endpoints_; }
    const std::vector<std::pair<std::string, std::string>>& edge_keys() const { return edge_keys_; }
    const std::vector<flow_stats>& edges() const { return edges_; }
    const std::vector<std::string>& workload_names() const { return workload_names_; }
    const std::vector<flow_stats>& workloads() const { return workloads_; }
    const std::vector<std::string>& service_names() const { return service_names_; }
    // Per service: the most requests waiting in its queues (all instances) per bucket.
    const std::vector<std::vector<std::uint64_t>>& queue_depths() const { return queue_depths_; }
    const std::vector<std::uint64_t>& queue_depth_max() const { return queue_depth_max_; }
    const std::vector<breaker_transition>& breaker_transitions(std::size_t edge) const { return transitions_[edge]; }
    // The last state seen of each caller's breaker on the edge (worst of them).
    breaker_level breaker_at_end(std::size_t edge) const;

    sim::duration bucket_width() const { return bucket_width_; }
    sim::duration warmup() const { return warmup_; }
    std::size_t bucket_count() const { return bucket_count_; }
    std::size_t bucket_of(sim::time_point t) const;
    sim::time_point bucket_start(std::size_t i) const {
        return sim::time_zero + bucket_width_ * static_cast<std::int64_t>(i);
    }

private:
    flow_stats make_flow() const;
    void merge_totals(std::vector<flow_stats>& flows) const;

    sim::duration bucket_width_;
    sim::duration warmup_;
    std::size_t bucket_count_;
    // When the warmup ends on a bucket boundary, the latency total of a flow is the
    // merge of its buckets from that one on (merging is exact), so completion()
    // records each latency once, not twice: this is the first such bucket, or
    // nullopt when the warmup ends inside a bucket and totals are recorded directly.
    std::optional<std::size_t> first_total_bucket_;
    std::vector<endpoint_key> endpoint_keys_;
    std::vector<flow_stats> endpoints_;
    std::vector<std::pair<std::string, std::string>> edge_keys_;
    std::vector<flow_stats> edges_;
    std::vector<std::vector<breaker_transition>> transitions_;
    std::vector<std::map<std::string, breaker_level>> breaker_last_;  // by caller node name
    std::vector<std::string> workload_names_;
    std::vector<flow_stats> workloads_;
    std::vector<std::string> service_names_;
    std::vector<std::vector<std::uint64_t>> queue_depths_;
    std::vector<std::uint64_t> queue_depth_max_;
};

}  // namespace meshsim::harness
