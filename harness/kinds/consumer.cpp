// A consumer: one consumer group (the service) reading one topic of a broker
// service. Each broker instance is a partition; partition b is read by instance
// (b mod instances) + 1 of the group, a static assignment as Kafka's sticky one,
// so an instance's dedupe records (in its own store) cover every redelivery of its
// partitions: a producer's retry goes to the same partition as its first attempt.
// A fiber per partition pulls a batch, processes each event with the service time,
// then acks: a crash in between redelivers (at least once). With dedupe the event
// id is recorded in the same local transaction as the effect, so a redelivered
// event has no second effect. The effect is a replica record of the event's source
// (replica/<source>/<key>), so convergence and no_duplicate_effects judge it.
#include "harness/kinds/kinds.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>

#include "harness/checkers/checker.hpp"
#include "harness/kinds/serving.hpp"
#include "services/messaging/broker.hpp"
#include "services/messaging/event_endpoint.hpp"
#include "services/messaging/idempotent_consumer.hpp"

namespace meshsim::harness {

namespace {

struct consumer_params final : kind_params {
    std::string broker;
    std::string topic;
    sim::duration_distribution service_time = sim::duration_distribution::constant(sim::milliseconds(1));
    bool dedupe = false;
    sim::duration poll_interval = svc::pull_consumer_config{}.poll_interval;
    std::size_t max_batch = svc::pull_consumer_config{}.max_batch;
};

// The topics of `broker` that some write endpoint publishes to.
std::set<std::string> published_topics(const scenario& s, const std::string& broker, const std::string& source = {}) {
    std::set<std::string> topics;
    for (const service_config& svc : s.services) {
        if (!source.empty() && svc.name != source) continue;
        for (const endpoint_config& e : svc.endpoints) {
            if (!e.write) continue;
            for (const publish_target& t : e.write->publish_to) {
                if (t.service == broker && !t.topic.empty()) topics.insert(t.topic);
            }
        }
    }
    return topics;
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

struct consumer_state {
    sim::runtime& rt;
    world_context& ctx;
    const service_config& config;
    const consumer_params& p;
    std::size_t service;
    std::size_t edge_stats;
    sim::random_stream& times;
    svc::rpc_client client;
    svc::idempotent_consumer dedup;
    std::vector<std::unique_ptr<svc::call_edge>> partitions;  // the broker instances this instance reads

    consumer_state(instance_env& env, const consumer_params& params)
        : rt(env.rt),
          ctx(env.world),
          config(env.config),
          p(params),
          service(env.world.service_index.at(env.config.name)),
          edge_stats(env.world.edge_stats(env.config.name, params.broker)),
          times(env.rt.random("consumer/service-time")),
          client(env.rt),
          dedup(env.rt.durable_store(), "consumer/" + env.config.name) {
        const std::vector<sim::address>& brokers = ctx.instances_of(p.broker);
        for (std::size_t b = 0; b < brokers.size(); ++b) {
            if (b % config.instances + 1 != env.instance) continue;
            partitions.push_back(std::make_unique<svc::call_edge>(client, config.name + "->" + p.broker,
                                                                  std::vector<sim::address>{brokers[b]},
                                                                  ctx.config.policy_for(config.name, p.broker)));
        }
    }
};

// One event's effect: its replica record and the ledger's effect and application,
// all without parking (the caller syncs, with the dedupe record when there is one).
void apply(consumer_state& st, const svc::event& ev, sim::store& disk) {
    const std::string source = ev.payload.is_object() ? ev.payload.value("source", std::string{}) : std::string{};
    const std::string key = ev.payload.is_object() ? ev.payload.value("key", std::string{}) : std::string{};
    st.rt.log("consumed", {{"event", ev.id}, {"topic", ev.topic}});
    st.ctx.data.effect(st.service, ev.id, st.rt.now());
    const std::size_t source_index = st.ctx.data.service_index(source);
    if (key.empty() || source_index >= st.ctx.data.service_names().size()) return;
    disk.put(replica_prefix + source + "/" + key, nlohmann::json{{"at_ns", st.rt.now().time_since_epoch().count()}});
    st.ctx.data.applied(st.service, source_index, key, st.rt.now());
}

void process(consumer_state& st, const svc::event& ev) {
    st.rt.compute(st.p.service_time.sample(st.times));
    if (!st.p.dedupe) {
        apply(st, ev, st.rt.durable_store());
        st.rt.durable_store().sync();
        return;
    }
    if (st.dedup.apply_once(ev.id, [&](sim::store& disk) { apply(st, ev, disk); }) == svc::apply_result::duplicate) {
        st.rt.log("consume_deduplicated", {{"event", ev.id}});
    }
}

svc::call_outcome call_broker(consumer_state& st, svc::call_edge& edge, const std::string& path, nlohmann::json body) {
    svc::request req{"POST", path, 1, {}, std::move(body)};
    req.head.set(principal_header, "service:" + st.config.name);
    return call_on_edge(st.ctx, st.rt, edge, st.edge_stats, std::move(req), {});
}

// Pull, process in offset order, ack; an empty or failed pull waits poll_interval.
void consume_forever(consumer_state& st, svc::call_edge& edge) {
    while (true) {
        const svc::call_outcome out = call_broker(
            st, edge, "/broker/pull", {{"topic", st.p.topic}, {"subscriber", st.config.name}, {"max", st.p.max_batch}});
        std::vector<svc::delivery> batch;
        if (out.result.kind == svc::outcome_kind::ok && out.reply && out.reply->body.is_object()) {
            for (const nlohmann::json& d : out.reply->body.value("deliveries", nlohmann::json::array())) {
                if (auto got = svc::delivery_from_json(d)) batch.push_back(std::move(*got));
            }
        }
        if (batch.empty()) {
            st.rt.sleep_for(st.p.poll_interval);
            continue;
        }
        for (const svc::delivery& d : batch) process(st, d.e);
        // A lost ack only delays: the lease runs out and the batch comes again.
        (void)call_broker(
            st, edge, "/broker/ack",
            {{"topic", st.p.topic}, {"subscriber", st.config.name}, {"next_offset", batch.back().offset + 1}});
    }
}

}  // namespace

void read_consumer(object_reader& r, service_config& s, kind_reader& load) {
    auto p = std::make_shared<consumer_params>();
    p->broker = r.required<std::string>("broker", {.non_empty = true});
    if (!p->broker.empty()) load.service_reference(r.member("broker"), p->broker, {"broker"});
    p->topic = r.required<std::string>("topic", {.non_empty = true});
    if (const value_reader v = r.member("service_time"); v.present()) p->service_time = load.read_distribution(v);
    p->dedupe = r.optional<bool>("dedupe", p->dedupe);
    p->poll_interval = r.optional<sim::duration>("poll_interval", p->poll_interval, {.min = sim::microseconds(1)});
    p->max_batch = r.optional<std::size_t>("max_batch", p->max_batch, {.min = 1, .max = 10'000});
    if (!p->broker.empty()) s.talks_to.push_back(p->broker);
    const value_reader topic_at = r.member("topic");
    load.later([topic_at, name = s.name, broker = p->broker, topic = p->topic](const scenario& sc) {
        const service_config* b = sc.find_service(broker);
        if (b == nullptr || b->kind != "broker" || topic.empty()) return;  // reported already
        const std::set<std::string> topics = published_topics(sc, broker);
        if (!topics.contains(topic)) {
            std::string message = "no write endpoint publishes to topic " + quoted(topic) + " of broker " +
                                  quoted(broker) + ": consumer " + quoted(name) + " would never receive an event";
            if (!topics.empty()) {
                std::string listed;
                for (const std::string& t : topics) listed += (listed.empty() ? "" : ", ") + quoted(t);
                message += " (published topics: " + listed + ")";
            }
            topic_at.error(message);
            return;
        }
        // A convergence check naming the consumer as a replica needs its source to publish there.
        for (const expectation_config& e : sc.expectations) {
            const auto c = convergence_of(e);
            if (!c || sc.find_service(c->source) == nullptr) continue;
            if (std::find(c->replicas.begin(), c->replicas.end(), name) == c->replicas.end()) continue;
            if (!published_topics(sc, broker, c->source).contains(topic)) {
                topic_at.error("consumer " + quoted(name) + " is a replica of " + quoted(c->source) +
                               " in a convergence check, but no write endpoint of " + quoted(c->source) +
                               " publishes to topic " + quoted(topic) + " of broker " + quoted(broker));
            }
        }
    });
    s.applies_effects = true;
    s.params = std::move(p);
}

void run_consumer(instance_env& env) {
    consumer_state st(env, env.params<consumer_params>());
    for (const auto& edge : st.partitions) {
        svc::call_edge* e = edge.get();
        st.rt.spawn("consume", [&st, e] { consume_forever(st, *e); });
    }
    sim::wait_list forever;  // the fibers above use st: it lives until a crash
    while (true) sim::wait_on(env.rt, forever, sim::time_never);
}

}  // namespace meshsim::harness
