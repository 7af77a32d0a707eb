#include "harness/scenario/limits.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "harness/scenario/diagnostics.hpp"

namespace meshsim::harness {

namespace {

using sim::duration;

// Exact for whole seconds (1e12 ns is 1000.0, where count * 1e-9 is not), so a value
// at a limit is not over it.
double seconds(duration d) { return static_cast<double>(d.count()) / 1e9; }

std::string count_text(double n) {
    if (n >= 1e15) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.3g", n);
        return buffer;
    }
    return std::to_string(static_cast<std::uint64_t>(n));
}

// How many times a fault starts in [0, run_length): once, or every repeat_every from
// `at` until repeat_until (or the end).
double occurrences_of(const fault_config& f, duration run_length) {
    if (f.at >= run_length) return 0;
    if (f.repeat_every.count() <= 0) return 1;
    // Starts at at, at + every, ... up to repeat_until (included) and before the end.
    const duration end = f.repeat_until ? std::min(*f.repeat_until + duration{1}, run_length) : run_length;
    if (end <= f.at) return 1;
    return std::ceil(static_cast<double>((end - f.at).count()) / static_cast<double>(f.repeat_every.count()));
}

// Instances a fault applies to: one per instance of its service, one for a fault
// that targets no service (a partition) or one instance.
double targets_of(const scenario& s, const fault_config& f) {
    if (f.service.empty() || f.instance != 0) return 1;
    const service_config* svc = s.find_service(f.service);
    return svc == nullptr ? 1 : svc->instances;
}

// The nemesis plans a fault every fault_length + interval (flip_flop) or every 0.5 to
// 1.5 intervals (staggered, swarm: at most span / (interval / 2)).
double nemesis_faults(const nemesis_config& n, duration run_length) {
    const duration stop = std::min(n.stop.value_or(run_length), run_length);
    if (stop <= n.start || stop - n.start < n.fault_length) return 0;
    const double span = static_cast<double>((stop - n.start - n.fault_length).count());
    const double step = n.mode == sim::kernel::nemesis_mode::flip_flop
                            ? static_cast<double>(n.fault_length.count()) + static_cast<double>(n.interval.count())
                            : std::max(1.0, static_cast<double>(n.interval.count()) / 2);
    return 1 + std::floor(span / step);
}

// Requests an open loop sends in [from, to): the integral of its rate schedule (see
// harness/workload/rate_schedule.cpp), segment by segment.
double arrivals_of(const open_loop_config& open, duration from, duration to) {
    double total = 0;
    // The rate goes linearly from rate_begin at begin to rate_end at end; only the part
    // inside [from, to) counts.
    const auto segment = [&](duration begin, duration end, double rate_begin, double rate_end) {
        const duration lo = std::max(begin, from);
        const duration hi = std::min(end, to);
        if (hi <= lo) return;
        const double length = seconds(end - begin);
        const auto rate_at = [&](duration t) {
            return length <= 0 ? rate_begin : rate_begin + (rate_end - rate_begin) * seconds(t - begin) / length;
        };
        total += (rate_at(lo) + rate_at(hi)) / 2 * seconds(hi - lo);
    };
    duration t{0};
    double rate = open.rate_per_s;
    for (const rate_change& c : open.schedule) {
        segment(t, c.at, rate, rate);
        switch (c.kind) {
            case rate_change_kind::step:
                rate = c.rate_per_s;
                t = c.at;
                break;
            case rate_change_kind::ramp:
                segment(c.at, c.at + c.length, rate, c.rate_per_s);
                rate = c.rate_per_s;
                t = c.at + c.length;
                break;
            case rate_change_kind::spike:
                segment(c.at, c.at + c.length, c.rate_per_s, c.rate_per_s);
                t = c.at + c.length;
                break;
        }
    }
    segment(t, std::max(t, to), rate, rate);
    return total;
}

// Calls one request to an endpoint makes, itself included: 1 + each downstream call
// times its probability times the calls it makes in turn. Call cycles are rejected by
// the loader; here a cycle counts once, so the estimate always terminates.
class fanout_estimate {
public:
    explicit fanout_estimate(const scenario& s) : s_(s) {}

