#include "services/messaging/broker.hpp"

#include <algorithm>

#include "services/platform/registry.hpp"

namespace meshsim::svc {

namespace {
std::string log_prefix(const std::string& topic) { return "broker/log/" + topic + "/"; }
std::string log_key(const std::string& topic, std::uint64_t offset) { return log_prefix(topic) + sequence_key(offset); }
std::string offset_key(const std::string& topic, const std::string& subscriber) {
    return "broker/offset/" + topic + "/" + subscriber;
}
std::string push_key(const std::string& topic, const std::string& subscriber) {
    return "broker/push/" + topic + "/" + subscriber;
}

std::string text(const nlohmann::json& body, const char* field) {
    auto it = body.find(field);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

request post(std::string path, nlohmann::json body) {
    request req;
    req.method = "POST";
    req.path = std::move(path);
    req.body = std::move(body);
    return req;
}

response status(std::uint16_t code, nlohmann::json body = nullptr) { return response{code, {}, std::move(body)}; }
}  // namespace

config_errors broker_config::validate() const {
    config_errors errors;
    require(errors, ack_timeout > sim::duration::zero(), "ack_timeout", "> 0", ack_timeout);
    require(errors, max_batch >= 1, "max_batch", ">= 1", static_cast<double>(max_batch));
    require(errors, push_timeout > sim::duration::zero(), "push_timeout", "> 0", push_timeout);
    for (auto& line : push_backoff.validate()) errors.push_back("push_backoff." + line);
    return errors;
}

config_errors pull_consumer_config::validate() const {
    config_errors errors;
    require(errors, poll_interval > sim::duration::zero(), "poll_interval", "> 0", poll_interval);
    require(errors, max_batch >= 1, "max_batch", ">= 1", static_cast<double>(max_batch));
    return errors;
}

// ------------------------------------------------------------------ broker

broker_service::broker_service(sim::runtime& rt, broker_config config, sim::port_id port)
    : rt_(rt),
      config_(config),
      push_backoff_(config.push_backoff),
      server_(rt, port),
      pusher_(rt, config.push_reply_port) {
    add_routes();
}

void broker_service::add_routes() {
    server_.route("POST", "/broker/publish", 1, [this](const request& req, request_context&) { return publish(req); });
    server_.route("POST", "/broker/pull", 1, [this](const request& req, request_context&) { return pull(req); });
    server_.route("POST", "/broker/ack", 1, [this](const request& req, request_context&) { return ack(req); });
    server_.route("POST", "/broker/subscribe", 1,
                  [this](const request& req, request_context&) { return subscribe(req); });
}

void broker_service::start() {
    rt_.spawn("broker-server", [this] { server_.serve(); });
    sim::store& disk = rt_.durable_store();
    for (const auto& key : disk.keys("broker/push/")) {
        const nlohmann::json stored = *disk.get(key);
        auto endpoint = address_from_json(stored.value("endpoint", nlohmann::json{}));
        if (!endpoint) continue;
        start_push(text(stored, "topic"), text(stored, "subscriber"), {*endpoint, text(stored, "path")});
    }
}

broker_service::topic_state& broker_service::topic(const std::string& name) {
    auto it = topics_.find(name);
    if (it != topics_.end()) return it->second;
    topic_state& t = topics_[name];
    // After a restart the log's last synced key says where appends continue.
    const auto keys = rt_.durable_store().keys(log_prefix(name));
    if (!keys.empty()) t.next_offset = sequence_of(keys.back()) + 1;
    return t;
}

broker_service::subscription& broker_service::sub(const std::string& topic, const std::string& subscriber) {
    auto [it, inserted] = subs_.try_emplace({topic, subscriber});
    if (inserted) {
        if (auto stored = rt_.durable_store().get(offset_key(topic, subscriber))) {
            it->second.committed = stored->get<std::uint64_t>();
        }
        it->second.delivered_until = it->second.committed;
    }
    return it->second;
}

std::optional<event> broker_service::read(const std::string& topic, std::uint64_t offset) const {
    auto stored = rt_.durable_store().get(log_key(topic, offset));
    return stored ? event_from_json(*stored) : std::nullopt;
}

response broker_service::publish(const request& req) {
    auto e = event_from_json(req.body.value("event", nlohmann::json{}));
    if (!e || e->topic.empty() || e->topic.find('/') != std::string::npos) return status(400);
    topic_state& t = topic(e->topic);
    const std::uint64_t offset = t.next_offset++;
    rt_.durable_store().put(log_key(e->topic, offset), to_json(*e));
    rt_.durable_store().sync();  // acknowledged means durable
    rt_.log("broker_append", {{"topic", e->topic}, {"offset", offset}, {"event", e->id}});
    t.appended.wake_all(rt_);
    return status(200, {{"offset", offset}});
}

response broker_service::pull(const request& req) {
    const std::string topic_name = text(req.body, "topic");
    const std::string subscriber = text(req.body, "subscriber");
    if (topic_name.empty() || subscriber.empty()) return status(400);
    const std::uint64_t end = topic(topic_name).next_offset;
    subscription& s = sub(topic_name, subscriber);
    const sim::time_point now = rt_.now();
    if (s.delivered_until > s.committed) {
        // One leased batch per subscriber: handing out later events while earlier
        // ones are unacked would let a cumulative ack from a restarted consumer
        // skip events it never processed.
        if (now < s.lease_deadline) return status(200, {{"deliveries", nlohmann::json::array()}});
        rt_.log("broker_redeliver", {{"topic", topic_name}, {"subscriber", subscriber}, {"from", s.committed}});
        s.delivered_until = s.committed;  // the lease ran out: hand the unacked events out again
    }
    const std::size_t max = std::min<std::size_t>(req.body.value("max", config_.max_batch), config_.max_batch);
    nlohmann::json out = nlohmann::json::array();
    for (std::uint64_t offset = s.delivered_until; offset < end && out.size() < max; ++offset) {
        if (auto e = read(topic_name, offset)) out.push_back(to_json(delivery{offset, std::move(*e)}));
        s.delivered_until = offset + 1;
    }
    if (!out.empty()) s.lease_deadline = sim::saturating_add(now, config_.ack_timeout);
    return status(200, {{"deliveries", std::move(out)}});
}

response broker_service::ack(const request& req) {
    const std::string topic_name = text(req.body, "topic");
    const std::string subscriber = text(req.body, "subscriber");
    if (topic_name.empty() || subscriber.empty() || !req.body.contains("next_offset")) return status(400);
    commit(topic_name, subscriber, req.body["next_offset"].get<std::uint64_t>());
    return status(200);
}

void broker_service::commit(const std::string& topic_name, const std::string& subscriber, std::uint64_t next_offset) {
    const std::uint64_t end = topic(topic_name).next_offset;
    subscription& s = sub(topic_name, subscriber);
    const std::uint64_t committed = std::min(std::max(s.committed, next_offset), end);
    if (committed == s.committed) return;
    s.committed = committed;
    s.delivered_until = std::max(s.delivered_until, committed);
    rt_.durable_store().put(offset_key(topic_name, subscriber), committed);
    rt_.durable_store().sync();
}

response broker_service::subscribe(const request& req) {
    const std::string topic_name = text(req.body, "topic");
    const std::string subscriber = text(req.body, "subscriber");
    auto endpoint = address_from_json(req.body.value("endpoint", nlohmann::json{}));
    if (topic_name.empty() || subscriber.empty() || !endpoint) return status(400);
    push_target target{*endpoint, text(req.body, "path")};
    rt_.durable_store().put(push_key(topic_name, subscriber), {{"topic", topic_name},
                                                               {"subscriber", subscriber},
                                                               {"endpoint", address_to_json(target.endpoint)},
                                                               {"path", target.path}});
    rt_.durable_store().sync();
    start_push(topic_name, subscriber, std::move(target));
    return status(200);
}

void broker_service::start_push(const std::string& topic_name, const std::string& subscriber, push_target target) {
    subscription& s = sub(topic_name, subscriber);
    if (s.pushing) return;
    s.pushing = true;
    rt_.spawn("broker-push", [this, topic_name, subscriber, target = std::move(target)] {
        push_forever(topic_name, subscriber, target);
    });
}

// One event in flight per push subscription, in offset order; a failed push is
// repeated with backoff until the endpoint answers 2xx (redelivery until ack).
void broker_service::push_forever(std::string topic_name, std::string subscriber, push_target target) {
    std::uint32_t failures = 0;
    sim::duration previous_delay{0};
    while (true) {
        topic_state& t = topic(topic_name);
        const std::uint64_t offset = sub(topic_name, subscriber).committed;
        if (offset >= t.next_offset) {
            sim::wait_on(rt_, t.appended, sim::time_never);
            continue;
        }
        auto e = read(topic_name, offset);
        if (!e) {  // an unreadable entry can never be delivered: skip it, loudly
            rt_.log("broker_skip_unreadable", {{"topic", topic_name}, {"offset", offset}});
            commit(topic_name, subscriber, offset + 1);
            continue;
        }
        call_result r = pusher_.call(target.endpoint, delivery_request(delivery{offset, std::move(*e)}, target.path),
                                     sim::saturating_add(rt_.now(), config_.push_timeout));
        if (r.result.kind == outcome_kind::ok) {
            commit(topic_name, subscriber, offset + 1);
            failures = 0;
            previous_delay = sim::duration{0};
            continue;
        }
        previous_delay = push_backoff_.delay(failures++, previous_delay, rt_.random("broker/push-backoff"));
        rt_.sleep_for(previous_delay);
    }
}

std::vector<delivery> broker_service::log(const std::string& topic_name) const {
    std::vector<delivery> out;
    for (const auto& key : rt_.durable_store().keys(log_prefix(topic_name))) {
        if (auto e = event_from_json(*rt_.durable_store().get(key))) out.push_back({sequence_of(key), std::move(*e)});
    }
    return out;
}

std::uint64_t broker_service::committed_offset(const std::string& topic_name, const std::string& subscriber) const {
    auto stored = rt_.durable_store().get(offset_key(topic_name, subscriber));
    return stored ? stored->get<std::uint64_t>() : 1;
}

// ------------------------------------------------------------------ client

broker_client::broker_client(rpc_client& client, sim::address broker, sim::duration call_timeout)
    : client_(client), broker_(broker), call_timeout_(call_timeout) {}

call_result broker_client::call(const std::string& path, nlohmann::json body) {
    return client_.call(broker_, post(path, std::move(body)),
                        sim::saturating_add(client_.runtime().now(), call_timeout_));
}

outcome broker_client::publish(const event& e) { return call("/broker/publish", {{"event", to_json(e)}}).result; }

std::optional<std::vector<delivery>> broker_client::pull(const std::string& topic, const std::string& subscriber,
                                                         std::size_t max) {
    call_result r = call("/broker/pull", {{"topic", topic}, {"subscriber", subscriber}, {"max", max}});
    if (r.result.kind != outcome_kind::ok || !r.reply || !r.reply->body.contains("deliveries")) return std::nullopt;
    std::vector<delivery> out;
    for (const auto& j : r.reply->body["deliveries"]) {
        if (auto d = delivery_from_json(j)) out.push_back(std::move(*d));
    }
    return out;
}

bool broker_client::ack(const std::string& topic, const std::string& subscriber, std::uint64_t next_offset) {
    return call("/broker/ack", {{"topic", topic}, {"subscriber", subscriber}, {"next_offset", next_offset}})
               .result.kind == outcome_kind::ok;
}

bool broker_client::subscribe_push(const std::string& topic, const std::string& subscriber, sim::address endpoint,
                                   const std::string& path) {
    return call("/broker/subscribe",
                {{"topic", topic}, {"subscriber", subscriber}, {"endpoint", address_to_json(endpoint)}, {"path", path}})
               .result.kind == outcome_kind::ok;
}

// ------------------------------------------------------------------ pull consumer

pull_consumer::pull_consumer(broker_client& broker, std::string topic, std::string subscriber,
                             pull_consumer_config config, event_sink sink)
    : broker_(broker),
      topic_(std::move(topic)),
      subscriber_(std::move(subscriber)),
      config_(config),
      sink_(std::move(sink)) {}

void pull_consumer::start() {
    broker_.runtime().spawn("pull-consumer", [this] {
        while (true) {
            if (poll_once() == 0) broker_.runtime().sleep_for(config_.poll_interval);
        }
    });
}

std::size_t pull_consumer::poll_once() {
    auto batch = broker_.pull(topic_, subscriber_, config_.max_batch);
    if (!batch || batch->empty()) return 0;
    std::size_t processed = 0;
    std::uint64_t next_offset = 0;
    for (const delivery& d : *batch) {
        if (!sink_(d)) break;
        ++processed;
        next_offset = d.offset + 1;
    }
    // An unacked tail comes back once the broker's ack timeout passes.
    if (processed > 0) broker_.ack(topic_, subscriber_, next_offset);
    return processed;
}

}  // namespace meshsim::svc
