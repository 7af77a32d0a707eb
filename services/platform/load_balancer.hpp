// Client-side load balancing over a fixed list of endpoints (indices 0..n-1; the
// caller maps them to addresses) with Envoy-style outlier detection: consecutive
// server failures eject an endpoint for base_ejection_time * times ejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "services/platform/config_errors.hpp"
#include "services/platform/outcome.hpp"
#include "sim/random.hpp"
#include "sim/time.hpp"

namespace meshsim::svc {

enum class lb_policy : std::uint8_t { round_robin, random, least_outstanding, power_of_two_choices };

std::string_view to_string(lb_policy policy);

// Defaults are Envoy's OutlierDetection defaults.
struct outlier_detection_config {
    bool enabled = true;
    // 5xx responses, timeouts, refused or reset connections in a row.
    std::uint32_t consecutive_5xx = 5;
    sim::duration base_ejection_time = sim::seconds{30};
    sim::duration max_ejection_time = sim::seconds{300};
    // At least one endpoint may always be ejected, whatever the percentage (as Envoy).
    double max_ejection_percent = 10.0;
    // Envoy's sweep interval; here only its other role: each full interval an
    // endpoint spends un-ejected takes one off its ejection multiplier.
    sim::duration interval = sim::seconds{10};

    config_errors validate() const;
};

struct load_balancer_config {
    lb_policy policy = lb_policy::round_robin;
    outlier_detection_config outlier_detection;

    config_errors validate() const;
};

class load_balancer {
public:
    using ejection_listener = std::function<void(sim::time_point at, std::size_t endpoint, sim::duration ejected_for)>;

    load_balancer(load_balancer_config config, std::size_t endpoint_count);

    // Chooses an endpoint among those not ejected (all of them if every one is
    // ejected: Envoy's panic routing) and counts the call as outstanding there.
    // Ties go to the lowest index. Nothing when there are no endpoints.
    std::optional<std::size_t> pick(sim::time_point now, sim::random_stream& random);
    // The endpoint a keyed call belongs to (key mod endpoint count, as Kafka's keyed
    // partitioner), ejected or not: every attempt of that key goes there. Counted as outstanding.
    std::optional<std::size_t> pick_for_key(std::uint64_t key);
    // The call picked for `endpoint` ended with `o`: no longer outstanding; feeds outlier detection.
    void on_result(std::size_t endpoint, sim::time_point now, const outcome& o);

    bool is_ejected(std::size_t endpoint, sim::time_point now) const;
    std::size_t ejected_count(sim::time_point now) const;
    // The most endpoints outlier detection may hold ejected at once.
    std::size_t max_ejected() const;
    std::uint32_t outstanding(std::size_t endpoint) const { return endpoints_.at(endpoint).outstanding; }
    std::uint32_t times_ejected(std::size_t endpoint) const { return endpoints_.at(endpoint).times_ejected; }
    std::size_t endpoint_count() const { return endpoints_.size(); }

    // Replaces the endpoint set (service discovery changed it): new endpoint i keeps
    // the state (outstanding calls, failure streak, ejections) of old endpoint
    // previous[i], or starts fresh when previous[i] is empty. State of old endpoints
    // no new one names is dropped, as Envoy drops a removed host's detector state.
    void remap(const std::vector<std::optional<std::size_t>>& previous);

    void set_ejection_listener(ejection_listener listener) { listener_ = std::move(listener); }
    const load_balancer_config& config() const { return config_; }

private:
    struct endpoint_state {
        std::uint32_t outstanding = 0;
        std::uint32_t consecutive_failures = 0;
        std::uint32_t times_ejected = 0;
        sim::time_point ejected_until = sim::time_zero;
    };

    // The endpoints not ejected, or every endpoint when all are.
    const std::vector<std::size_t>& candidates(sim::time_point now);
    std::size_t choose(const std::vector<std::size_t>& candidates, sim::random_stream& random);
    std::size_t least_outstanding_of(const std::vector<std::size_t>& candidates) const;
    std::size_t power_of_two_of(const std::vector<std::size_t>& candidates, sim::random_stream& random) const;
    void record_failure(std::size_t endpoint, sim::time_point now);
    void eject(std::size_t endpoint, sim::time_point now);

    load_balancer_config config_;
    std::vector<endpoint_state> endpoints_;
    std::size_t round_robin_next_ = 0;
    std::vector<std::size_t> candidates_;
    ejection_listener listener_;
};

}  // namespace meshsim::svc
