#include "reports/events_jsonl.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace meshsim::report {

// ------------------------------------------------------------------ levels

namespace {
constexpr sim::event_kind_mask summary_kinds =
    sim::mask_of(sim::event_kind::node_start) | sim::mask_of(sim::event_kind::node_crash) |
    sim::mask_of(sim::event_kind::node_restart) | sim::mask_of(sim::event_kind::node_pause) |
    sim::mask_of(sim::event_kind::node_resume) | sim::mask_of(sim::event_kind::fault_start) |
    sim::mask_of(sim::event_kind::fault_end) | sim::mask_of(sim::event_kind::state) |
    sim::mask_of(sim::event_kind::log) | sim::mask_of(sim::event_kind::metric) | sim::mask_of(sim::event_kind::custom) |
    sim::mask_of(sim::event_kind::fiber_exception);
constexpr sim::event_kind_mask request_kinds =
    summary_kinds | sim::mask_of(sim::event_kind::rpc_attempt) | sim::mask_of(sim::event_kind::rpc_serve);

constexpr std::array<std::pair<std::string_view, event_level>, 4> level_names{{
    {"none", event_level::none},
    {"summary", event_level::summary},
    {"requests", event_level::requests},
    {"all", event_level::all},
}};
}  // namespace

std::optional<event_level> parse_event_level(std::string_view text) {
    for (const auto& [name, level] : level_names) {
        if (text == name) return level;
    }
    return std::nullopt;
}

std::string_view to_string(event_level level) {
    for (const auto& [name, l] : level_names) {
        if (l == level) return name;
    }
    return "unknown";
}

sim::event_kind_mask kinds_written(event_level level) {
    switch (level) {
        case event_level::none: return 0;
        case event_level::summary: return summary_kinds;
        case event_level::requests: return request_kinds;
        case event_level::all: return sim::every_event_kind;
    }
    return 0;
}

bool is_written(sim::event_kind kind, event_level level) { return (kinds_written(level) & sim::mask_of(kind)) != 0; }

// ------------------------------------------------------------------ decoding

namespace {
// Splits `detail` into N space-separated fields, the last taking the rest (spaces included).
template <std::size_t N>
std::optional<std::array<std::string_view, N>> split_fields(std::string_view detail) {
    std::array<std::string_view, N> out{};
    for (std::size_t i = 0; i + 1 < N; ++i) {
        const std::size_t space = detail.find(' ');
        if (space == std::string_view::npos) return std::nullopt;
        out[i] = detail.substr(0, space);
        detail.remove_prefix(space + 1);
    }
    out[N - 1] = detail;
    return out;
}

// A token as written by the kernel: %20 and %25 back to ' ' and '%'.
std::string unescape(std::string_view token) {
    std::string out;
    out.reserve(token.size());
    for (std::size_t i = 0; i < token.size(); ++i) {
        if (token[i] == '%' && token.substr(i, 3) == "%20") {
            out += ' ';
            i += 2;
        } else if (token[i] == '%' && token.substr(i, 3) == "%25") {
            out += '%';
            i += 2;
        } else {
            out += token[i];
        }
    }
    return out;
}

std::optional<std::int64_t> integer(std::string_view text) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return v;
}

std::optional<double> number(std::string_view text) {
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return v;
}
}  // namespace

std::optional<rpc_attempt_fields> decode_rpc_attempt(std::string_view detail) {
    const auto f = split_fields<10>(detail);
    if (!f) return std::nullopt;
    const auto sent = integer((*f)[4]);
    if (!sent) return std::nullopt;
    return rpc_attempt_fields{
        std::string((*f)[0]), std::string((*f)[1]), unescape((*f)[2]), unescape((*f)[3]),    std::string((*f)[5]),
        std::string((*f)[6]), std::string((*f)[7]), unescape((*f)[8]), std::string((*f)[9]), *sent};
}

std::optional<rpc_serve_fields> decode_rpc_serve(std::string_view detail) {
    const auto f = split_fields<10>(detail);
    if (!f) return std::nullopt;
    const auto arrived = integer((*f)[3]);
    const auto started = integer((*f)[4]);
    if (!arrived || !started) return std::nullopt;
    return rpc_serve_fields{std::string((*f)[0]),
                            unescape((*f)[1]),
                            unescape((*f)[2]),
                            std::string((*f)[5]),
                            std::string((*f)[6]),
                            std::string((*f)[7]),
                            unescape((*f)[8]),
                            std::string((*f)[9]),
                            *arrived,
                            *started};
}

