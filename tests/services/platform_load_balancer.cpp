#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <tuple>
#include <vector>

#include "platform_testing.hpp"
#include "services/platform/load_balancer.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using meshsim::svc::testing::at;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

load_balancer_config with_policy(lb_policy policy) {
    load_balancer_config config;
    config.policy = policy;
    return config;
}

// Picks until `endpoint` comes up, then reports `o` for it; other picks report success.
void hit(load_balancer& lb, std::size_t endpoint, sim::time_point now, const outcome& o, sim::random_stream& random) {
    for (int guard = 0; guard < 1000; ++guard) {
        const auto picked = *lb.pick(now, random);
        lb.on_result(picked, now, picked == endpoint ? o : outcome::success());
        if (picked == endpoint) return;
    }
    FAIL("endpoint never picked");
}

void fail_times(load_balancer& lb, std::size_t endpoint, sim::time_point now, int times, sim::random_stream& random) {
    for (int i = 0; i < times; ++i) hit(lb, endpoint, now, outcome::http(503), random);
}

}  // namespace

TEST_CASE("outlier detection defaults are Envoy's") {
    const outlier_detection_config config;
    CHECK(config.consecutive_5xx == 5);
    CHECK(config.base_ejection_time == seconds{30});
    CHECK(config.max_ejection_time == seconds{300});
    CHECK(config.max_ejection_percent == 10);
    CHECK(config.interval == seconds{10});
    CHECK(load_balancer_config{}.validate().empty());
}

TEST_CASE("round robin cycles through the endpoints in index order") {
    load_balancer lb(with_policy(lb_policy::round_robin), 3);
    sim::random_stream random(1);
    std::vector<std::size_t> picks;
    for (int i = 0; i < 7; ++i) picks.push_back(*lb.pick(at(seconds{0}), random));
    CHECK(picks == std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0});
}

TEST_CASE("an empty balancer picks nothing") {
    load_balancer lb({}, 0);
    sim::random_stream random(1);
    CHECK_FALSE(lb.pick(at(seconds{0}), random).has_value());
}

TEST_CASE("least outstanding picks the least loaded endpoint, the lowest index on ties") {
    load_balancer lb(with_policy(lb_policy::least_outstanding), 3);
    sim::random_stream random(1);
    CHECK(*lb.pick(at(seconds{0}), random) == 0);
    CHECK(*lb.pick(at(seconds{0}), random) == 1);
    CHECK(*lb.pick(at(seconds{0}), random) == 2);
    lb.on_result(1, at(seconds{0}), outcome::success());
    CHECK(*lb.pick(at(seconds{0}), random) == 1);
    CHECK(*lb.pick(at(seconds{0}), random) == 0);
    CHECK(lb.outstanding(0) == 2);
}

TEST_CASE("power of two choices with two endpoints always picks the less loaded") {
    load_balancer lb(with_policy(lb_policy::power_of_two_choices), 2);
    sim::random_stream random(5);
    for (int i = 0; i < 3; ++i) lb.pick(at(seconds{0}), random);
    const auto more_loaded = lb.outstanding(0) > lb.outstanding(1) ? 0u : 1u;
    CHECK(*lb.pick(at(seconds{0}), random) != more_loaded);
}

