// Plain-data metrics of calls: counters by outcome per (service, instance, edge),
// and time series in fixed virtual-time buckets (arrivals, goodput, errors,
// latency). Ordered maps only, so anything that iterates sees one stable order.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "services/platform/histogram.hpp"
#include "services/platform/outcome.hpp"
#include "sim/time.hpp"

namespace meshsim::svc {

// Who observed the calls: a service, one of its instances, and the call edge
// (e.g. "checkout->payments", or "in" for calls it served).
struct metrics_key {
    std::string service;
    std::string instance;
    std::string edge;
    friend auto operator<=>(const metrics_key&, const metrics_key&) = default;
};

struct outcome_counters {
    std::array<std::uint64_t, outcome_kind_count> by_kind{};
    // ok and http_error outcomes by HTTP status.
    std::map<std::uint16_t, std::uint64_t> by_http_status;

    void add(const outcome& o);
    std::uint64_t total() const;
    std::uint64_t of(outcome_kind kind) const { return by_kind[static_cast<std::size_t>(kind)]; }
};

struct series_bucket {
    std::uint64_t arrivals = 0;  // calls started in the bucket
    std::uint64_t goodput = 0;   // calls that ended in the bucket with an ok (2xx/3xx) outcome
    std::uint64_t errors = 0;    // calls that ended in the bucket not healthy (see is_healthy)
    histogram latency;           // of every call that ended in the bucket
};

struct edge_metrics {
    outcome_counters outcomes;
    histogram latency;
    // Bucket number (time since start / bucket duration) -> bucket. Sparse: quiet
    // stretches hold no entry.
    std::map<std::int64_t, series_bucket> series;
};

class metrics_registry {
public:
    // bucket_duration > 0: the width of one time-series bucket.
    explicit metrics_registry(sim::duration bucket_duration = sim::seconds{1});

    void record_arrival(const metrics_key& key, sim::time_point now);
    void record_completion(const metrics_key& key, sim::time_point now, const outcome& o, sim::duration latency);

    const std::map<metrics_key, edge_metrics>& edges() const { return edges_; }
    // Nullptr when nothing was recorded for the key.
    const edge_metrics* find(const metrics_key& key) const;
    sim::duration bucket_duration() const { return bucket_duration_; }
    std::int64_t bucket_of(sim::time_point t) const;
    sim::time_point bucket_start(std::int64_t bucket) const { return sim::time_zero + bucket_duration_ * bucket; }

private:
    sim::duration bucket_duration_;
    std::map<metrics_key, edge_metrics> edges_;
};

}  // namespace meshsim::svc