std::optional<nlohmann::json> decode_state(std::string_view detail) {
    const std::size_t eq = detail.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    nlohmann::json j = nlohmann::json::object();
    j["component"] = std::string(detail.substr(0, eq));
    std::string_view rest = detail.substr(eq + 1);
    // The state is what precedes the first " key=value" field (older states may hold spaces).
    std::size_t fields_at = std::string_view::npos;
    for (std::size_t space = rest.find(' '); space != std::string_view::npos; space = rest.find(' ', space + 1)) {
        const std::string_view word = rest.substr(space + 1, rest.find(' ', space + 1) - (space + 1));
        if (word.find('=') != std::string_view::npos) {
            fields_at = space;
            break;
        }
    }
    j["state"] = std::string(rest.substr(0, fields_at));
    if (fields_at == std::string_view::npos) return j;
    rest.remove_prefix(fields_at + 1);
    while (!rest.empty()) {
        const std::size_t space = rest.find(' ');
        const std::string_view field = rest.substr(0, space);
        rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
        const std::size_t at = field.find('=');
        if (at == std::string_view::npos || at == 0) return std::nullopt;
        const std::string key(field.substr(0, at));
        const std::string_view value = field.substr(at + 1);
        // Names stay text even when they look like numbers; counts and rates are numbers.
        const bool text = key == "from" || key == "instance" || key == "cause";
        if (const auto i = integer(value); i && !text) {
            j[key] = *i;
        } else if (const auto d = number(value); d && !text) {
            j[key] = *d;
        } else {
            j[key] = std::string(value);
        }
    }
    return j;
}

// ------------------------------------------------------------------ the objects

namespace {
std::uint64_t high(std::uint64_t v) { return v >> 32; }
std::uint64_t low(std::uint64_t v) { return v & 0xffffffffu; }

void raw_fields(nlohmann::json& j, const sim::trace_event& event) {
    j["a"] = event.a;
    j["b"] = event.b;
    if (!event.detail.empty()) j["detail"] = event.detail;
}

// The named fields of `event`'s kind; false when its detail does not decode.
bool named_fields(nlohmann::json& j, const sim::trace_event& event) {
    using sim::event_kind;
    switch (event.kind) {
        case event_kind::node_start:
        case event_kind::node_restart:
            j["incarnation"] = event.a;
            j["node_id"] = event.node;  // the number msg_* events name peers by
            return true;
        case event_kind::node_crash: j["incarnation"] = event.a; return true;
        case event_kind::node_pause:
        case event_kind::node_resume: return true;
        case event_kind::fiber_start:
            j["fiber"] = event.a;
            j["name"] = event.detail;
            return true;
        case event_kind::fiber_end:
        case event_kind::fiber_killed:
        case event_kind::timer_fire: j["fiber"] = event.a; return true;
        case event_kind::fiber_exception:
            j["fiber"] = event.a;
            j["what"] = event.detail;
            return true;
        case event_kind::msg_send: {
            j["id"] = event.a;
            j["to_node"] = high(event.b);
            j["to_port"] = low(event.b);
            const std::string_view d = event.detail;
            j["status"] = d.starts_with("status=") ? integer(d.substr(7)).value_or(0) : 0;
            return true;
        }
        case event_kind::msg_deliver:
            j["id"] = event.a;
            j["from_node"] = high(event.b);
            j["from_port"] = low(event.b);
            return true;
        case event_kind::msg_drop:
            j["id"] = event.a;
            j["reason"] = event.detail;
            return true;
        case event_kind::fault_start:
        case event_kind::fault_end: {
            const nlohmann::json spec = nlohmann::json::parse(event.detail, nullptr, false);
            if (!spec.is_object() || !spec.contains("kind") || !spec["kind"].is_string()) return false;
            j["id"] = event.a;
            j["fault"] = spec["kind"];
            j["name"] = spec.value("name", "");
            if (spec.contains("target")) j["target"] = spec["target"];
            j["params"] = spec.value("params", nlohmann::json::object());
            return true;
        }
        case event_kind::log: {
            const std::size_t space = event.detail.find(' ');
            j["event"] = event.detail.substr(0, space);
            if (space == std::string::npos) return true;
            nlohmann::json fields = nlohmann::json::parse(event.detail.substr(space + 1), nullptr, false);
            if (fields.is_discarded()) return false;
            j["fields"] = std::move(fields);
            return true;
        }
        case event_kind::state: {
            std::optional<nlohmann::json> state = decode_state(event.detail);
            if (!state) return false;
            j.update(*state);
            return true;
        }
        case event_kind::metric:
        case event_kind::custom: return false;
        case event_kind::rpc_attempt: {
            const auto f = decode_rpc_attempt(event.detail);
            if (!f) return false;
            j["status"] = event.a;
            j["attempt"] = event.b;
            j["outcome"] = f->outcome;
            j["reason"] = f->reason;
            j["correlation"] = f->correlation;
            j["to"] = f->to;
            j["sent_ns"] = f->sent_ns;
            j["trace"] = f->trace;
            j["span"] = f->span;
            j["parent"] = f->parent;
            j["method"] = f->method;
            j["path"] = f->path;
            return true;
        }
        case event_kind::rpc_serve: {
            const auto f = decode_rpc_serve(event.detail);
            if (!f) return false;
            j["status"] = event.a;
            j["reason"] = f->reason;
            j["correlation"] = f->correlation;
            j["from"] = f->from;
            j["arrived_ns"] = f->arrived_ns;
            j["started_ns"] = f->started_ns;
            j["trace"] = f->trace;
            j["span"] = f->span;
            j["parent"] = f->parent;
            j["method"] = f->method;
            j["path"] = f->path;
            return true;
        }
    }
    return false;
}
}  // namespace

