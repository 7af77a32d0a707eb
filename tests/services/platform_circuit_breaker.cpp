#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <tuple>
#include <vector>

#include "platform_testing.hpp"
#include "services/platform/circuit_breaker.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using meshsim::svc::testing::at;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// A small breaker: window and minimum of 10 calls, 50 %, 10 s open, 3 half-open permits.
circuit_breaker_config small_config() {
    circuit_breaker_config config;
    config.sliding_window_size_calls = 10;
    config.minimum_number_of_calls = 10;
    config.wait_duration_in_open_state = seconds{10};
    config.permitted_number_of_calls_in_half_open_state = 3;
    return config;
}

void call(circuit_breaker& breaker, sim::time_point now, bool failure, sim::duration elapsed = milliseconds{5}) {
    REQUIRE(breaker.try_acquire(now));
    breaker.on_result(now, elapsed, failure);
}

void open_breaker(circuit_breaker& breaker, sim::time_point now) {
    for (int i = 0; i < 10; ++i) call(breaker, now, true);
    REQUIRE(breaker.current_state() == breaker_state::open);
}

struct transition {
    sim::time_point at;
    breaker_state from;
    breaker_state to;
    friend bool operator==(const transition&, const transition&) = default;
};

}  // namespace

TEST_CASE("breaker defaults are resilience4j's") {
    const circuit_breaker_config config;
    CHECK(config.failure_rate_threshold_percent == 50);
    CHECK(config.slow_call_rate_threshold_percent == 100);
    CHECK(config.slow_call_duration_threshold == seconds{60});
    CHECK(config.window_type == sliding_window_type::count_based);
    CHECK(config.sliding_window_size_calls == 100);
    CHECK(config.minimum_number_of_calls == 100);
    CHECK(config.wait_duration_in_open_state == seconds{60});
    CHECK(config.permitted_number_of_calls_in_half_open_state == 10);
    CHECK_FALSE(config.automatic_transition_from_open_to_half_open);
    CHECK(config.max_wait_duration_in_half_open_state == sim::duration::zero());
    CHECK(config.validate().empty());
}

TEST_CASE("breaker does not open before the minimum number of calls") {
    circuit_breaker breaker(small_config());
    for (int i = 0; i < 9; ++i) call(breaker, at(seconds{1}), true);
    CHECK(breaker.state(at(seconds{1})) == breaker_state::closed);
    CHECK(breaker.metrics(at(seconds{1})).failure_rate_percent == -1);
}

TEST_CASE("breaker opens on the call that crosses the threshold") {
    circuit_breaker breaker(small_config());
    for (int i = 0; i < 5; ++i) call(breaker, at(seconds{1}), true);
    for (int i = 0; i < 4; ++i) call(breaker, at(seconds{1}), false);
    CHECK(breaker.current_state() == breaker_state::closed);
    call(breaker, at(seconds{1}), false);  // the 10th call: 5 of 10 failed = 50 %
    CHECK(breaker.current_state() == breaker_state::open);
    CHECK_FALSE(breaker.try_acquire(at(seconds{1})));
}

TEST_CASE("breaker stays closed below the threshold while the window slides") {
    circuit_breaker breaker(small_config());
    // A repeating pattern of 4 failures in every 10 calls: 40 % in any window.
    for (int i = 0; i < 100; ++i) call(breaker, at(seconds{1}), i % 10 < 4);
    CHECK(breaker.current_state() == breaker_state::closed);
    CHECK(breaker.metrics(at(seconds{1})).failure_rate_percent == 40);
}

TEST_CASE("count-based window forgets the oldest call") {
    circuit_breaker breaker(small_config());
    for (int i = 0; i < 4; ++i) call(breaker, at(seconds{1}), true);
    for (int i = 0; i < 10; ++i) call(breaker, at(seconds{1}), false);
    CHECK(breaker.metrics(at(seconds{1})).failed_calls == 0);
    for (int i = 0; i < 4; ++i) call(breaker, at(seconds{1}), true);
    CHECK(breaker.current_state() == breaker_state::closed);
    call(breaker, at(seconds{1}), true);
    CHECK(breaker.current_state() == breaker_state::open);
}

