#include "services/platform/ids.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace meshsim::svc {

namespace {
constexpr char hex_digits[] = "0123456789abcdef";

// v as 16 lowercase hex digits, zero-padded (as "%016llx", without printf's cost:
// every request draws a correlation id).
void write_hex16(std::uint64_t v, char* out) {
    for (int i = 15; i >= 0; --i) {
        out[i] = hex_digits[v & 0xf];
        v >>= 4;
    }
}

std::string hex_id(sim::runtime& rt, std::string_view stream) {
    std::string text(16, '0');
    write_hex16(rt.random(stream).next_u64(), text.data());
    return text;
}
}  // namespace

std::string new_correlation_id(sim::runtime& rt) { return hex_id(rt, "svc/correlation-id"); }

std::string new_idempotency_key(sim::runtime& rt) { return hex_id(rt, "svc/idempotency-key"); }

namespace {
// 16 hex digits of a non-zero draw (W3C: an all-zero id is invalid).
void write_hex(sim::random_stream& stream, char* out) {
    std::uint64_t v = 0;
    while (v == 0) v = stream.next_u64();
    write_hex16(v, out);
}

// Every RPC parses a traceparent twice (client and server), so the hex check reads
// eight characters at a time (SWAR). With every byte below 0x80, adding (0x80 - lo)
// to a byte sets its high bit exactly when it is >= lo, and adding (0x7f - hi)
// exactly when it is > hi; no sum carries into the next byte. (A byte loop compiled
// to about 400 instructions per traceparent; find_first_not_of runs a memchr per
// character.)
constexpr std::uint64_t byte_ones = 0x0101010101010101ull;
constexpr std::uint64_t byte_highs = 0x8080808080808080ull;

std::uint64_t bytes_in_range(std::uint64_t x, std::uint64_t lo, std::uint64_t hi) {
    return (x + (0x80 - lo) * byte_ones) & ~(x + (0x7f - hi) * byte_ones) & byte_highs;
}

bool is_lower_hex_word(std::uint64_t x) {
    return (x & byte_highs) == 0 && (bytes_in_range(x, '0', '9') | bytes_in_range(x, 'a', 'f')) == byte_highs;
}

bool is_lower_hex(std::string_view text) {
    bool ok = true;
    std::size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, text.data() + i, sizeof word);
        ok &= is_lower_hex_word(word);
    }
    for (; i < text.size(); ++i) {
        const auto u = static_cast<unsigned char>(text[i]);
        ok &= (static_cast<unsigned>(u - '0') < 10u) | (static_cast<unsigned>(u - 'a') < 6u);
    }
    return ok;
}
bool all_zeros(std::string_view text) {
    unsigned char diff = 0;
    for (const char c : text) diff |= static_cast<unsigned char>(c ^ '0');
    return diff == 0;
}
}  // namespace

std::array<char, span_context::traceparent_size> span_context::traceparent_chars() const {
    std::array<char, traceparent_size> out{};
    char* at = std::copy_n("00-", 3, out.data());
    at = std::copy(trace.begin(), trace.end(), at);
    *at++ = '-';
    at = has_span() ? std::copy(span.begin(), span.end(), at) : std::fill_n(at, span.size(), '0');
    std::copy_n("-01", 3, at);
    return out;
}

std::optional<span_context> span_context::parse(std::string_view text) {
    // 00-<32 hex>-<16 hex>-<2 hex>
    if (text.size() != 55 || text.substr(0, 3) != "00-" || text[35] != '-' || text[52] != '-') return std::nullopt;
    const std::string_view trace = text.substr(3, 32), span = text.substr(36, 16), flags = text.substr(53, 2);
    if (!is_lower_hex(trace) || !is_lower_hex(span) || !is_lower_hex(flags) || all_zeros(trace)) return std::nullopt;
    span_context c;
    std::copy(trace.begin(), trace.end(), c.trace.begin());
    if (!all_zeros(span)) std::copy(span.begin(), span.end(), c.span.begin());
    return c;
}

span_id_streams::span_id_streams(sim::runtime& rt)
    : trace(&rt.random("svc/trace-id")), span(&rt.random("svc/span-id")) {}

span_context new_trace(const span_id_streams& ids) {
    span_context c;
    write_hex(*ids.trace, c.trace.data());
    write_hex(*ids.trace, c.trace.data() + 16);
    return c;
}

span_context new_child_span(const span_id_streams& ids, const span_context& parent) {
    span_context c;
    c.trace = parent.trace;
    write_hex(*ids.span, c.span.data());
    return c;
}

}  // namespace meshsim::svc