nlohmann::json event_to_json(const sim::trace_event& event, const std::string* node_name) {
    nlohmann::json j;
    j["t_ns"] = event.at.time_since_epoch().count();
    j["t"] = sim::format_time(event.at);
    j["kind"] = sim::to_string(event.kind);
    if (node_name != nullptr) {
        j["node"] = *node_name;
    } else if (event.node != sim::no_node) {
        j["node"] = event.node;
    }
    nlohmann::json named = nlohmann::json::object();
    if (named_fields(named, event)) {
        j.update(named);
    } else {
        raw_fields(j, event);
    }
    return j;
}

nlohmann::json event_to_json(const sim::trace_event& event, const std::vector<std::string>& node_names) {
    return event_to_json(event, event.node < node_names.size() ? &node_names[event.node] : nullptr);
}

std::string event_line(const nlohmann::json& event) {
    std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    return line;
}

// ------------------------------------------------------------------ the direct writer

namespace {
// One field of a line. nlohmann::json keeps an object's keys in a std::map, so its
// dump() writes them sorted: the writer gathers an event's fields, then sorts them.
struct line_field {
    enum class type : std::uint8_t { signed_number, unsigned_number, text, percent_text };
    std::string_view key;
    type kind = type::text;
    std::int64_t signed_value = 0;
    std::uint64_t unsigned_value = 0;
    std::string_view text;  // percent_text: a kernel token (%20 and %25 still in it)
};

// The characters dump() escapes (ensure_ascii off): '"', '\\' and the controls.
bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void append_escaped(std::string& out, unsigned char c) {
    switch (c) {
        case '"': out += "\\\""; return;
        case '\\': out += "\\\\"; return;
        case '\b': out += "\\b"; return;
        case '\f': out += "\\f"; return;
        case '\n': out += "\\n"; return;
        case '\r': out += "\\r"; return;
        case '\t': out += "\\t"; return;
        default: break;
    }
    constexpr char hex[] = "0123456789abcdef";
    const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
    out.append(escaped, sizeof escaped);
}

// `text` as dump() writes a string. Text with bytes above 0x7f goes through dump()
// itself, which checks the UTF-8 and replaces what is invalid (rare in events).
void append_json_string(std::string& out, std::string_view text) {
    for (const char c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            out += nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            return;
        }
    }
    out += '"';
    std::size_t run = 0;  // start of the characters not yet copied
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (!needs_escape(c)) continue;
        out.append(text.data() + run, i - run);
        append_escaped(out, c);
        run = i + 1;
    }
    out.append(text.data() + run, text.size() - run);
    out += '"';
}

template <typename Integer>
void append_integer(std::string& out, Integer v) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
    out.append(digits, static_cast<std::size_t>(end - digits));
}

class line_fields {
public:
    void signed_number(std::string_view key, std::int64_t v) {
        add(key, line_field::type::signed_number).signed_value = v;
    }
    void unsigned_number(std::string_view key, std::uint64_t v) {
        add(key, line_field::type::unsigned_number).unsigned_value = v;
    }
    void text(std::string_view key, std::string_view v) { add(key, line_field::type::text).text = v; }
    void percent_text(std::string_view key, std::string_view v) { add(key, line_field::type::percent_text).text = v; }

    // {"key":value,...}\n, keys in dump()'s order.
    void write(std::string& out) {
        std::sort(fields_.begin(), fields_.begin() + static_cast<std::ptrdiff_t>(count_),
                  [](const line_field& x, const line_field& y) { return x.key < y.key; });
        out += '{';
        for (std::size_t i = 0; i < count_; ++i) {
            const line_field& f = fields_[i];
            if (i != 0) out += ',';
            out += '"';
            out += f.key;  // the writer's own names: nothing to escape
            out += "\":";
            switch (f.kind) {
                case line_field::type::signed_number: append_integer(out, f.signed_value); break;
                case line_field::type::unsigned_number: append_integer(out, f.unsigned_value); break;
                case line_field::type::text: append_json_string(out, f.text); break;
                case line_field::type::percent_text:
                    if (f.text.find('%') == std::string_view::npos) {
                        append_json_string(out, f.text);
                    } else {
                        append_json_string(out, unescape(f.text));
                    }
                    break;
            }
        }
        out += "}\n";
    }

private:
    line_field& add(std::string_view key, line_field::type kind) {
        line_field& f = fields_.at(count_++);
        f.key = key;
        f.kind = kind;
        return f;
    }
    std::array<line_field, 20> fields_{};
    std::size_t count_ = 0;
};

