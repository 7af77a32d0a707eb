// otlp.json: the sampled request spans (rpc_spans.hpp) as an OTLP/JSON
// ExportTraceServiceRequest, which Jaeger's UI opens ("JSON File") and an OTLP/HTTP
// collector accepts: a resource per service (service.name), a CLIENT span per attempt
// and a SERVER span per request served, parented as the traceparent headers carried
// them. Times are virtual: the Unix epoch is the run's virtual time zero.
#include <map>
#include <string>
#include <vector>

#include "meshsim_version.hpp"
#include "reports/report_builder.hpp"
#include "reports/rpc_spans.hpp"

namespace meshsim::report {

namespace {

using json = nlohmann::json;

constexpr int span_kind_server = 2;  // opentelemetry.proto.trace.v1.Span.SpanKind
constexpr int span_kind_client = 3;
constexpr int status_ok = 1;  // opentelemetry.proto.trace.v1.Status.StatusCode
constexpr int status_error = 2;

json text_attribute(const char* key, const std::string& value) {
    return {{"key", key}, {"value", {{"stringValue", value}}}};
}

// OTLP/JSON writes 64-bit integers as strings.
json int_attribute(const char* key, std::int64_t value) {
    return {{"key", key}, {"value", {{"intValue", std::to_string(value)}}}};
}

std::string nanos(std::int64_t ns) { return std::to_string(ns < 0 ? 0 : ns); }

json otlp_span(const rpc_span& s) {
    const bool client = s.side == span_side::client;
    json attributes = json::array({text_attribute("http.method", s.method), text_attribute("http.route", s.path)});
    if (s.status != 0) attributes.push_back(int_attribute("http.status_code", s.status));
    attributes.push_back(text_attribute("meshsim.outcome", s.outcome));
    attributes.push_back(text_attribute("meshsim.reason", s.reason));
    attributes.push_back(text_attribute("meshsim.correlation_id", s.correlation));
    attributes.push_back(text_attribute("meshsim.node", s.node));
    attributes.push_back(text_attribute(client ? "server.address" : "client.address", s.peer));
    if (client) attributes.push_back(int_attribute("meshsim.attempt", s.attempt));
    json span = {{"traceId", s.trace}, {"spanId", s.span}};
    if (!s.parent.empty()) span["parentSpanId"] = s.parent;
    span["name"] = s.method + " " + s.path;
    span["kind"] = client ? span_kind_client : span_kind_server;
    span["startTimeUnixNano"] = nanos(s.start_ns);
    span["endTimeUnixNano"] = nanos(s.end_ns);
    span["attributes"] = std::move(attributes);
    if (!client && s.work_start_ns > s.start_ns) {
        span["events"] = json::array({{{"timeUnixNano", nanos(s.work_start_ns)}, {"name", "handler started"}}});
    }
    if (s.failed()) {
        const std::string why = client ? s.outcome + (s.reason != "-" ? " (" + s.reason + ")" : "") : s.reason;
        span["status"] = {{"code", status_error}, {"message", why}};
    } else {
        span["status"] = {{"code", status_ok}};
    }
    return span;
}

class otlp_traces final : public report_builder {
public:
    void add_event(const json& event) override {
        if (std::optional<rpc_span> span = span_from_event(event)) sample_.add(std::move(*span));
    }

    void write(const json& summary, std::ostream& out) override {
        const node_directory directory(summary);
        const std::vector<const rpc_span*> kept = sample_.connected();
        std::map<std::string, std::vector<const rpc_span*>> by_service;
        for (const rpc_span* s : kept) by_service[directory.service_of(s->node)].push_back(s);

        json run = json::array();
        const json labels = run_labels(summary);
        for (const auto& [key, value] : labels.items()) {
            if (key == "seed") {
                run.push_back(text_attribute("meshsim.seed", value.dump()));
            } else if (value.is_string()) {
                run.push_back(text_attribute(("meshsim." + key).c_str(), value.get<std::string>()));
            }
        }
        run.push_back(text_attribute("meshsim.sample", std::to_string(kept.size()) + " of " +
                                                           std::to_string(sample_.seen()) +
                                                           " spans: every span of the first " +
                                                           std::to_string(sample_.sample_limits().first_traces) +
                                                           " traces, then whole traces chosen by a hash of their id"));
        if (sample_.seen() == 0) {
            run.push_back(text_attribute("meshsim.missing",
                                         "no rpc_attempt/rpc_serve events: the run wrote no events.jsonl or wrote it "
                                         "at level none or summary (meshsim run --events requests adds them)"));
        }

        json resources = json::array();
        const auto resource = [&run](const std::string& service) {
            json attributes = json::array({text_attribute("service.name", service)});
            for (const json& a : run) attributes.push_back(a);
            return json{{"attributes", std::move(attributes)}};
        };
        const json scope = {{"name", "meshsim"}, {"version", meshsim::version}};
        for (const auto& [service, spans] : by_service) {
            json list = json::array();
            for (const rpc_span* s : spans) list.push_back(otlp_span(*s));
            resources.push_back({{"resource", resource(service)},
                                 {"scopeSpans", json::array({{{"scope", scope}, {"spans", std::move(list)}}})}});
        }
        if (resources.empty()) {
            // Nothing to show, but the file still says which run it is and why it is empty.
            resources.push_back({{"resource", resource("meshsim")}, {"scopeSpans", json::array()}});
        }
        out << json{{"resourceSpans", std::move(resources)}}.dump(-1, ' ', false, json::error_handler_t::replace)
            << "\n";
    }

private:
    span_sample sample_;
};

}  // namespace

std::unique_ptr<report_builder> make_otlp_traces() { return std::make_unique<otlp_traces>(); }

}  // namespace meshsim::report
