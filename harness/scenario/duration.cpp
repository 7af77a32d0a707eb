#include "harness/scenario/duration.hpp"

#include <array>
#include <cstdint>

#include "harness/scenario/diagnostics.hpp"

namespace meshsim::harness {

namespace {

struct unit {
    std::string_view name;
    // nanoseconds = mantissa * 10^exponent; keeps fractional parts exact.
    std::int64_t mantissa;
    int exponent;
    int rank;  // larger unit, larger rank: combinations must go down
};

// Longest names first so "ms" and "min" are not read as "m".
constexpr std::array<unit, 7> units{{{"min", 6, 10, 5},
                                     {"ms", 1, 6, 2},
                                     {"ns", 1, 0, 0},
                                     {"us", 1, 3, 1},
                                     {"h", 36, 11, 6},
                                     {"m", 6, 10, 5},
                                     {"s", 1, 9, 3}}};

constexpr std::string_view unit_list = "ns, us, ms, s, m (or min) or h";
constexpr std::string_view example = "\"250ms\"";

// Unit names people write that are not ours, for "did you mean".
std::optional<std::string_view> unit_for_alias(std::string_view name) {
    struct alias {
        std::string_view name;
        std::string_view unit;
    };
    static constexpr alias aliases[] = {{"nsec", "ns"},      {"nanos", "ns"},   {"usec", "us"},     {"\xC2\xB5s", "us"},
                                        {"\xCE\xBCs", "us"}, {"micros", "us"},  {"msec", "ms"},     {"millis", "ms"},
                                        {"sec", "s"},        {"secs", "s"},     {"second", "s"},    {"seconds", "s"},
                                        {"mins", "min"},     {"minute", "min"}, {"minutes", "min"}, {"hr", "h"},
                                        {"hrs", "h"},        {"hour", "h"},     {"hours", "h"},     {"S", "s"},
                                        {"MS", "ms"},        {"Ms", "ms"},      {"H", "h"},         {"M", "m"},
                                        {"NS", "ns"},        {"US", "us"}};
    for (const alias& a : aliases) {
        if (a.name == name) return a.unit;
    }
    return std::nullopt;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool checked_multiply(std::int64_t a, std::int64_t b, std::int64_t& out) { return !__builtin_mul_overflow(a, b, &out); }
bool checked_add(std::int64_t a, std::int64_t b, std::int64_t& out) { return !__builtin_add_overflow(a, b, &out); }

std::int64_t power_of_ten(int exponent) {
    std::int64_t result = 1;
    for (int i = 0; i < exponent; ++i) result *= 10;
    return result;
}

duration_parse_result failure(std::string message) { return {std::nullopt, std::move(message)}; }

}  // namespace

duration_parse_result parse_duration(std::string_view text) {
    const std::string shown = quote(text, 32);
    if (text.empty()) return failure("expected a duration like " + std::string(example) + ", got \"\"");
    if (text.front() == '-') return failure("durations cannot be negative, got " + shown);

    std::int64_t total_ns = 0;
    int previous_rank = 100;
    std::string_view rest = text;
    while (!rest.empty()) {
        // number: digits, optionally '.' and more digits
        std::size_t i = 0;
        while (i < rest.size() && is_digit(rest[i])) ++i;
        const std::string_view whole = rest.substr(0, i);
        std::string_view fraction;
        if (i < rest.size() && rest[i] == '.') {
            const std::size_t fraction_start = ++i;
            while (i < rest.size() && is_digit(rest[i])) ++i;
            fraction = rest.substr(fraction_start, i - fraction_start);
        }
        if (whole.empty() && fraction.empty()) {
            return failure("expected a duration like " + std::string(example) + ", got " + shown);
        }
        rest.remove_prefix(i);

        // unit: the letters up to the next digit
        std::size_t unit_length = 0;
        while (unit_length < rest.size() && !is_digit(rest[unit_length]) && rest[unit_length] != '.') ++unit_length;
        const std::string_view unit_name = rest.substr(0, unit_length);
        if (unit_name.empty()) {
            return failure("durations need a unit, e.g. " + std::string(example) + "; got " + shown);
        }
        if (unit_name.find_first_of(" \t") != std::string_view::npos) {
            return failure("durations cannot contain spaces, got " + shown);
        }
        const unit* found = nullptr;
        for (const unit& u : units) {
            if (u.name == unit_name) found = &u;
        }
        if (found == nullptr) {
            std::string message = "unknown duration unit " + quote(unit_name, 16) + " in " + shown;
            if (const auto suggestion = unit_for_alias(unit_name)) {
                message += " (did you mean \"" + std::string(*suggestion) + "\"?)";
            }
            return failure(message + "; units are " + std::string(unit_list));
        }
        if (found->rank >= previous_rank) {
            return failure("units in a duration must go from largest to smallest, each at most once, got " + shown);
        }
        previous_rank = found->rank;
        rest.remove_prefix(unit_length);

        // whole * unit, exactly
        const std::string too_large =
            "duration " + shown + " is longer than the limit of " + std::string(max_duration_text);
        std::int64_t whole_value = 0;
        for (const char c : whole) {
            if (!checked_multiply(whole_value, 10, whole_value) || !checked_add(whole_value, c - '0', whole_value)) {
                return failure(too_large);
            }
        }
        std::int64_t part_ns = 0;
        if (!checked_multiply(whole_value, found->mantissa, part_ns) ||
            !checked_multiply(part_ns, power_of_ten(found->exponent), part_ns)) {
            return failure(too_large);
        }

        // fraction * unit, which must come out a whole number of nanoseconds
        while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
        const std::string too_fine = "duration " + shown + " is finer than the 1ns resolution";
        // No unit (at most 36 * 10^11 ns) gives whole nanoseconds from more decimals.
        if (fraction.size() > 13) return failure(too_fine);
        if (!fraction.empty()) {
            std::int64_t digits = 0;
            for (const char c : fraction) digits = digits * 10 + (c - '0');  // < 10^13: no overflow
            std::int64_t scaled = digits * found->mantissa;                  // < 4 * 10^14
            const int shift = found->exponent - static_cast<int>(fraction.size());
            if (shift >= 0) {
                scaled *= power_of_ten(shift);  // <= 36 * 10^11: no overflow
            } else {
                const std::int64_t divisor = power_of_ten(-shift);
                if (scaled % divisor != 0) return failure(too_fine);
                scaled /= divisor;
            }
            if (!checked_add(part_ns, scaled, part_ns)) return failure(too_large);
        }
        if (!checked_add(total_ns, part_ns, total_ns) || sim::duration{total_ns} > max_duration) {
            return failure(too_large);
        }
    }
    return {sim::duration{total_ns}, {}};
}

}  // namespace meshsim::harness
