#include "services/platform/load_balancer.hpp"

#include <algorithm>
#include <cmath>

namespace meshsim::svc {

std::string_view to_string(lb_policy policy) {
    switch (policy) {
        case lb_policy::round_robin: return "round_robin";
        case lb_policy::random: return "random";
        case lb_policy::least_outstanding: return "least_outstanding";
        case lb_policy::power_of_two_choices: return "power_of_two_choices";
    }
    return "unknown";
}

config_errors outlier_detection_config::validate() const {
    config_errors errors;
    require(errors, consecutive_5xx >= 1, "consecutive_5xx", ">= 1", consecutive_5xx);
    require(errors, base_ejection_time > sim::duration::zero(), "base_ejection_time", "> 0", base_ejection_time);
    require(errors, max_ejection_time >= base_ejection_time, "max_ejection_time", ">= base_ejection_time",
            max_ejection_time);
    require(errors, max_ejection_percent >= 0 && max_ejection_percent <= 100, "max_ejection_percent", "in [0, 100]",
            max_ejection_percent);
    require(errors, interval > sim::duration::zero(), "interval", "> 0", interval);
    return errors;
}

config_errors load_balancer_config::validate() const {
    config_errors errors;
    for (auto& line : outlier_detection.validate()) errors.push_back("outlier_detection." + line);
    return errors;
}

load_balancer::load_balancer(load_balancer_config config, std::size_t endpoint_count)
    : config_(config), endpoints_(endpoint_count) {}

bool load_balancer::is_ejected(std::size_t endpoint, sim::time_point now) const {
    return now < endpoints_.at(endpoint).ejected_until;
}

std::size_t load_balancer::ejected_count(sim::time_point now) const {
    return static_cast<std::size_t>(std::count_if(endpoints_.begin(), endpoints_.end(),
                                                  [&](const endpoint_state& e) { return now < e.ejected_until; }));
}

std::size_t load_balancer::max_ejected() const {
    const double share = config_.outlier_detection.max_ejection_percent * static_cast<double>(endpoints_.size()) / 100;
    return std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(share)));
}

// Fills candidates_ (kept between picks: every call picks, so a vector per pick was
// an allocation per call).
const std::vector<std::size_t>& load_balancer::candidates(sim::time_point now) {
    candidates_.clear();
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        if (!is_ejected(i, now)) candidates_.push_back(i);
    }
    if (candidates_.empty()) {
        for (std::size_t i = 0; i < endpoints_.size(); ++i) candidates_.push_back(i);
    }
    return candidates_;
}

std::size_t load_balancer::least_outstanding_of(const std::vector<std::size_t>& candidates) const {
    // min_element keeps the first of equal elements: the lowest index wins ties.
    return *std::min_element(candidates.begin(), candidates.end(), [&](std::size_t a, std::size_t b) {
        return endpoints_[a].outstanding < endpoints_[b].outstanding;
    });
}

std::size_t load_balancer::power_of_two_of(const std::vector<std::size_t>& candidates,
                                           sim::random_stream& random) const {
    if (candidates.size() == 1) return candidates.front();
    // Two distinct candidates: draw the second from the n-1 others.
    const auto first = random.below(candidates.size());
    auto second = random.below(candidates.size() - 1);
    if (second >= first) ++second;
    const auto a = candidates[std::min(first, second)];
    const auto b = candidates[std::max(first, second)];
    return endpoints_[b].outstanding < endpoints_[a].outstanding ? b : a;
}

std::size_t load_balancer::choose(const std::vector<std::size_t>& candidates, sim::random_stream& random) {
    switch (config_.policy) {
        case lb_policy::random: return candidates[random.below(candidates.size())];
        case lb_policy::least_outstanding: return least_outstanding_of(candidates);
        case lb_policy::power_of_two_choices: return power_of_two_of(candidates, random);
        case lb_policy::round_robin: break;
    }
    // The first candidate at or after the cursor, wrapping around.
    const auto it = std::lower_bound(candidates.begin(), candidates.end(), round_robin_next_);
    const auto chosen = it != candidates.end() ? *it : candidates.front();
    round_robin_next_ = chosen + 1;
    return chosen;
}

std::optional<std::size_t> load_balancer::pick(sim::time_point now, sim::random_stream& random) {
    if (endpoints_.empty()) return std::nullopt;
    const auto chosen = choose(candidates(now), random);
    ++endpoints_[chosen].outstanding;
    return chosen;
}

std::optional<std::size_t> load_balancer::pick_for_key(std::uint64_t key) {
    if (endpoints_.empty()) return std::nullopt;
    const std::size_t chosen = static_cast<std::size_t>(key % endpoints_.size());
    ++endpoints_[chosen].outstanding;
    return chosen;
}

void load_balancer::remap(const std::vector<std::optional<std::size_t>>& previous) {
    std::vector<endpoint_state> next(previous.size());
    // Round robin resumes at the first surviving endpoint at or after its cursor.
    std::optional<std::size_t> cursor;
    for (std::size_t i = 0; i < previous.size(); ++i) {
        if (!previous[i]) continue;
        next[i] = endpoints_.at(*previous[i]);
        if (*previous[i] >= round_robin_next_ && (!cursor || *previous[i] < *previous[*cursor])) cursor = i;
    }
    endpoints_ = std::move(next);
    round_robin_next_ = cursor.value_or(0);
}

void load_balancer::on_result(std::size_t endpoint, sim::time_point now, const outcome& o) {
    auto& e = endpoints_.at(endpoint);
    if (e.outstanding > 0) --e.outstanding;
    if (!config_.outlier_detection.enabled || !reached_remote(o) || is_ejected(endpoint, now)) return;
    if (is_server_failure(o)) {
        record_failure(endpoint, now);
    } else {
        e.consecutive_failures = 0;
    }
}

void load_balancer::record_failure(std::size_t endpoint, sim::time_point now) {
    auto& e = endpoints_[endpoint];
    if (++e.consecutive_failures < config_.outlier_detection.consecutive_5xx) return;
    // The streak is spent whether or not the ejection is allowed, as Envoy resets it.
    e.consecutive_failures = 0;
    if (ejected_count(now) + 1 > max_ejected()) return;
    eject(endpoint, now);
}

void load_balancer::eject(std::size_t endpoint, sim::time_point now) {
    const auto& od = config_.outlier_detection;
    auto& e = endpoints_[endpoint];
    if (e.times_ejected > 0) {
        const auto healthy_intervals = static_cast<std::uint64_t>((now - e.ejected_until) / od.interval);
        e.times_ejected -= static_cast<std::uint32_t>(std::min<std::uint64_t>(e.times_ejected, healthy_intervals));
    }
    ++e.times_ejected;
    // Compared as a multiple first so base * times can never overflow.
    const auto multiples_to_cap = od.max_ejection_time / od.base_ejection_time;
    const auto ejected_for =
        e.times_ejected >= multiples_to_cap ? od.max_ejection_time : od.base_ejection_time * e.times_ejected;
    e.ejected_until = sim::saturating_add(now, ejected_for);
    if (listener_) listener_(now, endpoint, ejected_for);
}

}  // namespace meshsim::svc
