#include "sim/rpc_detail.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace meshsim::sim {

namespace {

constexpr std::size_t max_ns_digits = 19;  // 9,223,372,036,854,775,807

// Writes the fields at a cursor into a buffer sized beforehand for the worst case
// (every token character escaped), so no write checks for room.
class detail_writer {
public:
    // Room for `fixed` bytes written as they are, `tokens` bytes of tokens and `times` times.
    detail_writer(std::string& buffer, std::size_t fixed, std::size_t tokens, std::size_t times) {
        // 9 separators and at most 7 dashes for empty fields, with room to spare.
        const std::size_t bound = fixed + 3 * tokens + times * max_ns_digits + 32;
        if (buffer.size() < bound) buffer.resize(std::max(bound, 2 * buffer.size()));
        begin_ = buffer.data();
        at_ = begin_;
    }

    void space() { *at_++ = ' '; }

    void raw(std::string_view text) {
        std::memcpy(at_, text.data(), text.size());
        at_ += text.size();
    }

    // A field written as it is ("-" when empty): names and ids the simulation makes.
    void or_dash(std::string_view text) {
        if (text.empty()) {
            *at_++ = '-';
        } else {
            raw(text);
        }
    }

    // A token that may hold anything: "-" when empty, ' ' and '%' escaped.
    void token(std::string_view text) {
        if (text.empty()) {
            *at_++ = '-';
            return;
        }
        // A loop, not find_first_of(" %"): that is a memchr per character, twice per RPC.
        if (std::none_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '%'; })) {
            raw(text);
            return;
        }
        for (const char c : text) {
            if (c == ' ') {
                raw("%20");
            } else if (c == '%') {
                raw("%25");
            } else {
                *at_++ = c;
            }
        }
    }

    void ns(std::int64_t v) { at_ = std::to_chars(at_, at_ + max_ns_digits, std::max<std::int64_t>(0, v)).ptr; }

    // " <trace> <span> <parent> <METHOD> <path>": how both events end.
    template <typename Record>
    void span_and_route(const Record& r) {
        space();
        or_dash(r.trace_id);
        space();
        or_dash(r.span_id);
        space();
        or_dash(r.parent_span_id);
        space();
        token(r.method);
        space();
        raw(r.path);
    }

    std::string_view written() const { return {begin_, static_cast<std::size_t>(at_ - begin_)}; }

private:
    char* begin_;
    char* at_;
};

template <typename Record>
std::size_t span_and_route_bytes(const Record& r) {
    return r.trace_id.size() + r.span_id.size() + r.parent_span_id.size() + r.path.size();
}

}  // namespace

std::string_view write_attempt_detail(std::string& buffer, const attempt_record& attempt, std::string_view to_name,
                                      std::int64_t sent_ns) {
    detail_writer w(buffer, attempt.outcome.size() + attempt.reason.size() + span_and_route_bytes(attempt),
                    attempt.correlation_id.size() + to_name.size() + attempt.method.size(), 1);
    w.raw(attempt.outcome);
    w.space();
    w.or_dash(attempt.reason);
    w.space();
    w.token(attempt.correlation_id);
    w.space();
    w.token(to_name);
    w.space();
    w.ns(sent_ns);
    w.span_and_route(attempt);
    return w.written();
}

std::string_view write_serve_detail(std::string& buffer, const serve_record& served, std::string_view from_name,
                                    std::int64_t arrived_ns, std::int64_t started_ns) {
    detail_writer w(buffer, served.reason.size() + span_and_route_bytes(served),
                    served.correlation_id.size() + from_name.size() + served.method.size(), 2);
    w.or_dash(served.reason);
    w.space();
    w.token(served.correlation_id);
    w.space();
    w.token(from_name);
    w.space();
    w.ns(arrived_ns);
    w.space();
    w.ns(started_ns);
    w.span_and_route(served);
    return w.written();
}

}  // namespace meshsim::sim
