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
#include "services/platform/client.hpp"
#include "services/platform/histogram.hpp"
#include "services/platform/outcome.hpp"
#include "sim/runtime.hpp"
#include "sim/time.hpp"
#include "sim/trace.hpp"

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

// Completions of one bucket by svc::outcome_kind (index = the kind).
using outcome_array = std::array<std::uint64_t, svc::outcome_kind_count>;

struct bucket {
    std::uint64_t arrivals = 0;  // started in the bucket
    std::uint64_t goodput = 0;   // ended in the bucket, successfully
    std::uint64_t errors = 0;    // ended in the bucket, not successfully
    outcome_array by_outcome{};  // ended in the bucket, by outcome kind
    // Edges and workloads: of the calls that ended in the bucket, the attempts they
    // sent, the retries and the hedges their clients decided.
    std::uint64_t attempts = 0;
    std::uint64_t retries = 0;
    std::uint64_t hedges = 0;
    // Edges and workloads: of the calls that ended in the bucket, those whose retry the
    // retry budget or the retry throttle refused (svc::call_end).
    std::uint64_t retries_refused = 0;
    svc::histogram latency;  // of those that ended in the bucket
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
    // Edges and workloads: calls by why their retry loop stopped (svc::call_end).
    std::array<std::uint64_t, svc::call_end_count> ends{};
    svc::histogram latency;  // completions after the warmup
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

// One caller instance's breaker on an edge: its worst state per bucket.
struct caller_breaker {
    sim::node_id node = 0;
    std::string node_name;
    breaker_level last = breaker_level::closed;
    std::vector<breaker_level> buckets;  // none where the caller made no call
};

// One instance of a service, as its own row: what its endpoints served and when it
// was down (crashed, paused, or not started yet).
struct instance_bucket {
    std::uint64_t arrivals = 0;
    std::uint64_t goodput = 0;
    std::uint64_t errors = 0;
    outcome_array by_outcome{};
    std::uint64_t queue_depth_max = 0;
};
struct down_interval {
    sim::time_point start;
    std::optional<sim::time_point> end;  // nullopt: still down when the run ended
};
struct instance_stats {
    std::size_t service = 0;
    std::string node_name;
    std::vector<instance_bucket> buckets;
    std::vector<down_interval> down;
    std::int64_t queued = 0;  // requests waiting in the instance's queues now
    enum class state : std::uint8_t { up, paused, crashed } now = state::up;
};

// One occurrence of a scheduled fault as the kernel ran it (fault_start/fault_end).
struct fault_occurrence {
    std::uint64_t id = 0;  // the kernel's fault id, as in the fault events
    std::string name;      // its spec's label ("faults[2] db-1", "nemesis/flip_flop/0")
    std::uint64_t occurrence = 0;
    sim::time_point start;
    std::optional<sim::time_point> end;
};

class observations {
public:
    observations(sim::duration bucket_width, sim::duration warmup, sim::duration run_length);

    std::size_t add_endpoint(endpoint_key key);
    std::size_t add_edge(std::string from, std::string to);
    std::size_t add_workload(std::string name);
    std::size_t add_service(std::string name);
    // An instance row of `service` (an add_service index) for simulation node `node`;
    // `started` false when it does not boot at the start (down until it does).
    std::size_t add_instance(std::size_t service, std::string node_name, sim::node_id node, bool started);

    void arrival(flow_stats& f, sim::time_point at);
    void completion(flow_stats& f, sim::time_point started, sim::time_point ended, const svc::outcome& o);
    void queue_depth(std::size_t service, sim::time_point at, std::uint64_t depth);
    // A call on an edge or a workload's request ended: its attempts, retries and hedges,
    // and why its retry loop stopped (nullopt: retries of a loop outside the client, such
    // as a contend workload's conflicts, which end no call).
    void call_ended(flow_stats& f, sim::time_point ended, std::uint64_t attempts, std::uint64_t retries,
                    std::uint64_t hedges, std::optional<svc::call_end> end);
    // An instance row's share of its endpoints' requests and of its service's queue.
    void instance_arrival(std::size_t instance, sim::time_point at);
    void instance_completion(std::size_t instance, sim::time_point ended, const svc::outcome& o);
    void instance_queue_change(std::size_t instance, sim::time_point at, std::int64_t delta);
    // The trace events of faults and node lifecycles (others are ignored): down
    // intervals and fault occurrences. Cheap to call with any event.
    void trace_event(const sim::trace_event& e);
    static constexpr sim::event_kind_mask observed_kinds =
        sim::mask_of(sim::event_kind::node_start) | sim::mask_of(sim::event_kind::node_crash) |
        sim::mask_of(sim::event_kind::node_restart) | sim::mask_of(sim::event_kind::node_pause) |
        sim::mask_of(sim::event_kind::node_resume) | sim::mask_of(sim::event_kind::fault_start) |
        sim::mask_of(sim::event_kind::fault_end);
    static bool observes(sim::event_kind k) { return (observed_kinds & sim::mask_of(k)) != 0; }
    // Call once when the run ends, before reading any flow's `latency`: fills the
    // latency totals that completion() leaves to the bucket histograms.
    void finish();
    // The breaker state a caller's edge is in after a call; transitions are remembered.
    void breaker_seen(std::size_t edge, const sim::runtime& caller, sim::time_point at, svc::breaker_state s);

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
    // Each caller instance's breaker on the edge, in the order they first called.
    const std::vector<caller_breaker>& breakers(std::size_t edge) const { return breakers_[edge]; }
    const std::vector<instance_stats>& instances() const { return instances_; }
    // The faults that started, in the order they started (ids ascending).
    const std::vector<fault_occurrence>& fault_occurrences() const { return faults_; }

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
    std::vector<std::vector<caller_breaker>> breakers_;  // per edge; few callers, found by node id
    std::vector<std::string> workload_names_;
    std::vector<flow_stats> workloads_;
    std::vector<std::string> service_names_;
    std::vector<std::vector<std::uint64_t>> queue_depths_;
    std::vector<std::uint64_t> queue_depth_max_;
    std::vector<instance_stats> instances_;
    std::vector<std::size_t> instance_of_node_;  // by node id; npos for nodes that are no instance
    std::vector<fault_occurrence> faults_;
    std::map<std::uint64_t, std::size_t> running_faults_;  // fault id -> index in faults_
};

}  // namespace meshsim::harness
