#include "services/platform/ids.hpp"

#include <algorithm>
#include <cstdint>
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

// Every RPC parses a traceparent: plain loops (find_first_not_of runs a memchr per
// character) without an early exit, so the compiler checks many characters at once.
bool is_lower_hex(std::string_view text) {
    bool ok = true;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
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

std::string span_context::traceparent() const {
    std::string out = "00-";
    out.append(trace.data(), trace.size());
    out += '-';
    if (has_span()) {
        out.append(span.data(), span.size());
    } else {
        out.append(16, '0');
    }
    out += "-01";
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
