// Windowed views over bucketed observations, shared by the checkers: a window
// is a run of whole buckets ending at each bucket in turn (sliding by one bucket),
// starting after the warmup.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "harness/checkers/checker.hpp"

namespace meshsim::harness::detail {

struct window_totals {
    std::uint64_t ok = 0;
    std::uint64_t errors = 0;
    svc::histogram latency;
    sim::time_point end;
    std::uint64_t completed() const { return ok + errors; }
    double error_rate() const {
        return completed() == 0 ? 0 : static_cast<double>(errors) / static_cast<double>(completed());
    }
    double goodput_ratio() const {
        return completed() == 0 ? 1 : static_cast<double>(ok) / static_cast<double>(completed());
    }
};

// Windows of `width` (rounded up to whole buckets) over the sum of `flows`, from
// bucket `first` on; each window ends at the end of a bucket.
std::vector<window_totals> sliding_windows(const observations& obs, const std::vector<const flow_stats*>& flows,
                                           sim::duration width, std::size_t first);
std::size_t first_bucket_after(const observations& obs, sim::duration t);
// The endpoint flows of a service (one endpoint when path is not empty).
std::vector<const flow_stats*> service_flows(const observations& obs, const std::string& service,
                                             const std::string& path = {});
// The named workload's flow, or every workload's when name is empty.
std::vector<const flow_stats*> workload_flows(const observations& obs, const std::string& name);
std::string percent(double ratio);
// A measured latency, rounded for people: "32.7ms".
std::string format_latency(sim::duration d);
// An instant of the run, to the millisecond: "3.063s".
std::string format_instant(sim::time_point t);
// Requests of `flows` answered (successfully or not) from bucket `first` on.
std::uint64_t answered_from(const std::vector<const flow_stats*>& flows, std::size_t first);
// A check that observed nothing cannot say anything: it fails, saying "no samples"
// and what it looked for, unless the expectation allows it ("allow_empty": true).
void judge_empty(check_result& r, const expectation_config& e, const std::string& what);

}  // namespace meshsim::harness::detail