// The request's trace context and line, fields 5 to 9 of both RPC details.
void span_fields(line_fields& f, const std::array<std::string_view, 10>& d) {
    f.text("trace", d[5]);
    f.text("span", d[6]);
    f.text("parent", d[7]);
    f.percent_text("method", d[8]);
    f.text("path", d[9]);
}

// named_fields() of the frequent kinds, as fields; false for the other kinds and for
// a detail that does not decode (those are written through event_to_json()).
bool direct_fields(line_fields& f, const sim::trace_event& event) {
    using sim::event_kind;
    switch (event.kind) {
        case event_kind::node_start:
        case event_kind::node_restart:
            f.unsigned_number("incarnation", event.a);
            f.unsigned_number("node_id", event.node);
            return true;
        case event_kind::node_crash: f.unsigned_number("incarnation", event.a); return true;
        case event_kind::node_pause:
        case event_kind::node_resume: return true;
        case event_kind::fiber_start:
            f.unsigned_number("fiber", event.a);
            f.text("name", event.detail);
            return true;
        case event_kind::fiber_end:
        case event_kind::fiber_killed:
        case event_kind::timer_fire: f.unsigned_number("fiber", event.a); return true;
        case event_kind::fiber_exception:
            f.unsigned_number("fiber", event.a);
            f.text("what", event.detail);
            return true;
        case event_kind::msg_send: {
            f.unsigned_number("id", event.a);
            f.unsigned_number("to_node", high(event.b));
            f.unsigned_number("to_port", low(event.b));
            const std::string_view d = event.detail;
            f.signed_number("status", d.starts_with("status=") ? integer(d.substr(7)).value_or(0) : 0);
            return true;
        }
        case event_kind::msg_deliver:
            f.unsigned_number("id", event.a);
            f.unsigned_number("from_node", high(event.b));
            f.unsigned_number("from_port", low(event.b));
            return true;
        case event_kind::msg_drop:
            f.unsigned_number("id", event.a);
            f.text("reason", event.detail);
            return true;
        case event_kind::rpc_attempt: {
            const auto d = split_fields<10>(event.detail);
            const auto sent = d ? integer((*d)[4]) : std::nullopt;
            if (!sent) return false;
            f.unsigned_number("status", event.a);
            f.unsigned_number("attempt", event.b);
            f.text("outcome", (*d)[0]);
            f.text("reason", (*d)[1]);
            f.percent_text("correlation", (*d)[2]);
            f.percent_text("to", (*d)[3]);
            f.signed_number("sent_ns", *sent);
            span_fields(f, *d);
            return true;
        }
        case event_kind::rpc_serve: {
            const auto d = split_fields<10>(event.detail);
            const auto arrived = d ? integer((*d)[3]) : std::nullopt;
            const auto started = d ? integer((*d)[4]) : std::nullopt;
            if (!arrived || !started) return false;
            f.unsigned_number("status", event.a);
            f.text("reason", (*d)[0]);
            f.percent_text("correlation", (*d)[1]);
            f.percent_text("from", (*d)[2]);
            f.signed_number("arrived_ns", *arrived);
            f.signed_number("started_ns", *started);
            span_fields(f, *d);
            return true;
        }
        default: return false;  // JSON in the detail (faults, logs) or decoded into JSON (states)
    }
}
}  // namespace

void append_event_line(std::string& out, const sim::trace_event& event, const std::string* node_name) {
    line_fields f;
    if (!direct_fields(f, event)) {
        out += event_line(event_to_json(event, node_name));
        return;
    }
    const std::string t = sim::format_time(event.at);
    f.signed_number("t_ns", event.at.time_since_epoch().count());
    f.text("t", t);
    f.text("kind", sim::to_string(event.kind));
    if (node_name != nullptr) {
        f.text("node", *node_name);
    } else if (event.node != sim::no_node) {
        f.unsigned_number("node", event.node);
    }
    f.write(out);
}

std::string event_line(const sim::trace_event& event, const std::string* node_name) {
    std::string line;
    append_event_line(line, event, node_name);
    return line;
}

void write_events_jsonl(std::ostream& out, const std::vector<sim::trace_event>& events,
                        const std::vector<std::string>& node_names) {
    std::string line;
    for (const auto& event : events) {
        line.clear();
        append_event_line(line, event, event.node < node_names.size() ? &node_names[event.node] : nullptr);
        out << line;
    }
}

}  // namespace meshsim::report