    double calls(const std::string& service, const std::string& path, int version) {
        const auto key = std::make_tuple(service, path, version);
        if (const auto found = memo_.find(key); found != memo_.end()) return found->second;
        if (!visiting_.insert(key).second) return 1;
        double total = 1;
        if (const service_config* svc = s_.find_service(service)) {
            for (const endpoint_config& e : svc->endpoints) {
                if (e.path != path || e.version != version) continue;
                for (const downstream_call& c : e.calls)
                    total += c.probability * calls(c.service, c.endpoint, c.version);
                break;
            }
        }
        visiting_.erase(key);
        memo_[key] = total;
        return total;
    }

private:
    const scenario& s_;
    std::map<std::tuple<std::string, std::string, int>, double> memo_;
    std::set<std::tuple<std::string, std::string, int>> visiting_;
};

// Time series the run records: one per endpoint, per call edge (caller -> callee
// service, for calls and published events) and per workload, and the instances'
// rows, two to a series (an instance's bucket holds no latency histogram: about
// half an endpoint's in memory and in summary.json).
std::uint64_t series_of(const scenario& s) {
    std::uint64_t series = s.workloads.size();
    std::uint64_t instances = 0;
    std::set<std::pair<std::string, std::string>> edges;
    for (const service_config& svc : s.services) {
        instances += svc.instances;
        series += svc.endpoints.size();
        for (const endpoint_config& e : svc.endpoints) {
            for (const downstream_call& c : e.calls) edges.insert({svc.name, c.service});
            if (e.write) {
                for (const publish_target& t : e.write->publish_to) edges.insert({svc.name, t.service});
            }
        }
    }
    return series + edges.size() + (instances + 1) / 2;
}

// The smallest bucket that splits run_length into at most `buckets`, rounded up to a
// whole millisecond, or a whole second from 1s on, so the advice reads well.
std::string smallest_bucket(duration run_length, std::uint64_t buckets) {
    const auto n = static_cast<std::int64_t>(std::max<std::uint64_t>(1, buckets));
    const std::int64_t exact = (run_length.count() + n - 1) / n;
    const std::int64_t unit = exact >= 1'000'000'000 ? 1'000'000'000 : 1'000'000;
    return sim::format_duration(duration{(exact + unit - 1) / unit * unit});
}

void check_length(const scenario& s, duration run_length, std::vector<limit_problem>& out) {
    if (run_length > run_limits::max_run_duration) {
        out.push_back({"/duration", "the run is " + sim::format_duration(run_length) + " long; the limit is " +
                                        sim::format_duration(run_limits::max_run_duration)});
        return;
    }
    if (s.bucket.count() <= 0) return;
    const std::uint64_t buckets =
        static_cast<std::uint64_t>((run_length.count() + s.bucket.count() - 1) / s.bucket.count());
    if (buckets > run_limits::max_buckets) {
        out.push_back({"/bucket",
                       "a run of " + sim::format_duration(run_length) + " in buckets of " +
                           sim::format_duration(s.bucket) + " has " + std::to_string(buckets) +
                           " time-series buckets; the limit is " + std::to_string(run_limits::max_buckets) +
                           " (make \"bucket\" at least " + smallest_bucket(run_length, run_limits::max_buckets) + ")",
                       "/duration"});
        return;
    }
    const std::uint64_t series = series_of(s);
    if (buckets * series > run_limits::max_series_buckets) {
        const std::uint64_t most = std::max<std::uint64_t>(1, run_limits::max_series_buckets / series);
        out.push_back({"/bucket",
                       "a run of " + sim::format_duration(run_length) + " in buckets of " +
                           sim::format_duration(s.bucket) + " records " + std::to_string(series) +
                           " time series (endpoints, call edges, workloads, instances two to a series) of " +
                           std::to_string(buckets) + " buckets, " + std::to_string(buckets * series) +
                           " in all; the limit is " + std::to_string(run_limits::max_series_buckets) +
                           " (make \"bucket\" at least " + smallest_bucket(run_length, most) + ")",
                       "/duration"});
    }
}

void check_users(const scenario& s, std::vector<limit_problem>& out) {
    std::uint64_t users = 0;
    std::size_t largest = 0;
    for (std::size_t i = 0; i < s.workloads.size(); ++i) {
        if (!s.workloads[i].closed) continue;
        users += s.workloads[i].closed->users;
        if (!s.workloads[largest].closed || s.workloads[i].closed->users > s.workloads[largest].closed->users) {
            largest = i;
        }
    }
    if (users > run_limits::max_closed_loop_users) {
        out.push_back({"/workloads/" + std::to_string(largest) + "/closed/users",
                       "the closed-loop workloads have " + std::to_string(users) + " users in all; the limit is " +
                           std::to_string(run_limits::max_closed_loop_users)});
    }
}

void check_faults(const scenario& s, duration run_length, std::vector<limit_problem>& out) {
    double total = 0;
    double largest = 0;
    std::string largest_at;
    for (std::size_t i = 0; i < s.faults.size(); ++i) {
        const fault_config& f = s.faults[i];
        const double n = occurrences_of(f, run_length) * targets_of(s, f);
        total += n;
        if (n > largest) {
            largest = n;
            largest_at = "/faults/" + std::to_string(i) + (f.repeat_every.count() > 0 ? "/repeat_every" : "");
        }
    }
    if (s.nemesis) {
        const double n = nemesis_faults(*s.nemesis, run_length);
        total += n;
        if (n > largest) {
            largest = n;
            largest_at = "/nemesis/interval";
        }
    }
    if (total > static_cast<double>(run_limits::max_fault_occurrences)) {
        out.push_back({largest_at, "the faults occur up to " + count_text(total) + " times in a run of " +
                                       sim::format_duration(run_length) + " (this one " + count_text(largest) +
                                       "); the limit is " + std::to_string(run_limits::max_fault_occurrences)});
    }
}

void check_calls(const scenario& s, duration run_length, bool keeps_events, std::vector<limit_problem>& out) {
    fanout_estimate fanout(s);
    double total = 0;
    double largest = 0;
    std::size_t largest_at = 0;
    double draws = 0;
    double most_draws = 0;
    std::size_t most_draws_at = 0;
    for (std::size_t i = 0; i < s.workloads.size(); ++i) {
        const workload_config& w = s.workloads[i];
        if (!w.open) continue;
        const duration stop = std::min(w.stop.value_or(run_length), run_length);
        if (stop <= w.start) continue;
        double per_request = fanout.calls(w.service, w.endpoint, w.version);
        if (w.session)
            per_request += w.session->reads * fanout.calls(w.service, w.session->endpoint, w.session->version);
        const double n = arrivals_of(*w.open, w.start, stop) * per_request;
        if (w.open->arrivals == arrival_process::poisson) {
            double peak = w.open->rate_per_s;
            for (const rate_change& c : w.open->schedule) peak = std::max(peak, c.rate_per_s);
            const double d = peak * seconds(stop - w.start);
            draws += d;
            if (d > most_draws) {
                most_draws = d;
                most_draws_at = i;
            }
        }
        total += n;
        if (n > largest) {
            largest = n;
            largest_at = i;
        }
    }
    if (draws > run_limits::max_poisson_draws) {
        out.push_back({"/workloads/" + std::to_string(most_draws_at) + "/open",
                       "Poisson arrivals are drawn at the peak rate of the schedule and thinned: up to " +
                           count_text(draws) + " draws in a run of " + sim::format_duration(run_length) +
                           " (this one " + count_text(most_draws) + "); the limit is " +
                           count_text(run_limits::max_poisson_draws) +
                           " (shorten the run or the peak, or use \"arrivals\": \"constant\")"});
    }
    const std::string pointer = "/workloads/" + std::to_string(largest_at) + "/open/rate_per_s";
    const std::string calls = "the open-loop workloads make up to " + count_text(total) + " calls in a run of " +
                              sim::format_duration(run_length) + " (this one " + count_text(largest) +
                              ", downstream calls included); the limit is ";
    if (total > run_limits::max_open_loop_calls) {
        out.push_back({pointer, calls + count_text(run_limits::max_open_loop_calls)});
    } else if (keeps_events && total > run_limits::max_open_loop_calls_with_events) {
        out.push_back({pointer, calls + count_text(run_limits::max_open_loop_calls_with_events) +
                                    " when the run keeps its events (about 1 KB of memory each); run with "
                                    "--events none to only hash them, or shorten the run"});
    }
}

}  // namespace

std::vector<limit_problem> check_run_limits(const scenario& s, duration run_length, bool keeps_events) {
    std::vector<limit_problem> out;
    if (run_length.count() <= 0) return out;
    check_length(s, run_length, out);
    if (!out.empty() && out.back().pointer == "/duration") return out;  // the rest scale with it
    check_users(s, out);
    check_faults(s, run_length, out);
    check_calls(s, run_length, keeps_events, out);
    return out;
}

}  // namespace meshsim::harness
