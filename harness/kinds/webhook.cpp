// Webhook delivery: a service that takes events from its publishers (a write's
// publish_to naming its /webhooks/publish endpoint; answered 202 once a delivery job
// per subscriber is synced) and POSTs each event to every subscriber's endpoint
// (services/messaging/webhook.hpp's webhook_publisher, on the job queue), retrying
// with backoff until the subscriber accepts, and dead-lettering after max_attempts.
// A subscriber is a callback URL: the first instance of its service. A replica
// endpoint of a synthetic service stores what it is delivered, so convergence
// judges a subscriber as a replica of the publishing service.
#include "harness/kinds/kinds.hpp"

#include <memory>

#include "harness/kinds/messaging.hpp"
#include "harness/kinds/serving.hpp"
#include "services/messaging/webhook.hpp"

namespace meshsim::harness {

namespace {

struct subscriber {
    std::string service;
    std::string endpoint;
    int version = 1;
};

struct webhook_params final : kind_params {
    svc::webhook_config hooks;
    std::vector<subscriber> subscribers;
};

}  // namespace

void read_webhook(object_reader& r, service_config& s, kind_reader& load) {
    auto p = std::make_shared<webhook_params>();
    svc::job_queue_config& q = p->hooks.delivery;
    for (const value_reader& item : r.array("subscribers", {.min_items = 1, .max_items = 100})) {
        object_reader t = item.object();
        subscriber sub;
        sub.service = t.required<std::string>("service", {.non_empty = true});
        sub.endpoint = t.required<std::string>("endpoint", {.non_empty = true});
        sub.version = t.optional<int>("version", sub.version, {.min = 1, .max = 1000});
        if (!sub.service.empty()) {
            load.service_reference(t.member("service"), sub.service, {"synthetic"});
            if (!sub.endpoint.empty())
                load.endpoint_reference(t.member("endpoint"), sub.service, sub.endpoint, sub.version);
            s.forwards_to.push_back(sub.service);
        }
        t.finish();
        p->subscribers.push_back(std::move(sub));
    }
    read_retry_keys(r, q);
    p->hooks.delivery_timeout =
        r.optional<sim::duration>("delivery_timeout", p->hooks.delivery_timeout, {.min = sim::microseconds(1)});
    endpoint_config publish;
    publish.path = "/webhooks/publish";
    publish.method = "POST";
    publish.internal = true;  // reached through publish_to, not called
    load.add_endpoint(s, std::move(publish), r.member("kind"));
    s.params = std::move(p);
}

void run_webhook(instance_env& env) {
    const webhook_params& p = env.params<webhook_params>();
    sim::runtime& rt = env.rt;
    svc::rpc_client client(rt);
    svc::webhook_publisher hooks(client, "webhooks", p.hooks);
    for (const subscriber& sub : p.subscribers) {
        hooks.subscribe("events", sub.service, env.world.instances_of(sub.service).front(), sub.endpoint);
    }
    endpoint_probe probe(env.world.obs, env.world.endpoint_stats(env.config.name, "/webhooks/publish", 1),
                         env.world.instance_row(rt.self()));
    svc::service server(rt, template_config(env.config));
    svc::endpoint_spec spec;
    spec.method = "POST";
    spec.path = "/webhooks/publish";
    spec.service_time = env.config.endpoints.front().service_time;
    spec.observer = &probe;
    std::uint64_t anonymous = 0;
    server.add_endpoint(std::move(spec), [&](const svc::request& req, svc::endpoint_context&) {
        svc::event e;
        e.id = req.head.get(svc::header::idempotency_key);  // a publisher's event id
        if (e.id.empty()) e.id = rt.node_name() + "#" + std::to_string(++anonymous);
        e.topic = "events";
        e.type = "published";
        e.payload = req.body;
        const std::size_t queued = hooks.publish(e);  // durable when it returns
        rt.log("webhook_queued", {{"event", e.id}, {"deliveries", queued}});
        return svc::response{202, {}, nullptr};
    });
    observe_queue(env.world, rt, server, env.world.service_index.at(env.config.name));
    hooks.start();  // reloads the deliveries a crash interrupted
    server.serve();
}

}  // namespace meshsim::harness
