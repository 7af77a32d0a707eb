#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "platform_testing.hpp"
#include "services/platform/retry_budget.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using meshsim::svc::testing::at;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("a budget refuses the retry that would exceed it") {
    retry_budget budget({seconds{10}, 0.0, 0.2});
    for (int i = 0; i < 10; ++i) budget.record_request(at(seconds{1}));
    CHECK(budget.balance(at(seconds{1})) == 2);
    CHECK(budget.try_withdraw(at(seconds{2})));
    CHECK(budget.try_withdraw(at(seconds{2})));
    CHECK_FALSE(budget.try_withdraw(at(seconds{2})));
    // Five more requests buy exactly one more retry.
    for (int i = 0; i < 4; ++i) budget.record_request(at(seconds{3}));
    CHECK_FALSE(budget.try_withdraw(at(seconds{3})));
    budget.record_request(at(seconds{3}));
    CHECK(budget.try_withdraw(at(seconds{3})));
    CHECK_FALSE(budget.try_withdraw(at(seconds{3})));
}

TEST_CASE("the reserve allows min_retries_per_second times the ttl without any request") {
    retry_budget budget({seconds{10}, 1.0, 0.2});
    CHECK(budget.reserve() == 10);
    for (int i = 0; i < 10; ++i) CHECK(budget.try_withdraw(at(milliseconds{i})));
    CHECK_FALSE(budget.try_withdraw(at(milliseconds{10})));
}

TEST_CASE("deposits and withdrawals expire after the ttl") {
    retry_budget budget({seconds{10}, 0.0, 0.5});
    budget.record_request(at(seconds{0}));
    budget.record_request(at(seconds{0}));
    CHECK(budget.try_withdraw(at(seconds{1})));
    CHECK_FALSE(budget.try_withdraw(at(seconds{1})));
    // At 10 s the requests of time 0 are out of the window (now - ttl, now].
    budget.record_request(at(seconds{10}));
    budget.record_request(at(seconds{10}));
    CHECK_FALSE(budget.try_withdraw(at(seconds{10})));  // the retry of 1 s still counts
    CHECK(budget.try_withdraw(at(seconds{11})));
}

TEST_CASE("retry budget config validation names the bad parameter") {
    CHECK(retry_budget_config{}.validate().empty());
    const auto errors = retry_budget_config{seconds{120}, -1, 0.2}.validate();
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == "ttl must be in [1s, 60s] (as Finagle), got 2min");
    CHECK(errors[1] == "min_retries_per_second must be >= 0, got -1");
}

TEST_CASE("retry budget properties") {
    rc::prop("retries stay within ratio * requests plus the reserve over the window of every retry", [] {
        const auto ttl = seconds{*rc::gen::inRange(1, 11)};
        const auto ratio_percent = *rc::gen::inRange<std::int64_t>(0, 101);
        const auto min_per_second = *rc::gen::inRange<std::int64_t>(0, 4);
        retry_budget budget({ttl, static_cast<double>(min_per_second), static_cast<double>(ratio_percent) / 100});
        const auto reserve = min_per_second * std::chrono::duration_cast<seconds>(ttl).count();
        const auto steps = *rc::gen::container<std::vector<std::pair<bool, int>>>(
            rc::gen::pair(rc::gen::arbitrary<bool>(), rc::gen::inRange(0, 700)));
        std::vector<sim::time_point> requests, retries;
        sim::time_point now = sim::time_zero;
        const auto in_window = [&](const std::vector<sim::time_point>& events) {
            return std::count_if(events.begin(), events.end(), [&](auto t) { return t > now - ttl && t <= now; });
        };
        for (const auto& [is_request, gap_ms] : steps) {
            now += milliseconds{gap_ms};
            if (is_request) {
                budget.record_request(now);
                requests.push_back(now);
            } else if (budget.try_withdraw(now)) {
                retries.push_back(now);
                RC_ASSERT(in_window(retries) * 100 <= ratio_percent * in_window(requests) + reserve * 100);
            } else {
                // Refused only when one more would exceed the budget.
                RC_ASSERT((in_window(retries) + 1) * 100 > ratio_percent * in_window(requests) + reserve * 100);
            }
        }
    });
}
