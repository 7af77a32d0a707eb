// Event streams, broker style: a broker service with topics kept as append-only
// logs in its durable store, per-subscriber offsets, pull and push consumers, and
// at-least-once delivery (a delivery is repeated until the subscriber acks it).
// Also the client side: broker_client (publish/pull/ack) and pull_consumer.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "services/messaging/event.hpp"
#include "services/messaging/event_endpoint.hpp"
#include "services/platform/backoff.hpp"
#include "services/platform/config_errors.hpp"
#include "services/platform/rpc.hpp"
#include "sim/runtime.hpp"
#include "sim/sync.hpp"

namespace meshsim::svc {

// Kafka's well-known port.
inline constexpr sim::port_id broker_port = 9092;

struct broker_config {
    // A pulled batch not acked within this is delivered again from the committed
    // offset (Pub/Sub's ack deadline, default 10 s; SQS's visibility timeout).
    // Until then the subscriber's pulls return nothing: one batch is leased at a time.
    sim::duration ack_timeout = sim::seconds{10};
    // Most events returned by one pull (SQS and Pub/Sub cap a receive at 10 by default).
    std::size_t max_batch = 10;
    // Push subscriptions: per-delivery deadline, and the backoff between failed
    // pushes of the same event (Pub/Sub push backs off from 10 s to 600 s; shorter
    // here so simulations stay short).
    sim::duration push_timeout = sim::seconds{1};
    backoff_config push_backoff{sim::milliseconds{100}, sim::seconds{10}, 2.0, jitter_mode::full};
    // The broker's own rpc_client reply port (for pushes).
    sim::port_id push_reply_port = 49153;

    config_errors validate() const;
};

// The broker. Routes (api version 1, JSON bodies):
//   POST /broker/publish   {event}                           -> 200 {offset}
//   POST /broker/pull      {topic, subscriber, max?}         -> 200 {deliveries: [{offset, event}]}
//   POST /broker/ack       {topic, subscriber, next_offset}  -> 200 (cumulative: all below acked)
//   POST /broker/subscribe {topic, subscriber, endpoint: {node, port}, path} -> 200 (push)
// A publish is answered only after the append is synced: an acknowledged event
// survives a broker crash. Offsets start at 1. Publishes are not deduplicated
// (a retried publish may append twice): consumers deduplicate by event id.
class broker_service {
public:
    broker_service(sim::runtime& rt, broker_config config, sim::port_id port = broker_port);
    broker_service(const broker_service&) = delete;
    broker_service& operator=(const broker_service&) = delete;

    // Spawns the server loop and one push fiber per stored push subscription.
    void start();

    // Inspection (tests, checkers): the durable log of a topic, in offset order.
    std::vector<delivery> log(const std::string& topic) const;
    std::uint64_t committed_offset(const std::string& topic, const std::string& subscriber) const;

private:
    struct subscription {
        std::uint64_t committed = 1;        // durable: next offset not yet acked
        std::uint64_t delivered_until = 1;  // volatile: next offset not yet handed out
        sim::time_point lease_deadline{};   // when unacked deliveries are handed out again
        bool pushing = false;               // a push fiber runs for it
    };
    struct topic_state {
        std::uint64_t next_offset = 1;
        sim::wait_list appended;  // push fibers waiting for new events
    };
    struct push_target {
        sim::address endpoint;
        std::string path;
    };

    void add_routes();
    response publish(const request& req);
    response pull(const request& req);
    response ack(const request& req);
    response subscribe(const request& req);
    topic_state& topic(const std::string& name);
    subscription& sub(const std::string& topic, const std::string& subscriber);
    void commit(const std::string& topic, const std::string& subscriber, std::uint64_t next_offset);
    std::optional<event> read(const std::string& topic, std::uint64_t offset) const;
    void start_push(const std::string& topic, const std::string& subscriber, push_target target);
    void push_forever(std::string topic, std::string subscriber, push_target target);

    sim::runtime& rt_;
    broker_config config_;
    backoff push_backoff_;
    rpc_server server_;
    rpc_client pusher_;
    std::map<std::string, topic_state> topics_;
    std::map<std::pair<std::string, std::string>, subscription> subs_;  // (topic, subscriber)
};

// Client side of the broker, one call per method, each with its own deadline.
class broker_client {
public:
    broker_client(rpc_client& client, sim::address broker, sim::duration call_timeout = sim::seconds{1});

    // Ok when the broker acknowledged (the event is durable in its log).
    outcome publish(const event& e);
    // Nothing when the broker could not be reached.
    std::optional<std::vector<delivery>> pull(const std::string& topic, const std::string& subscriber,
                                              std::size_t max = 10);
    bool ack(const std::string& topic, const std::string& subscriber, std::uint64_t next_offset);
    bool subscribe_push(const std::string& topic, const std::string& subscriber, sim::address endpoint,
                        const std::string& path);

    sim::runtime& runtime() { return client_.runtime(); }

private:
    call_result call(const std::string& path, nlohmann::json body);

    rpc_client& client_;
    sim::address broker_;
    sim::duration call_timeout_;
};

struct pull_consumer_config {
    // Sleep between pulls that returned nothing (or failed).
    sim::duration poll_interval = sim::milliseconds{100};
    std::size_t max_batch = 10;

    config_errors validate() const;
};

// A fiber that pulls, hands each delivery to the sink in offset order, and acks
// what the sink processed. The ack follows the processing, so a crash in between
// redelivers (at least once); a sink returning false stops the batch there.
class pull_consumer {
public:
    pull_consumer(broker_client& broker, std::string topic, std::string subscriber, pull_consumer_config config,
                  event_sink sink);

    void start();
    // One pull-process-ack round; returns how many deliveries the sink processed.
    std::size_t poll_once();

private:
    broker_client& broker_;
    std::string topic_;
    std::string subscriber_;
    pull_consumer_config config_;
    event_sink sink_;
};

}  // namespace meshsim::svc
