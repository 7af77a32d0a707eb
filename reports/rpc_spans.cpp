#include "reports/rpc_spans.hpp"

#include <algorithm>

namespace meshsim::report {

namespace {

std::string text_field(const nlohmann::json& e, const char* key, const char* absent = "-") {
    const auto it = e.find(key);
    if (it == e.end() || !it->is_string()) return absent;
    return it->get<std::string>();
}

std::optional<std::int64_t> int_field(const nlohmann::json& e, const char* key) {
    const auto it = e.find(key);
    if (it == e.end()) return std::nullopt;
    if (it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX) return std::nullopt;
    if (it->is_number_integer()) return it->get<std::int64_t>();
    return std::nullopt;
}

}  // namespace

bool is_hex_id(const std::string& text, std::size_t digits) {
    if (text.size() != digits) return false;
    bool nonzero = false;
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        nonzero = nonzero || c != '0';
    }
    return nonzero;  // all zeroes is the invalid id of W3C trace context and OTLP
}

bool rpc_span::failed() const {
    if (side == span_side::client) return outcome != "ok";
    return reason != "ok" || status == 0 || status >= 500;
}

std::optional<rpc_span> span_from_event(const nlohmann::json& event) {
    if (!event.is_object()) return std::nullopt;
    const std::string kind = text_field(event, "kind", "");
    if (kind != "rpc_attempt" && kind != "rpc_serve") return std::nullopt;
    rpc_span s;
    s.side = kind == "rpc_attempt" ? span_side::client : span_side::server;
    s.node = text_field(event, "node");
    s.trace = text_field(event, "trace");
    s.span = text_field(event, "span");
    s.parent = text_field(event, "parent");
    if (!is_hex_id(s.trace, 32) || !is_hex_id(s.span, 16)) return std::nullopt;
    if (!is_hex_id(s.parent, 16)) s.parent.clear();
    const std::optional<std::int64_t> end = int_field(event, "t_ns");
    if (!end) return std::nullopt;
    s.end_ns = *end;
    const bool client = s.side == span_side::client;
    s.start_ns = std::min(s.end_ns, int_field(event, client ? "sent_ns" : "arrived_ns").value_or(s.end_ns));
    s.work_start_ns =
        client ? s.start_ns : std::clamp(int_field(event, "started_ns").value_or(s.start_ns), s.start_ns, s.end_ns);
    s.peer = text_field(event, client ? "to" : "from");
    s.method = text_field(event, "method");
    s.path = text_field(event, "path");
    s.reason = text_field(event, "reason");
    s.correlation = text_field(event, "correlation");
    s.status = int_field(event, "status").value_or(0);
    s.attempt = int_field(event, "attempt").value_or(0);
    s.outcome = client ? text_field(event, "outcome") : (s.failed() ? "error" : "ok");
    return s;
}

std::uint64_t span_sample::trace_hash(const std::string& trace) {
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a, then a splitmix64 finalizer
    for (const char c : trace) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

void span_sample::add(rpc_span span) {
    ++seen_;
    bool first = first_.count(span.trace) > 0;
    if (!first && first_.size() < limits_.first_traces) {
        first_.insert(span.trace);
        first = true;
    }
    if (!first && trace_hash(span.trace) >= threshold_) return;
    // The first traces are kept whole, but not without end (a trace that never stops).
    if (spans_.size() >= 2 * limits_.max_spans) return;
    spans_.push_back(std::move(span));
    if (spans_.size() > limits_.max_spans) shrink();
}

void span_sample::shrink() {
    while (spans_.size() > limits_.max_spans && threshold_ > 0) {
        threshold_ >>= 1;
        ++halvings_;
        std::erase_if(spans_, [this](const rpc_span& s) {
            return first_.count(s.trace) == 0 && trace_hash(s.trace) >= threshold_;
        });
    }
}

std::uint64_t span_sample::one_in() const { return halvings_ >= 63 ? 0 : std::uint64_t{1} << halvings_; }

std::vector<const rpc_span*> span_sample::connected() const {
    std::map<std::string, std::size_t> by_id;  // span id -> index; the first one wins
    for (std::size_t i = 0; i < spans_.size(); ++i) by_id.emplace(spans_[i].span, i);
    enum class state : unsigned char { unknown, visiting, yes, no };
    std::vector<state> known(spans_.size(), state::unknown);
    // Iterative: a chain of parents may be long.
    const auto resolve = [&](std::size_t start) {
        std::vector<std::size_t> chain;
        std::size_t i = start;
        state verdict = state::no;
        while (true) {
            if (known[i] == state::yes || known[i] == state::no) {
                verdict = known[i];
                break;
            }
            if (known[i] == state::visiting) break;  // a cycle: not connected
            known[i] = state::visiting;
            chain.push_back(i);
            const rpc_span& s = spans_[i];
            if (s.parent.empty()) {
                verdict = state::yes;
                break;
            }
            const auto p = by_id.find(s.parent);
            if (p == by_id.end() || spans_[p->second].trace != s.trace || p->second == i) break;
            i = p->second;
        }
        for (const std::size_t c : chain) known[c] = verdict;
    };
    std::vector<const rpc_span*> out;
    for (std::size_t i = 0; i < spans_.size(); ++i) {
        if (known[i] == state::unknown) resolve(i);
        if (known[i] == state::yes) out.push_back(&spans_[i]);
    }
    return out;
}

node_directory::node_directory(const nlohmann::json& summary) {
    const auto services = summary.find("services");
    if (services == summary.end() || !services->is_object()) return;
    for (const auto& [name, service] : services->items()) {
        services_.insert(name);
        instances_[name];
        if (!service.is_object()) continue;
        const auto instances = service.find("instances");
        if (instances == service.end() || !instances->is_object()) continue;
        for (const auto& [node, unused] : instances->items()) {
            owner_.emplace(node, name);
            instances_[name].insert(node);
        }
    }
}

std::string node_directory::service_of(const std::string& node) const {
    if (const auto it = owner_.find(node); it != owner_.end()) return it->second;
    const std::size_t dash = node.rfind('-');
    if (dash != std::string::npos && dash > 0 && dash + 1 < node.size() &&
        node.find_first_not_of("0123456789", dash + 1) == std::string::npos &&
        services_.count(node.substr(0, dash)) > 0) {
        return node.substr(0, dash);
    }
    return node;
}

std::int64_t int_value(const nlohmann::json& object, const char* key, std::int64_t fallback) {
    if (!object.is_object()) return fallback;
    return int_field(object, key).value_or(fallback);
}

std::string text_value(const nlohmann::json& object, const char* key, const std::string& fallback) {
    if (!object.is_object()) return fallback;
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

nlohmann::json run_labels(const nlohmann::json& summary) {
    nlohmann::json labels = nlohmann::json::object();
    for (const char* key : {"scenario", "seed", "trace_hash", "verdict", "reproduce", "schema"}) {
        if (const auto it = summary.find(key); it != summary.end()) labels[key] = *it;
    }
    return labels;
}

}  // namespace meshsim::report
