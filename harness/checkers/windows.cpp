#include "harness/checkers/windows.hpp"

#include <algorithm>
#include <cstdio>

namespace meshsim::harness::detail {

std::vector<window_totals> sliding_windows(const observations& obs, const std::vector<const flow_stats*>& flows,
                                           sim::duration width, std::size_t first) {
    const std::size_t span = static_cast<std::size_t>(
        std::max<std::int64_t>(1, (width + obs.bucket_width() - sim::nanoseconds(1)) / obs.bucket_width()));
    std::vector<window_totals> windows;
    for (std::size_t end = first; end < obs.bucket_count(); ++end) {
        window_totals w;
        w.end = obs.bucket_start(end + 1);
        const std::size_t begin = end + 1 >= span ? std::max(first, end + 1 - span) : first;
        for (std::size_t b = begin; b <= end; ++b) {
            for (const flow_stats* f : flows) {
                w.ok += f->buckets[b].goodput;
                w.errors += f->buckets[b].errors;
                w.latency.merge(f->buckets[b].latency);
            }
        }
        windows.push_back(std::move(w));
    }
    return windows;
}

std::size_t first_bucket_after(const observations& obs, sim::duration t) {
    const auto i = (t + obs.bucket_width() - sim::nanoseconds(1)) / obs.bucket_width();
    return static_cast<std::size_t>(std::max<std::int64_t>(0, i));
}

std::vector<const flow_stats*> service_flows(const observations& obs, const std::string& service,
                                             const std::string& path) {
    std::vector<const flow_stats*> flows;
    for (std::size_t i = 0; i < obs.endpoint_keys().size(); ++i) {
        const endpoint_key& k = obs.endpoint_keys()[i];
        if (k.service == service && (path.empty() || k.path == path)) flows.push_back(&obs.endpoints()[i]);
    }
    return flows;
}

std::vector<const flow_stats*> workload_flows(const observations& obs, const std::string& name) {
    std::vector<const flow_stats*> flows;
    for (std::size_t i = 0; i < obs.workload_names().size(); ++i) {
        if (name.empty() || obs.workload_names()[i] == name) flows.push_back(&obs.workloads()[i]);
    }
    return flows;
}

std::string percent(double ratio) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g%%", ratio * 100);
    return text;
}

std::string format_latency(sim::duration d) {
    // Three significant digits in ms below a second ("32.7ms"), in seconds from
    // there on ("1.5s", "12.3s"); never an exponent.
    char text[32];
    const double ms = sim::to_seconds(d) * 1e3;
    if (ms < 999.5) {
        std::snprintf(text, sizeof text, "%.3gms", ms);
    } else {
        std::snprintf(text, sizeof text, ms < 9999.5 ? "%.3gs" : "%.1fs", ms / 1e3);
    }
    return text;
}

std::string format_instant(sim::time_point t) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3fs", sim::to_seconds(t - sim::time_zero));
    return text;
}

std::uint64_t answered_from(const std::vector<const flow_stats*>& flows, std::size_t first) {
    std::uint64_t n = 0;
    for (const flow_stats* f : flows) {
        for (std::size_t b = first; b < f->buckets.size(); ++b) n += f->buckets[b].goodput + f->buckets[b].errors;
    }
    return n;
}

void judge_empty(check_result& r, const expectation_config& e, const std::string& what) {
    r.measured = "no samples: " + what + (e.allow_empty ? " (allowed: allow_empty)" : "");
    r.passed = e.allow_empty;
    r.first_failed.reset();
}

}  // namespace meshsim::harness::detail
