#include "harness/world/observations.hpp"

#include <algorithm>

namespace meshsim::harness {

void outcome_counts::add(const svc::outcome& o) {
    ++by_kind[static_cast<std::size_t>(o.kind)];
    if (o.http_status != 0) ++by_status[o.http_status];
}

std::uint64_t outcome_counts::total() const {
    std::uint64_t sum = 0;
    for (const std::uint64_t n : by_kind) sum += n;
    return sum;
}

breaker_level level_of(svc::breaker_state s) {
    switch (s) {
        case svc::breaker_state::open:
        case svc::breaker_state::forced_open: return breaker_level::open;
        case svc::breaker_state::half_open: return breaker_level::half_open;
        default: return breaker_level::closed;
    }
}

std::string_view to_string(breaker_level l) {
    switch (l) {
        case breaker_level::none: return "none";
        case breaker_level::closed: return "closed";
        case breaker_level::half_open: return "half_open";
        case breaker_level::open: return "open";
    }
    return "none";
}

observations::observations(sim::duration bucket_width, sim::duration warmup, sim::duration run_length)
    : bucket_width_(bucket_width),
      warmup_(warmup),
      bucket_count_(static_cast<std::size_t>((run_length + bucket_width - sim::nanoseconds(1)) / bucket_width)) {
    // A warmup past the last bucket's start would leave later completions (which
    // land in the last bucket) on either side of it: record totals directly then.
    if (warmup_ % bucket_width_ == sim::duration::zero() && warmup_ >= sim::duration::zero()) {
        const auto first = static_cast<std::size_t>(warmup_ / bucket_width_);
        if (first < bucket_count_) first_total_bucket_ = first;
    }
}

flow_stats observations::make_flow() const {
    flow_stats f;
    f.buckets.resize(bucket_count_);
    return f;
}

std::size_t observations::add_endpoint(endpoint_key key) {
    endpoint_keys_.push_back(std::move(key));
    endpoints_.push_back(make_flow());
    return endpoints_.size() - 1;
}

std::size_t observations::add_edge(std::string from, std::string to) {
    edge_keys_.emplace_back(std::move(from), std::move(to));
    edges_.push_back(make_flow());
    transitions_.emplace_back();
    breaker_last_.emplace_back();
    return edges_.size() - 1;
}

std::size_t observations::add_workload(std::string name) {
    workload_names_.push_back(std::move(name));
    workloads_.push_back(make_flow());
    return workloads_.size() - 1;
}

std::size_t observations::add_service(std::string name) {
    service_names_.push_back(std::move(name));
    queue_depths_.emplace_back(bucket_count_, 0);
    queue_depth_max_.push_back(0);
    return service_names_.size() - 1;
}

std::size_t observations::bucket_of(sim::time_point t) const {
    const auto i = static_cast<std::size_t>(std::max<std::int64_t>(0, (t - sim::time_zero) / bucket_width_));
    return std::min(i, bucket_count_ - 1);
}

void observations::arrival(flow_stats& f, sim::time_point at) {
    ++f.arrivals;
    ++f.buckets[bucket_of(at)].arrivals;
}

void observations::completion(flow_stats& f, sim::time_point started, sim::time_point ended, const svc::outcome& o) {
    f.outcomes.add(o);
    bucket& b = f.buckets[bucket_of(ended)];
    const sim::duration latency = ended - started;
    (o.kind == svc::outcome_kind::ok ? b.goodput : b.errors) += 1;
    b.latency.record(latency);
    if (!first_total_bucket_ && ended - sim::time_zero >= warmup_) f.latency.record(latency);
}

void observations::merge_totals(std::vector<flow_stats>& flows) const {
    for (flow_stats& f : flows) {
        for (std::size_t b = *first_total_bucket_; b < f.buckets.size(); ++b) f.latency.merge(f.buckets[b].latency);
    }
}

void observations::finish() {
    if (!first_total_bucket_) return;
    merge_totals(endpoints_);
    merge_totals(edges_);
    merge_totals(workloads_);
}

void observations::queue_depth(std::size_t service, sim::time_point at, std::uint64_t depth) {
    auto& slot = queue_depths_[service][bucket_of(at)];
    slot = std::max(slot, depth);
    queue_depth_max_[service] = std::max(queue_depth_max_[service], depth);
}

void observations::breaker_seen(std::size_t edge, const std::string& caller_node, sim::time_point at,
                                svc::breaker_state s) {
    const breaker_level level = level_of(s);
    bucket& b = edges_[edge].buckets[bucket_of(at)];
    b.breaker = std::max(b.breaker, level);
    auto [it, inserted] = breaker_last_[edge].try_emplace(caller_node, breaker_level::closed);
    if (it->second != level) {
        transitions_[edge].push_back({at, caller_node, level});
        it->second = level;
    }
    (void)inserted;
}

breaker_level observations::breaker_at_end(std::size_t edge) const {
    breaker_level worst = breaker_level::none;
    for (const auto& [node, level] : breaker_last_[edge]) worst = std::max(worst, level);
    return worst;
}

}  // namespace meshsim::harness
