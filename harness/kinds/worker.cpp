// An async worker: instances take jobs from a job_queue service (kinds/job_queue.cpp),
// run each with the service time and report the outcome. A poison job (a fraction
// of the job ids, poison_rate) fails every attempt and ends in the queue's
// dead-letter queue; error_rate fails single attempts, which the queue retries.
// With dedupe a job's effect is recorded under its id in the same local
// transaction as the effect, so a retried job whose earlier attempt took effect
// (its report lost, or its worker crashed before reporting) has no second effect.
#include "harness/kinds/kinds.hpp"

#include <memory>

#include "harness/kinds/messaging.hpp"
#include "harness/kinds/serving.hpp"
#include "harness/scenario/limits.hpp"
#include "services/messaging/idempotent_consumer.hpp"

namespace meshsim::harness {

namespace {

struct worker_params final : kind_params {
    std::string queue;
    sim::duration_distribution service_time = sim::duration_distribution::constant(sim::milliseconds(1));
    bool dedupe = false;
    std::uint32_t concurrency = 1;  // jobs one instance runs at once
    double poison_rate = 0;
    double error_rate = 0;
    sim::duration poll_interval = sim::milliseconds(100);
};

// Whether a job is poison: decided by its id, so every attempt agrees.
bool poisoned(const std::string& id, double rate) {
    if (rate <= 0) return false;
    const std::uint32_t buckets = 1'000'000;
    return static_cast<double>(job_owner(id + "#poison", buckets) - 1) < rate * buckets;
}

struct worker_state {
    sim::runtime& rt;
    world_context& ctx;
    const service_config& config;
    const worker_params& p;
    std::uint32_t instance;
    std::size_t service;
    std::size_t edge_stats;
    sim::random_stream& times;
    sim::random_stream& errors;
    svc::rpc_client client;
    svc::idempotent_consumer dedup;
    std::vector<std::unique_ptr<svc::call_edge>> queues;  // one per queue instance

    worker_state(instance_env& env, const worker_params& params)
        : rt(env.rt),
          ctx(env.world),
          config(env.config),
          p(params),
          instance(env.instance),
          service(env.world.service_index.at(env.config.name)),
          edge_stats(env.world.edge_stats(env.config.name, params.queue)),
          times(env.rt.random("worker/service-time")),
          errors(env.rt.random("worker/errors")),
          client(env.rt),
          dedup(env.rt.durable_store(), "worker/" + env.config.name) {
        for (const sim::address& a : ctx.instances_of(p.queue)) {
            queues.push_back(std::make_unique<svc::call_edge>(client, config.name + "->" + p.queue,
                                                              std::vector<sim::address>{a},
                                                              ctx.config.policy_for(config.name, p.queue)));
        }
    }

    svc::call_outcome call(svc::call_edge& edge, const std::string& path, nlohmann::json body) {
        svc::request req{"POST", path, 1, {}, std::move(body)};
        req.head.set(principal_header, "service:" + config.name);
        return call_on_edge(ctx, rt, edge, edge_stats, std::move(req), {});
    }
};

// One attempt: the service time, then the outcome; the effect only on success.
nlohmann::json run_job(worker_state& st, const std::string& id) {
    st.rt.compute(st.p.service_time.sample(st.times));
    if (poisoned(id, st.p.poison_rate)) return {{"ok", false}, {"error", "poison job"}};
    if (st.p.error_rate > 0 && st.errors.bernoulli(st.p.error_rate)) return {{"ok", false}, {"error", "job error"}};
    const auto effect = [&](sim::store& disk) {
        st.rt.log("job_effect", {{"job", id}});
        st.ctx.data.effect(st.service, id, st.rt.now());
        disk.put("worker/done/" + id, true);
    };
    if (!st.p.dedupe) {
        effect(st.rt.durable_store());
        st.rt.durable_store().sync();
    } else if (st.dedup.apply_once(id, effect) == svc::apply_result::duplicate) {
        st.rt.log("job_deduplicated", {{"job", id}});
    }
    return {{"ok", true}};
}

// Take a job of this instance's share, run it, report; nothing to take waits poll_interval.
void work_forever(worker_state& st, svc::call_edge& queue) {
    while (true) {
        const svc::call_outcome out =
            st.call(queue, "/jobs/take", {{"instance", st.instance}, {"instances", st.config.instances}});
        const nlohmann::json* job = nullptr;
        if (out.result.kind == svc::outcome_kind::ok && out.reply && out.reply->body.is_object() &&
            out.reply->body.contains("job")) {
            job = &out.reply->body["job"];
        }
        if (job == nullptr || !job->is_object() || !job->contains("id")) {
            st.rt.sleep_for(st.p.poll_interval);
            continue;
        }
        const std::string id = job->value("id", std::string{});
        nlohmann::json report = run_job(st, id);
        report["id"] = id;
        report["attempt"] = job->value("attempt", 0U);
        // A lost report fails the attempt at the queue: it runs again (deduplicated when dedupe is on).
        (void)st.call(queue, "/jobs/done", std::move(report));
    }
}

}  // namespace

void read_worker(object_reader& r, service_config& s, kind_reader& load) {
    auto p = std::make_shared<worker_params>();
    p->queue = r.required<std::string>("queue", {.non_empty = true});
    if (!p->queue.empty()) {
        load.service_reference(r.member("queue"), p->queue, {"job_queue"});
        s.talks_to.push_back(p->queue);
    }
    if (const value_reader v = r.member("service_time"); v.present()) p->service_time = load.read_distribution(v);
    p->dedupe = r.optional<bool>("dedupe", p->dedupe);
    p->concurrency = r.optional<std::uint32_t>("concurrency", p->concurrency, {.min = 1, .max = 10'000});
    if (r.valid() && std::uint64_t{p->concurrency} * s.instances > run_limits::max_looping_fibers) {
        r.error("concurrency", std::to_string(s.instances) + " instances x concurrency " +
                                   std::to_string(p->concurrency) + " is " +
                                   std::to_string(std::uint64_t{p->concurrency} * s.instances) +
                                   " worker fibers; the limit is " + std::to_string(run_limits::max_looping_fibers));
    }
    p->poison_rate = r.optional<double>("poison_rate", p->poison_rate, {.min = 0, .max = 1});
    p->error_rate = r.optional<double>("error_rate", p->error_rate, {.min = 0, .max = 1});
    p->poll_interval = r.optional<sim::duration>("poll_interval", p->poll_interval, {.min = sim::microseconds(1)});
    s.applies_effects = true;
    s.params = std::move(p);
}

void run_worker(instance_env& env) {
    worker_state st(env, env.params<worker_params>());
    for (const auto& queue : st.queues) {
        svc::call_edge* q = queue.get();
        for (std::uint32_t i = 0; i < st.p.concurrency; ++i) st.rt.spawn("work", [&st, q] { work_forever(st, *q); });
    }
    sim::wait_list forever;  // the fibers above use st: it lives until a crash
    while (true) sim::wait_on(env.rt, forever, sim::time_never);
}

}  // namespace meshsim::harness
