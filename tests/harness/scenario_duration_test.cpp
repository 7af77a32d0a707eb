// Durations in scenario files: accepted forms, exact errors, and the round trip with
// sim::format_duration.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "harness/scenario/duration.hpp"

using meshsim::harness::parse_duration;
namespace sim = meshsim::sim;
using namespace std::chrono_literals;

namespace {
std::string error_of(std::string_view text) {
    const auto result = parse_duration(text);
    return result.value ? "parsed" : result.error;
}
}  // namespace

TEST_CASE("durations parse in every unit, with fractions and combinations", "[scenario][duration]") {
    struct example {
        std::string text;
        sim::duration expected;
    };
    const std::vector<example> table = {
        {"0s", 0ns},
        {"100ns", 100ns},
        {"20us", 20us},
        {"250ms", 250ms},
        {"2s", 2s},
        {"1.5s", 1500ms},
        {"0.25ms", 250us},
        {"1m", 1min},
        {"1min", 1min},
        {"1h", 1h},
        {"1m30s", 90s},
        {"1h2m3.5s", 3723500ms},
        {"2s500ms", 2500ms},
        {".5s", 500ms},
        {"1.s", 1s},
        {"1.500000000000000000000s", 1500ms},
        {"0.000000001s", 1ns},
        {"1.5us", 1500ns},
        {"0.5m", 30s},
        {"876000h", meshsim::harness::max_duration},
        {"3153600000000000000ns", meshsim::harness::max_duration},
        {"875999h59m59.999999999s", meshsim::harness::max_duration - 1ns},
        {"0.0000000000025h", 9ns},
    };
    for (const example& e : table) {
        INFO(e.text);
        const auto result = parse_duration(e.text);
        CHECK(result.error == "");
        CHECK(result.value == e.expected);
    }
}

TEST_CASE("bad durations get a clear error", "[scenario][duration]") {
    CHECK(error_of("250") == "durations need a unit, e.g. \"250ms\"; got \"250\"");
    CHECK(error_of("1.5") == "durations need a unit, e.g. \"250ms\"; got \"1.5\"");
    CHECK(error_of("1m30") == "durations need a unit, e.g. \"250ms\"; got \"1m30\"");
    CHECK(error_of("-5s") == "durations cannot be negative, got \"-5s\"");
    CHECK(error_of("") == "expected a duration like \"250ms\", got \"\"");
    CHECK(error_of("ms") == "expected a duration like \"250ms\", got \"ms\"");
    CHECK(error_of("fast") == "expected a duration like \"250ms\", got \"fast\"");
    CHECK(error_of("+5s") == "expected a duration like \"250ms\", got \"+5s\"");
    CHECK(error_of(".s") == "expected a duration like \"250ms\", got \".s\"");
    CHECK(error_of("5sec") ==
          "unknown duration unit \"sec\" in \"5sec\" (did you mean \"s\"?); units are ns, us, ms, s, m (or min) or h");
    CHECK(error_of("5 s") == "durations cannot contain spaces, got \"5 s\"");
    CHECK(error_of("2 minutes") == "durations cannot contain spaces, got \"2 minutes\"");
    CHECK(error_of("2minutes") ==
          "unknown duration unit \"minutes\" in \"2minutes\" (did you mean \"min\"?); units are ns, us, ms, s, m (or "
          "min) or h");
    CHECK(error_of("5d") == "unknown duration unit \"d\" in \"5d\"; units are ns, us, ms, s, m (or min) or h");
    CHECK(error_of("1s1m") == "units in a duration must go from largest to smallest, each at most once, got \"1s1m\"");
    CHECK(error_of("1s1s") == "units in a duration must go from largest to smallest, each at most once, got \"1s1s\"");
    CHECK(error_of("1m1min") ==
          "units in a duration must go from largest to smallest, each at most once, got \"1m1min\"");
    CHECK(error_of("0.5ns") == "duration \"0.5ns\" is finer than the 1ns resolution");
    CHECK(error_of("1.0000000001s") == "duration \"1.0000000001s\" is finer than the 1ns resolution");
    CHECK(error_of("1.0000000000001h") == "duration \"1.0000000000001h\" is finer than the 1ns resolution");
    // The documented maximum, 100 years: twice it still fits int64 nanoseconds (~292 years).
    CHECK(error_of("9223372036854775807ns") ==
          "duration \"9223372036854775807ns\" is longer than the limit of 876000h (100 years)");
    CHECK(error_of("9223372036854775808ns") ==
          "duration \"9223372036854775808ns\" is longer than the limit of 876000h (100 years)");
    CHECK(error_of("876000h1ns") == "duration \"876000h1ns\" is longer than the limit of 876000h (100 years)");
    CHECK(error_of("876001h") == "duration \"876001h\" is longer than the limit of 876000h (100 years)");
    CHECK(error_of("3153600000.000000001s") ==
          "duration \"3153600000.000000001s\" is longer than the limit of 876000h (100 years)");
    CHECK(error_of("300y") == "unknown duration unit \"y\" in \"300y\"; units are ns, us, ms, s, m (or min) or h");
    CHECK(error_of("2562048h") == "duration \"2562048h\" is longer than the limit of 876000h (100 years)");
    CHECK(error_of("2562047h48m") == "duration \"2562047h48m\" is longer than the limit of 876000h (100 years)");
    CHECK(error_of("99999999999999999999999999s") ==
          "duration \"99999999999999999999999999s\" is longer than the limit of 876000h (100 years)");
}

TEST_CASE("parse_duration inverts format_duration", "[scenario][duration][property]") {
    rc::prop("parse(format(d)) == d for every d up to the maximum", [] {
        const auto count = *rc::gen::oneOf(
            rc::gen::inRange<std::int64_t>(0, 1'000'000),
            rc::gen::inRange<std::int64_t>(0, meshsim::harness::max_duration.count() + 1),
            rc::gen::map(rc::gen::inRange<std::int64_t>(0, 100'000), [](std::int64_t n) { return n * 1'000'000; }),
            rc::gen::map(rc::gen::inRange<std::int64_t>(0, 100'000),
                         [](std::int64_t n) { return n * 60'000'000'000; }));
        const sim::duration d{count};
        const std::string text = sim::format_duration(d);
        const auto parsed = parse_duration(text);
        RC_ASSERT(parsed.error == "");
        RC_ASSERT(parsed.value == d);
    });
    rc::prop("never throws on arbitrary text", [](const std::string& text) {
        const auto parsed = parse_duration(text);
        RC_ASSERT(parsed.value.has_value() == parsed.error.empty());
    });
}
