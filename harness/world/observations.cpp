#include "harness/world/observations.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

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
    breakers_.emplace_back();
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

std::size_t observations::add_instance(std::size_t service, std::string node_name, sim::node_id node, bool started) {
    instance_stats row;
    row.service = service;
    row.node_name = std::move(node_name);
    row.buckets.resize(bucket_count_);
    if (!started) {
        row.down.push_back({sim::time_zero, std::nullopt});
        row.now = instance_stats::state::crashed;
    }
    instances_.push_back(std::move(row));
    if (instance_of_node_.size() <= node) instance_of_node_.resize(node + 1, static_cast<std::size_t>(-1));
    instance_of_node_[node] = instances_.size() - 1;
    return instances_.size() - 1;
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
    ++b.by_outcome[static_cast<std::size_t>(o.kind)];
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

void observations::call_ended(flow_stats& f, sim::time_point ended, std::uint64_t attempts, std::uint64_t retries,
                              std::uint64_t hedges, std::optional<svc::call_end> end) {
    f.attempts += attempts;
    f.retries += retries;
    f.hedges += hedges;
    if (end) ++f.ends[static_cast<std::size_t>(*end)];
    bucket& b = f.buckets[bucket_of(ended)];
    b.attempts += attempts;
    b.retries += retries;
    b.hedges += hedges;
    if (end == svc::call_end::budget_exhausted || end == svc::call_end::retry_throttled) ++b.retries_refused;
}

void observations::instance_arrival(std::size_t instance, sim::time_point at) {
    ++instances_[instance].buckets[bucket_of(at)].arrivals;
}

void observations::instance_completion(std::size_t instance, sim::time_point ended, const svc::outcome& o) {
    instance_bucket& b = instances_[instance].buckets[bucket_of(ended)];
    (o.kind == svc::outcome_kind::ok ? b.goodput : b.errors) += 1;
    ++b.by_outcome[static_cast<std::size_t>(o.kind)];
}

void observations::instance_queue_change(std::size_t instance, sim::time_point at, std::int64_t delta) {
    instance_stats& row = instances_[instance];
    row.queued += delta;
    auto& slot = row.buckets[bucket_of(at)].queue_depth_max;
    slot = std::max(slot, static_cast<std::uint64_t>(std::max<std::int64_t>(0, row.queued)));
}

void observations::trace_event(const sim::trace_event& e) {
    using k = sim::event_kind;
    if (e.kind == k::fault_start) {
        fault_occurrence f;
        f.id = e.a;
        f.start = e.at;
        // The kernel's detail is the spec as JSON: its label says which spec this is.
        const nlohmann::json detail = nlohmann::json::parse(e.detail, nullptr, false);
        if (detail.is_object()) {
            f.name = detail.value("name", "");
            f.occurrence = detail.value("occurrence", std::uint64_t{0});
        }
        running_faults_[f.id] = faults_.size();
        faults_.push_back(std::move(f));
        return;
    }
    if (e.kind == k::fault_end) {
        if (const auto it = running_faults_.find(e.a); it != running_faults_.end()) {
            faults_[it->second].end = e.at;
            running_faults_.erase(it);
        }
        return;
    }
    if (!observes(e.kind) || e.node >= instance_of_node_.size()) return;
    const std::size_t i = instance_of_node_[e.node];
    if (i == static_cast<std::size_t>(-1)) return;
    instance_stats& row = instances_[i];
    using state = instance_stats::state;
    const auto go_down = [&](state why) {
        if (row.now == state::up) row.down.push_back({e.at, std::nullopt});
        row.now = std::max(row.now, why);
    };
    const auto come_up = [&] {
        if (row.now == state::up) return;
        row.now = state::up;
        down_interval& d = row.down.back();
        // A restart is a crash and a start at one instant: no time down, no interval.
        if (d.start == e.at) {
            row.down.pop_back();
        } else {
            d.end = e.at;
        }
    };
    switch (e.kind) {
        case k::node_crash: go_down(state::crashed); break;
        case k::node_pause: go_down(state::paused); break;
        case k::node_resume:
            if (row.now == state::paused) come_up();
            break;
        case k::node_start:
        case k::node_restart: come_up(); break;
        default: break;
    }
}

void observations::breaker_seen(std::size_t edge, const sim::runtime& caller, sim::time_point at,
                                svc::breaker_state s) {
    const breaker_level level = level_of(s);
    const std::size_t b = bucket_of(at);
    edges_[edge].buckets[b].breaker = std::max(edges_[edge].buckets[b].breaker, level);
    std::vector<caller_breaker>& callers = breakers_[edge];
    const sim::node_id node = caller.self();
    auto it = std::find_if(callers.begin(), callers.end(), [node](const caller_breaker& c) { return c.node == node; });
    if (it == callers.end()) {
        callers.push_back({node, caller.node_name(), breaker_level::closed, {}});
        callers.back().buckets.resize(bucket_count_, breaker_level::none);
        it = callers.end() - 1;
    }
    it->buckets[b] = std::max(it->buckets[b], level);
    if (it->last != level) {
        transitions_[edge].push_back({at, it->node_name, level});
        it->last = level;
    }
}

breaker_level observations::breaker_at_end(std::size_t edge) const {
    breaker_level worst = breaker_level::none;
    for (const caller_breaker& c : breakers_[edge]) worst = std::max(worst, c.last);
    return worst;
}

}  // namespace meshsim::harness
