// The IDs a call carries, made here and nowhere else: correlation IDs (every call
// and log line of one request shares one; a request that enters the mesh without
// one gets one) and generated idempotency keys. Each kind draws from its own named
// stream of the node's process, so making one never shifts another draw.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "sim/runtime.hpp"

namespace meshsim::svc {

// A fresh correlation ID: 16 lowercase hex digits.
std::string new_correlation_id(sim::runtime& rt);

// A fresh idempotency key, for calls that ask for one: 16 lowercase hex digits.
std::string new_idempotency_key(sim::runtime& rt);

// W3C Trace Context: a trace (32 hex) and one span of it (16 hex). A call's attempts
// are client spans; a server answering one opens a server span, child of the attempt;
// calls its handler makes are children of the server span. Ids are drawn from the
// node process's seeded streams ("svc/trace-id", "svc/span-id"): the same for a seed.
struct span_context {
    std::array<char, 32> trace{};  // all '\0' while there is no trace
    std::array<char, 16> span{};   // all '\0' for "no span" (a root call's parent)

    bool has_trace() const { return trace[0] != '\0'; }
    bool has_span() const { return span[0] != '\0'; }
    std::string_view trace_id() const { return has_trace() ? std::string_view(trace.data(), trace.size()) : ""; }
    std::string_view span_id() const { return has_span() ? std::string_view(span.data(), span.size()) : ""; }
    // "00-<trace>-<span>-01" (the traceparent header); a missing span is written as 16 zeros.
    // As a fixed array, since every RPC attempt writes one (55 characters: no short string).
    static constexpr std::size_t traceparent_size = 55;
    std::array<char, traceparent_size> traceparent_chars() const;
    std::string traceparent() const {
        const auto chars = traceparent_chars();
        return std::string(chars.data(), chars.size());
    }
    // A traceparent header's context, or nothing when it is not one (version 00, lowercase
    // hex, a trace that is not all zeros). A span of all zeros reads as no span.
    static std::optional<span_context> parse(std::string_view traceparent);
};

// The streams span ids are drawn from, looked up once (per request is the hot path).
struct span_id_streams {
    explicit span_id_streams(sim::runtime& rt);
    sim::random_stream* trace;
    sim::random_stream* span;
};

// A context with a fresh trace and no span (a root call's parent).
span_context new_trace(const span_id_streams& ids);
// `parent`'s trace with a fresh span (a child of parent's span).
span_context new_child_span(const span_id_streams& ids, const span_context& parent);

}  // namespace meshsim::svc
