// The receiving side of pushed events, shared by broker push subscriptions and
// webhooks: the wire format of one delivery and a route on the subscriber's
// rpc_server that hands each delivery to a sink and answers 200 or 500.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "services/messaging/event.hpp"
#include "services/platform/rpc.hpp"

namespace meshsim::svc {

// One event handed to a consumer. `offset` is the broker log position (0 for
// webhooks, which have no log).
struct delivery {
    std::uint64_t offset = 0;
    event e;
};

nlohmann::json to_json(const delivery& d);
std::optional<delivery> delivery_from_json(const nlohmann::json& j);

// The request that pushes `d` to `path` (POST, api version 1); the event id rides
// as the idempotency key.
request delivery_request(const delivery& d, const std::string& path);

// True when the consumer has processed the delivery (it may then be acked);
// false asks for redelivery. Sinks should be idempotent: deliveries repeat.
using event_sink = std::function<bool(const delivery&)>;

// Routes POST `path` v1 to `sink`: 200 when it returns true, 500 when false,
// 400 when the body is not a delivery.
void route_event_endpoint(rpc_server& server, const std::string& path, event_sink sink);

}  // namespace meshsim::svc
