#include "services/messaging/event_endpoint.hpp"

#include <utility>

namespace meshsim::svc {

nlohmann::json to_json(const delivery& d) { return {{"offset", d.offset}, {"event", to_json(d.e)}}; }

std::optional<delivery> delivery_from_json(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("event")) return std::nullopt;
    auto e = event_from_json(j["event"]);
    if (!e) return std::nullopt;
    return delivery{j.value("offset", std::uint64_t{0}), std::move(*e)};
}

request delivery_request(const delivery& d, const std::string& path) {
    request req;
    req.method = "POST";
    req.path = path;
    req.head.set(header::idempotency_key, d.e.id);
    req.body = to_json(d);
    return req;
}

void route_event_endpoint(rpc_server& server, const std::string& path, event_sink sink) {
    server.route("POST", path, 1, [sink = std::move(sink)](const request& req, request_context&) {
        auto d = delivery_from_json(req.body);
        if (!d) return response{400, {}, nullptr};
        return response{static_cast<std::uint16_t>(sink(*d) ? 200 : 500), {}, nullptr};
    });
}

}  // namespace meshsim::svc
