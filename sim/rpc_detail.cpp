#include "sim/rpc_detail.hpp"

#include <algorithm>
#include <charconv>

namespace meshsim::sim {

namespace {

// One space-separated token: "-" when empty; a space or '%' inside is written
// %20 or %25, so that only the last field (the path) may hold spaces.
void append_detail_token(std::string& out, std::string_view text) {
    if (text.empty()) {
        out += '-';
        return;
    }
    // A loop, not find_first_of(" %"): that is a memchr per character, twice per RPC.
    if (std::none_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '%'; })) {
        out += text;
        return;
    }
    for (const char c : text) {
        if (c == ' ') {
            out += "%20";
        } else if (c == '%') {
            out += "%25";
        } else {
            out += c;
        }
    }
}

void append_or_dash(std::string& out, std::string_view text) {
    if (text.empty()) {
        out += '-';
    } else {
        out += text;
    }
}

void append_ns(std::string& out, std::int64_t ns) {
    char digits[20];  // 9,223,372,036,854,775,807 has 19
    const auto end = std::to_chars(digits, digits + sizeof digits, std::max<std::int64_t>(0, ns)).ptr;
    out.append(digits, end);
}

// The fields both events end with: " <trace> <span> <parent> <METHOD> <path>".
template <typename Record>
void append_span_and_route(std::string& out, const Record& r) {
    out += ' ';
    append_or_dash(out, r.trace_id);
    out += ' ';
    append_or_dash(out, r.span_id);
    out += ' ';
    append_or_dash(out, r.parent_span_id);
    out += ' ';
    append_detail_token(out, r.method);
    out += ' ';
    out += r.path;
}

}  // namespace

void append_attempt_detail(std::string& out, const attempt_record& attempt, std::string_view to_name,
                           std::int64_t sent_ns) {
    out += attempt.outcome;
    out += ' ';
    append_or_dash(out, attempt.reason);
    out += ' ';
    append_detail_token(out, attempt.correlation_id);
    out += ' ';
    append_detail_token(out, to_name);
    out += ' ';
    append_ns(out, sent_ns);
    append_span_and_route(out, attempt);
}

void append_serve_detail(std::string& out, const serve_record& served, std::string_view from_name,
                         std::int64_t arrived_ns, std::int64_t started_ns) {
    append_or_dash(out, served.reason);
    out += ' ';
    append_detail_token(out, served.correlation_id);
    out += ' ';
    append_detail_token(out, from_name);
    out += ' ';
    append_ns(out, arrived_ns);
    out += ' ';
    append_ns(out, started_ns);
    append_span_and_route(out, served);
}

}  // namespace meshsim::sim
