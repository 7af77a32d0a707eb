// The request spans of a run, read from its rpc_attempt (client side) and rpc_serve
// (server side) events, and the bounded, deterministic sample of them that trace.json
// and otlp.json both draw: the same traces appear in Perfetto and in Jaeger.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshsim::report {

enum class span_side { client, server };

struct rpc_span {
    span_side side = span_side::client;
    std::string node;                // the node that recorded it: the caller (client) or the server
    std::string peer;                // the callee (client; "-" if never sent) or the caller (server)
    std::string trace;               // 32 hex
    std::string span;                // 16 hex
    std::string parent;              // 16 hex, "" for a root
    std::int64_t start_ns = 0;       // client: attempt sent; server: request arrived
    std::int64_t work_start_ns = 0;  // server: handler started (= start_ns when it never ran)
    std::int64_t end_ns = 0;         // client: attempt ended as the caller saw it; server: response sent
    std::string method, path;
    std::string outcome;       // client: svc::outcome_kind name; server: "ok" or "error"
    std::string reason;        // "-" / "ok" / "handler" / the rejection reason
    std::string correlation;   // "-" if none
    std::int64_t status = 0;   // 0: no response
    std::int64_t attempt = 0;  // client: 1-based
    bool failed() const;
};

// The span an rpc_attempt or rpc_serve event describes; nullopt for other kinds and
// for events without usable ids (a span must have a 32-hex trace and a 16-hex span).
std::optional<rpc_span> span_from_event(const nlohmann::json& event);

bool is_hex_id(const std::string& text, std::size_t digits);

// Keeps every span of the first `first_traces` traces seen, then of the traces whose
// id hashes under a threshold that halves whenever more than `max_spans` spans are
// kept (dropping the traces above it): a uniform, deterministic sample of whole traces
// over the whole run, in bounded memory.
class span_sample {
public:
    struct limits {
        std::size_t max_spans = 10'000;
        std::size_t first_traces = 100;
    };
    span_sample() : span_sample(limits{}) {}
    explicit span_sample(limits l) : limits_(l) {}

    void add(rpc_span span);

    // The kept spans in the order they were recorded, each a root or the child of a
    // kept span (a span whose parent was not recorded or not kept is left out).
    std::vector<const rpc_span*> connected() const;

    std::uint64_t seen() const { return seen_; }
    std::uint64_t kept() const { return spans_.size(); }
    // About 1 in how many traces (after the first ones) the sample keeps; 0: none.
    std::uint64_t one_in() const;
    const limits& sample_limits() const { return limits_; }

private:
    static std::uint64_t trace_hash(const std::string& trace);
    void shrink();

    limits limits_;
    std::uint64_t threshold_ = UINT64_MAX;  // a trace whose hash is below it is kept
    int halvings_ = 0;
    std::uint64_t seen_ = 0;
    std::set<std::string> first_;  // the first traces: always kept
    std::vector<rpc_span> spans_;
};

// Which service each node belongs to, from summary.json: "<service>-<i>" instances
// (services.<name>.instances when the summary lists them); any other node (a
// workload's client, "client-<workload>") is a service of its own.
class node_directory {
public:
    explicit node_directory(const nlohmann::json& summary);
    std::string service_of(const std::string& node) const;
    const std::set<std::string>& services() const { return services_; }
    // Every instance the summary names, by service.
    const std::map<std::string, std::set<std::string>>& instances() const { return instances_; }

private:
    std::set<std::string> services_;
    std::map<std::string, std::string> owner_;  // node -> service, as the summary lists them
    std::map<std::string, std::set<std::string>> instances_;
};

// A field of a JSON object as an integer or a string, or `fallback` when it is absent
// or of another type: the builders read recorded files, which may be anything.
std::int64_t int_value(const nlohmann::json& object, const char* key, std::int64_t fallback);
std::string text_value(const nlohmann::json& object, const char* key, const std::string& fallback);

// The run's labels every report carries: scenario, seed, trace hash, verdict, reproduce.
nlohmann::json run_labels(const nlohmann::json& summary);

}  // namespace meshsim::report
