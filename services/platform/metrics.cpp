#include "services/platform/metrics.hpp"

#include <numeric>

#include "sim/invariant.hpp"

namespace meshsim::svc {

metrics_registry::metrics_registry(sim::duration bucket_duration) : bucket_duration_(bucket_duration) {
    MESHSIM_INVARIANT(bucket_duration > sim::duration::zero(), "metrics buckets are longer than 0s");
}

void outcome_counters::add(const outcome& o) {
    ++by_kind[static_cast<std::size_t>(o.kind)];
    if (o.kind == outcome_kind::ok || o.kind == outcome_kind::http_error) ++by_http_status[o.http_status];
}

std::uint64_t outcome_counters::total() const {
    return std::accumulate(by_kind.begin(), by_kind.end(), std::uint64_t{0});
}

std::int64_t metrics_registry::bucket_of(sim::time_point t) const {
    // Floor division, so times before zero (clock offsets) land in negative buckets.
    const auto ns = t.time_since_epoch().count();
    const auto width = bucket_duration_.count();
    return ns >= 0 ? ns / width : -((-ns + width - 1) / width);
}

void metrics_registry::record_arrival(const metrics_key& key, sim::time_point now) {
    ++edges_[key].series[bucket_of(now)].arrivals;
}

void metrics_registry::record_completion(const metrics_key& key, sim::time_point now, const outcome& o,
                                         sim::duration latency) {
    auto& edge = edges_[key];
    edge.outcomes.add(o);
    edge.latency.record(latency);
    auto& bucket = edge.series[bucket_of(now)];
    if (o.kind == outcome_kind::ok) ++bucket.goodput;
    if (!is_healthy(o)) ++bucket.errors;
    bucket.latency.record(latency);
}

const edge_metrics* metrics_registry::find(const metrics_key& key) const {
    const auto it = edges_.find(key);
    return it == edges_.end() ? nullptr : &it->second;
}

}  // namespace meshsim::svc
