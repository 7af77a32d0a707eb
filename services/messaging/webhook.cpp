#include "services/messaging/webhook.hpp"

#include "services/platform/registry.hpp"

namespace meshsim::svc {

config_errors webhook_config::validate() const {
    config_errors errors;
    for (auto& line : delivery.validate()) errors.push_back("delivery." + line);
    require(errors, delivery_timeout > sim::duration::zero(), "delivery_timeout", "> 0", delivery_timeout);
    return errors;
}

webhook_publisher::webhook_publisher(rpc_client& client, std::string name, webhook_config config)
    : client_(client),
      name_(std::move(name)),
      config_(config),
      deliveries_(client.runtime(), name_ + "/deliveries", config.delivery,
                  [this](const job& j) { return deliver(j); }) {}

void webhook_publisher::subscribe(const std::string& topic, const std::string& subscriber, sim::address endpoint,
                                  const std::string& path) {
    sim::store& disk = client_.runtime().durable_store();
    disk.put(name_ + "/hooks/" + topic + "/" + subscriber,
             {{"subscriber", subscriber}, {"endpoint", address_to_json(endpoint)}, {"path", path}});
    disk.sync();
}

void webhook_publisher::add_routes(rpc_server& server) {
    server.route("POST", "/webhooks/subscriptions", 1, [this](const request& req, request_context&) {
        auto endpoint = address_from_json(req.body.value("endpoint", nlohmann::json{}));
        const std::string topic = req.body.value("topic", std::string{});
        const std::string subscriber = req.body.value("subscriber", std::string{});
        if (!endpoint || topic.empty() || subscriber.empty()) return response{400, {}, nullptr};
        subscribe(topic, subscriber, *endpoint, req.body.value("path", std::string{}));
        return response{200, {}, nullptr};
    });
}

std::size_t webhook_publisher::publish(const event& e) {
    sim::store& disk = client_.runtime().durable_store();
    std::size_t queued = 0;
    for (const auto& key : disk.keys(name_ + "/hooks/" + e.topic + "/")) {
        const nlohmann::json hook = *disk.get(key);
        const std::string subscriber = hook.value("subscriber", std::string{});
        nlohmann::json payload = hook;
        payload["event"] = to_json(e);
        // The job id pairs event and subscriber, so re-publishing the same event
        // while its delivery is queued does not queue it twice.
        if (deliveries_.enqueue(e.id + "@" + subscriber, "webhook", std::move(payload))) ++queued;
    }
    return queued;
}

job_outcome webhook_publisher::deliver(const job& j) {
    auto endpoint = address_from_json(j.payload.value("endpoint", nlohmann::json{}));
    auto e = event_from_json(j.payload.value("event", nlohmann::json{}));
    if (!endpoint || !e) return job_outcome::failure("malformed delivery job");
    sim::runtime& rt = client_.runtime();
    call_result r = client_.call(*endpoint, delivery_request(delivery{0, *e}, j.payload.value("path", std::string{})),
                                 sim::saturating_add(rt.now(), config_.delivery_timeout));
    if (r.result.kind == outcome_kind::ok) return job_outcome::done();
    std::string why(to_string(r.result.kind));
    if (r.result.http_status != 0) why += " " + std::to_string(r.result.http_status);
    return job_outcome::failure(why);
}

}  // namespace meshsim::svc
