// Event streams, webhook style: the publishing service keeps its subscribers'
// callback endpoints and its own async workers POST each event to each of them,
// retrying with backoff and dead-lettering after max_attempts. Built on
// job_queue: one durable delivery job per (event, subscriber).
#pragma once

#include <cstdint>
#include <string>

#include "services/messaging/event.hpp"
#include "services/messaging/event_endpoint.hpp"
#include "services/messaging/job_queue.hpp"
#include "services/platform/config_errors.hpp"
#include "services/platform/rpc.hpp"
#include "sim/runtime.hpp"

namespace meshsim::svc {

struct webhook_config {
    // Workers, attempts per delivery before the dead-letter queue, and retry
    // backoff (GitHub does not retry; Stripe retries for 3 days with exponential
    // backoff: the default here is the job queue's 5 attempts, 1 s .. 5 min).
    job_queue_config delivery;
    // Deadline of one POST; a slower subscriber counts as failed (and may still
    // process it: deliveries repeat, subscribers deduplicate by event id).
    sim::duration delivery_timeout = sim::seconds{2};

    config_errors validate() const;
};

class webhook_publisher {
public:
    // Subscriptions live under "<name>/hooks/<topic>/<subscriber>", delivery jobs
    // in the job queue named "<name>/deliveries".
    webhook_publisher(rpc_client& client, std::string name, webhook_config config);

    // Durable callback registration: POST `path` on `endpoint` for every event of `topic`.
    void subscribe(const std::string& topic, const std::string& subscriber, sim::address endpoint,
                   const std::string& path);
    // Lets subscribers register over the network:
    //   POST /webhooks/subscriptions {topic, subscriber, endpoint: {node, port}, path} -> 200
    void add_routes(rpc_server& server);

    // Queues one delivery per subscriber of e.topic; durable when it returns.
    // Returns how many deliveries were queued.
    std::size_t publish(const event& e);

    // Starts the delivery workers (and reloads queued deliveries after a restart).
    void start() { deliveries_.start(); }
    job_queue& deliveries() { return deliveries_; }

private:
    job_outcome deliver(const job& j);

    rpc_client& client_;
    std::string name_;
    webhook_config config_;
    job_queue deliveries_;
};

}  // namespace meshsim::svc
