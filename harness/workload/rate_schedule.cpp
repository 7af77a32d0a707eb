#include "harness/workload/rate_schedule.hpp"

#include <algorithm>

namespace meshsim::harness {

double rate_schedule::rate_at(sim::duration t) const {
    double base = config_.rate_per_s;
    for (const rate_change& c : config_.schedule) {
        if (t < c.at) break;  // entries are in time order (validated)
        switch (c.kind) {
            case rate_change_kind::step: base = c.rate_per_s; break;
            case rate_change_kind::ramp:
                if (t >= c.at + c.length) {
                    base = c.rate_per_s;
                } else {
                    const double f = sim::to_seconds(t - c.at) / sim::to_seconds(c.length);
                    return base + (c.rate_per_s - base) * f;
                }
                break;
            case rate_change_kind::spike:
                if (t < c.at + c.length) return c.rate_per_s;
                break;
        }
    }
    return base;
}

double rate_schedule::peak() const {
    double peak = config_.rate_per_s;
    for (const rate_change& c : config_.schedule) peak = std::max(peak, c.rate_per_s);
    return peak;
}

}  // namespace meshsim::harness