TEST_CASE("minimum number of calls is capped at the count-based window size") {
    auto config = small_config();
    config.sliding_window_size_calls = 4;
    config.minimum_number_of_calls = 100;
    circuit_breaker breaker(config);
    for (int i = 0; i < 3; ++i) call(breaker, at(seconds{1}), true);
    CHECK(breaker.current_state() == breaker_state::closed);
    call(breaker, at(seconds{1}), true);
    CHECK(breaker.current_state() == breaker_state::open);
}

TEST_CASE("slow calls open the breaker at the slow call rate threshold") {
    auto config = small_config();
    config.slow_call_duration_threshold = seconds{1};
    config.slow_call_rate_threshold_percent = 30;
    circuit_breaker breaker(config);
    // Exactly the threshold is not slow; strictly longer is.
    for (int i = 0; i < 7; ++i) call(breaker, at(seconds{1}), false, seconds{1});
    for (int i = 0; i < 2; ++i) call(breaker, at(seconds{1}), false, seconds{2});
    CHECK(breaker.current_state() == breaker_state::closed);
    call(breaker, at(seconds{1}), false, seconds{2});
    CHECK(breaker.current_state() == breaker_state::open);
}

TEST_CASE("time-based window counts only the calls of the last N seconds") {
    auto config = small_config();
    config.window_type = sliding_window_type::time_based;
    config.sliding_window_size_seconds = 10;
    config.minimum_number_of_calls = 4;
    circuit_breaker breaker(config);
    for (int i = 0; i < 3; ++i) call(breaker, at(seconds{0}), true);
    CHECK(breaker.metrics(at(seconds{9})).buffered_calls == 3);
    CHECK(breaker.metrics(at(seconds{10})).buffered_calls == 0);
    call(breaker, at(seconds{10}), true);  // the three of second 0 are gone: 1 call only
    CHECK(breaker.current_state() == breaker_state::closed);
    for (int i = 0; i < 3; ++i) call(breaker, at(milliseconds{10'500}), i == 0);
    // Second 10 and 10.5: 4 calls, 2 failed = 50 %.
    CHECK(breaker.current_state() == breaker_state::open);
}

TEST_CASE("an OPEN breaker admits no call before its wait ends and the first call after moves it to HALF_OPEN") {
    circuit_breaker breaker(small_config());
    open_breaker(breaker, at(seconds{1}));
    CHECK(breaker.open_until() == at(seconds{11}));
    CHECK_FALSE(breaker.try_acquire(at(seconds{11}) - sim::nanoseconds{1}));
    // Without automatic transition nothing moves until a call comes.
    CHECK(breaker.state(at(seconds{20})) == breaker_state::open);
    CHECK(breaker.next_transition_time() == sim::time_never);
    CHECK(breaker.try_acquire(at(seconds{20})));
    CHECK(breaker.current_state() == breaker_state::half_open);
    CHECK(breaker.metrics(at(seconds{20})).not_permitted_calls == 1);
}

TEST_CASE("half-open admits exactly the permitted calls") {
    circuit_breaker breaker(small_config());
    open_breaker(breaker, at(seconds{0}));
    CHECK(breaker.try_acquire(at(seconds{10})));
    CHECK(breaker.try_acquire(at(seconds{10})));
    CHECK(breaker.try_acquire(at(seconds{10})));
    CHECK_FALSE(breaker.try_acquire(at(seconds{10})));
    // A permit given back by a call that did not run can be used again.
    breaker.release_permission(at(seconds{10}));
    CHECK(breaker.try_acquire(at(seconds{10})));
    CHECK_FALSE(breaker.try_acquire(at(seconds{10})));
}

TEST_CASE("half-open decides only when every permitted call has reported") {
    circuit_breaker breaker(small_config());
    open_breaker(breaker, at(seconds{0}));
    for (int i = 0; i < 3; ++i) REQUIRE(breaker.try_acquire(at(seconds{10})));
    breaker.on_result(at(seconds{10}), milliseconds{5}, true);
    breaker.on_result(at(seconds{10}), milliseconds{5}, false);
    CHECK(breaker.current_state() == breaker_state::half_open);
    breaker.on_result(at(seconds{10}), milliseconds{5}, false);  // 1 of 3 failed: 33 %
    CHECK(breaker.current_state() == breaker_state::closed);
}

TEST_CASE("half-open reopens when the permitted calls fail at the threshold") {
    circuit_breaker breaker(small_config());
    open_breaker(breaker, at(seconds{0}));
    for (int i = 0; i < 3; ++i) REQUIRE(breaker.try_acquire(at(seconds{10})));
    breaker.on_result(at(seconds{10}), milliseconds{5}, true);
    breaker.on_result(at(seconds{10}), milliseconds{5}, true);
    breaker.on_result(at(seconds{10}), milliseconds{5}, false);  // 2 of 3 failed: 67 %
    CHECK(breaker.current_state() == breaker_state::open);
    CHECK(breaker.open_until() == at(seconds{20}));
}

TEST_CASE("open wait grows with each consecutive opening up to its maximum") {
    auto config = small_config();
    config.wait_duration_in_open_state_multiplier = 2.0;
    config.max_wait_duration_in_open_state = seconds{30};
    config.permitted_number_of_calls_in_half_open_state = 1;
    circuit_breaker breaker(config);
    open_breaker(breaker, at(seconds{0}));
    sim::time_point now = at(seconds{0});
    for (const auto expected_wait : {seconds{10}, seconds{20}, seconds{30}, seconds{30}}) {
        CHECK(breaker.open_until() - now == expected_wait);
        now = breaker.open_until();
        call(breaker, now, true);  // the one half-open call fails: open again
        REQUIRE(breaker.current_state() == breaker_state::open);
    }
    now = breaker.open_until();
    call(breaker, now, false);
    REQUIRE(breaker.current_state() == breaker_state::closed);
    open_breaker(breaker, now);
    CHECK(breaker.open_until() - now == seconds{10});  // closing forgot the growth
}

TEST_CASE("automatic transition: the caller ticks at next_transition_time") {
    auto config = small_config();
    config.automatic_transition_from_open_to_half_open = true;
    circuit_breaker breaker(config);
    open_breaker(breaker, at(seconds{1}));
    CHECK(breaker.next_transition_time() == at(seconds{11}));
    breaker.tick(at(seconds{11}) - sim::nanoseconds{1});
    CHECK(breaker.current_state() == breaker_state::open);
    breaker.tick(at(seconds{11}));
    CHECK(breaker.current_state() == breaker_state::half_open);
    CHECK(breaker.next_transition_time() == sim::time_never);
}

TEST_CASE("max wait in half-open sends the breaker back to OPEN") {
    auto config = small_config();
    config.max_wait_duration_in_half_open_state = seconds{5};
    circuit_breaker breaker(config);
    open_breaker(breaker, at(seconds{0}));
    REQUIRE(breaker.try_acquire(at(seconds{10})));
    CHECK(breaker.next_transition_time() == at(seconds{15}));
    CHECK(breaker.state(at(seconds{14})) == breaker_state::half_open);
    CHECK(breaker.state(at(seconds{15})) == breaker_state::open);
    CHECK(breaker.open_until() == at(seconds{25}));
}

TEST_CASE("forced open rejects every call, disabled admits every call and never opens") {
    circuit_breaker breaker(small_config());
    breaker.transition_to_forced_open(at(seconds{0}));
    CHECK_FALSE(breaker.try_acquire(at(sim::hours{1000})));
    breaker.transition_to_disabled(at(seconds{0}));
    for (int i = 0; i < 50; ++i) call(breaker, at(seconds{1}), true);
    CHECK(breaker.current_state() == breaker_state::disabled);
}

TEST_CASE("metrics-only records calls but never transitions") {
    circuit_breaker breaker(small_config());
    breaker.transition_to_metrics_only(at(seconds{0}));
    for (int i = 0; i < 20; ++i) call(breaker, at(seconds{1}), true);
    CHECK(breaker.current_state() == breaker_state::metrics_only);
    CHECK(breaker.metrics(at(seconds{1})).failure_rate_percent == 100);
}

TEST_CASE("outcomes that never reached the remote do not count") {
    circuit_breaker breaker(small_config());
    for (int i = 0; i < 20; ++i) {
        REQUIRE(breaker.try_acquire(at(seconds{1})));
        breaker.on_result(at(seconds{1}), milliseconds{1}, outcome::of(outcome_kind::bulkhead_full));
    }
    CHECK(breaker.metrics(at(seconds{1})).buffered_calls == 0);
    for (int i = 0; i < 10; ++i) {
        REQUIRE(breaker.try_acquire(at(seconds{1})));
        breaker.on_result(at(seconds{1}), milliseconds{1}, outcome::http(503));
    }
    CHECK(breaker.current_state() == breaker_state::open);
}

TEST_CASE("the listener sees every transition in order") {
    std::vector<transition> seen;
    auto config = small_config();
    config.permitted_number_of_calls_in_half_open_state = 1;
    circuit_breaker breaker(config, [&](sim::time_point t, breaker_state from, breaker_state to) {
        seen.push_back({t, from, to});
    });
    open_breaker(breaker, at(seconds{1}));
    call(breaker, at(seconds{11}), false);
    breaker.reset(at(seconds{12}));  // already closed: no transition
    const std::vector<transition> expected{
        {at(seconds{1}), breaker_state::closed, breaker_state::open},
        {at(seconds{11}), breaker_state::open, breaker_state::half_open},
        {at(seconds{11}), breaker_state::half_open, breaker_state::closed},
    };
    CHECK(seen == expected);
}

TEST_CASE("circuit breaker config validation names the bad parameter") {
    auto config = small_config();
    config.failure_rate_threshold_percent = 120;
    config.permitted_number_of_calls_in_half_open_state = 0;
    config.max_wait_duration_in_open_state = seconds{1};
    const auto errors = config.validate();
    REQUIRE(errors.size() == 3);
    CHECK(errors[0] == "failure_rate_threshold_percent must be in (0, 100], got 120");
    CHECK(errors[1] == "max_wait_duration_in_open_state must be >= wait_duration_in_open_state, got 1s");
    CHECK(errors[2] == "permitted_number_of_calls_in_half_open_state must be >= 1, got 0");
}

TEST_CASE("circuit breaker properties") {
    rc::prop("an OPEN breaker admits no call before its wait ends", [] {
        auto config = small_config();
        config.minimum_number_of_calls = *rc::gen::inRange<std::uint32_t>(1, 12);
        config.wait_duration_in_open_state = milliseconds{*rc::gen::inRange(1, 5000)};
        config.wait_duration_in_open_state_multiplier = *rc::gen::element(1.0, 1.5, 2.0);
        config.automatic_transition_from_open_to_half_open = *rc::gen::arbitrary<bool>();
        sim::time_point opened_at = sim::time_never;
        std::uint32_t half_open_admitted = 0;
        circuit_breaker breaker(config, [&](sim::time_point t, breaker_state, breaker_state to) {
            if (to == breaker_state::open) opened_at = t;
            if (to == breaker_state::half_open) half_open_admitted = 0;
        });
        const auto steps = *rc::gen::container<std::vector<std::tuple<int, bool, bool>>>(
            rc::gen::tuple(rc::gen::inRange(0, 2000), rc::gen::arbitrary<bool>(), rc::gen::arbitrary<bool>()));
        sim::time_point now = sim::time_zero;
        for (const auto& [gap_ms, failure, report] : steps) {
            now += milliseconds{gap_ms};
            const auto before = breaker.current_state();
            const auto until = breaker.open_until();
            if (before == breaker_state::open) {
                RC_ASSERT(until - opened_at >= config.wait_duration_in_open_state);
            }
            const bool admitted = breaker.try_acquire(now);
            if (before == breaker_state::open && now < until) RC_ASSERT(!admitted);
            if (admitted && breaker.current_state() == breaker_state::half_open) {
                ++half_open_admitted;
                RC_ASSERT(half_open_admitted <= config.permitted_number_of_calls_in_half_open_state);
            }
            if (admitted && report) breaker.on_result(now, milliseconds{1}, failure);
        }
    });
}