TEST_CASE("random spreads picks over all endpoints") {
    load_balancer lb(with_policy(lb_policy::random), 4);
    sim::random_stream random(11);
    std::vector<int> counts(4);
    for (int i = 0; i < 40'000; ++i) {
        const auto picked = *lb.pick(at(seconds{0}), random);
        ++counts[picked];
        lb.on_result(picked, at(seconds{0}), outcome::success());
    }
    for (const int c : counts) CHECK(c == Approx(10'000).margin(500));
}

TEST_CASE("five consecutive 5xx eject an endpoint for the base ejection time") {
    load_balancer lb(with_policy(lb_policy::round_robin), 10);
    sim::random_stream random(1);
    fail_times(lb, 3, at(seconds{1}), 4, random);
    CHECK_FALSE(lb.is_ejected(3, at(seconds{1})));
    fail_times(lb, 3, at(seconds{1}), 1, random);
    CHECK(lb.is_ejected(3, at(seconds{1})));
    CHECK(lb.is_ejected(3, at(seconds{31}) - sim::nanoseconds{1}));
    CHECK_FALSE(lb.is_ejected(3, at(seconds{31})));
    for (int i = 0; i < 20; ++i) CHECK(*lb.pick(at(seconds{2}), random) != 3);
}

TEST_CASE("a success breaks the streak of failures") {
    load_balancer lb(with_policy(lb_policy::round_robin), 10);
    sim::random_stream random(1);
    fail_times(lb, 2, at(seconds{1}), 4, random);
    hit(lb, 2, at(seconds{1}), outcome::success(), random);
    fail_times(lb, 2, at(seconds{1}), 4, random);
    CHECK_FALSE(lb.is_ejected(2, at(seconds{1})));
}

TEST_CASE("4xx and local rejections do not count towards ejection") {
    load_balancer lb(with_policy(lb_policy::round_robin), 10);
    sim::random_stream random(1);
    for (int i = 0; i < 10; ++i) hit(lb, 0, at(seconds{1}), outcome::http(404), random);
    for (int i = 0; i < 10; ++i) hit(lb, 0, at(seconds{1}), outcome::of(outcome_kind::bulkhead_full), random);
    CHECK_FALSE(lb.is_ejected(0, at(seconds{1})));
    for (int i = 0; i < 5; ++i) hit(lb, 0, at(seconds{1}), outcome::of(outcome_kind::timeout), random);
    CHECK(lb.is_ejected(0, at(seconds{1})));
}

TEST_CASE("ejection time grows linearly with the number of ejections up to the maximum") {
    load_balancer lb(with_policy(lb_policy::round_robin), 10);
    sim::random_stream random(1);
    std::vector<sim::duration> ejections;
    lb.set_ejection_listener([&](sim::time_point, std::size_t, sim::duration d) { ejections.push_back(d); });
    sim::time_point now = at(seconds{0});
    for (int i = 0; i < 12; ++i) {
        fail_times(lb, 4, now, 5, random);
        REQUIRE(lb.is_ejected(4, now));
        // Re-fail right as the ejection ends: no healthy interval in between.
        while (lb.is_ejected(4, now)) now += seconds{1};
    }
    REQUIRE(ejections.size() == 12);
    CHECK(ejections[0] == seconds{30});
    CHECK(ejections[1] == seconds{60});
    CHECK(ejections[2] == seconds{90});
    CHECK(ejections[9] == seconds{300});
    CHECK(ejections[11] == seconds{300});
}

TEST_CASE("each healthy interval takes one off the ejection multiplier") {
    load_balancer lb(with_policy(lb_policy::round_robin), 10);
    sim::random_stream random(1);
    fail_times(lb, 4, at(seconds{0}), 5, random);
    fail_times(lb, 4, at(seconds{30}), 5, random);
    CHECK(lb.times_ejected(4) == 2);  // ejected at 30 s for 60 s: until 90 s
    fail_times(lb, 4, at(seconds{115}), 5, random);
    // 25 s un-ejected = two full 10 s intervals: 2 - 2 + 1.
    CHECK(lb.times_ejected(4) == 1);
}

TEST_CASE("at most max_ejection_percent of the endpoints are ejected, but at least one can be") {
    for (const auto& [endpoints, allowed] :
         std::vector<std::pair<std::size_t, std::size_t>>{{3, 1}, {10, 1}, {20, 2}}) {
        load_balancer lb(with_policy(lb_policy::round_robin), endpoints);
        sim::random_stream random(1);
        CHECK(lb.max_ejected() == allowed);
        for (std::size_t e = 0; e < endpoints; ++e) fail_times(lb, e, at(seconds{1}), 5, random);
        CHECK(lb.ejected_count(at(seconds{1})) == allowed);
    }
}

TEST_CASE("when every endpoint is ejected the balancer routes to all of them") {
    load_balancer lb(with_policy(lb_policy::round_robin), 1);
    sim::random_stream random(1);
    fail_times(lb, 0, at(seconds{1}), 5, random);
    REQUIRE(lb.is_ejected(0, at(seconds{1})));
    CHECK(*lb.pick(at(seconds{1}), random) == 0);
}

TEST_CASE("outlier detection config validation names the bad parameter") {
    load_balancer_config config;
    config.outlier_detection.max_ejection_percent = 150;
    const auto errors = config.validate();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "outlier_detection.max_ejection_percent must be in [0, 100], got 150");
}

TEST_CASE("load balancer properties") {
    rc::prop("never picks an ejected endpoint while a healthy one exists, and ejects at most the allowed share", [] {
        const auto policy = *rc::gen::element(lb_policy::round_robin, lb_policy::random, lb_policy::least_outstanding,
                                              lb_policy::power_of_two_choices);
        const auto endpoint_count = *rc::gen::inRange<std::size_t>(1, 25);
        load_balancer_config config = with_policy(policy);
        config.outlier_detection.consecutive_5xx = *rc::gen::inRange<std::uint32_t>(1, 4);
        config.outlier_detection.max_ejection_percent = *rc::gen::inRange(0, 101);
        load_balancer lb(config, endpoint_count);
        sim::random_stream random(*rc::gen::arbitrary<std::uint64_t>());
        // Per endpoint, how likely a call there fails: some endpoints are bad.
        const auto failure_percent = *rc::gen::container<std::vector<int>>(endpoint_count, rc::gen::inRange(0, 101));
        const auto steps = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 5000));
        sim::time_point now = sim::time_zero;
        for (const int gap_ms : steps) {
            now += milliseconds{gap_ms};
            const auto ejected = lb.ejected_count(now);
            const auto picked = *lb.pick(now, random);
            if (ejected < endpoint_count) RC_ASSERT(!lb.is_ejected(picked, now));
            const bool fails = random.below(100) < static_cast<std::uint64_t>(failure_percent[picked]);
            lb.on_result(picked, now, fails ? outcome::http(500) : outcome::success());
            RC_ASSERT(lb.ejected_count(now) <= lb.max_ejected());
            const auto share = static_cast<double>(lb.ejected_count(now)) * 100 / static_cast<double>(endpoint_count);
            RC_ASSERT(lb.ejected_count(now) <= 1 || share <= config.outlier_detection.max_ejection_percent);
        }
    });
}
