// The broker: event streams with topics, at-least-once delivery and per-group
// offsets (services/messaging/broker.hpp's broker_service), each instance at
// service_port. Every instance keeps its own durable log: an instance is one
// partition of every topic, producers key each event by its id (every attempt
// of an event goes to the partition its id hashes to, kinds/synthetic.cpp), and
// each consumer group reads every partition (kinds/consumer.cpp).
#include "harness/kinds/kinds.hpp"

#include "harness/scenario/limits.hpp"
#include "services/messaging/broker.hpp"

namespace meshsim::harness {

namespace {

struct broker_params final : kind_params {
    svc::broker_config broker;
};

}  // namespace

void read_broker(object_reader& r, service_config& s, kind_reader& load) {
    auto p = std::make_shared<broker_params>();
    svc::broker_config& b = p->broker;
    b.ack_timeout = r.optional<sim::duration>("ack_timeout", b.ack_timeout, {.min = sim::milliseconds(1)});
    b.max_batch = r.optional<std::size_t>("max_batch", b.max_batch, {.min = 1, .max = 10'000});
    if (r.valid() && s.instances > run_limits::max_broker_partitions) {
        r.error("instances", "a broker has one partition per instance, at most " +
                                 std::to_string(run_limits::max_broker_partitions) + "; got " +
                                 std::to_string(s.instances));
    }
    // Producers name it in a write's publish_to, with the topic the event goes to.
    endpoint_config publish;
    publish.path = "/broker/publish";
    publish.method = "POST";
    publish.internal = true;  // reached through publish_to, not called
    load.add_endpoint(s, std::move(publish), r.member("kind"));
    s.params = std::move(p);
}

void run_broker(instance_env& env) {
    svc::broker_service broker(env.rt, env.params<broker_params>().broker, service_port);
    broker.start();  // serves in a fiber of its own; this one keeps the broker alive until a crash
    sim::wait_list forever;
    while (true) sim::wait_on(env.rt, forever, sim::time_never);
}

}  // namespace meshsim::harness
