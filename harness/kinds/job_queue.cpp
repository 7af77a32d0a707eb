// The job queue: a durable queue of jobs (services/messaging/job_queue.hpp) with
// retries, backoff and a dead-letter queue, served over the network. Clients
// enqueue with POST /jobs (answered 202 once the job and its record are synced;
// the idempotency key is the job id, so a retried enqueue queues nothing twice).
// Workers (kinds/worker.cpp) take jobs with POST /jobs/take and report with POST
// /jobs/done; a job not reported within visibility_timeout of its take counts as
// a failed attempt (SQS's visibility timeout), retried after the backoff until
// max_attempts, then dead-lettered. Each job belongs to one worker instance (a
// hash of its id), so that instance's dedupe records see every retry of it.
#include "harness/kinds/kinds.hpp"

#include <map>
#include <memory>
#include <optional>

#include "harness/kinds/messaging.hpp"
#include "harness/kinds/serving.hpp"
#include "services/messaging/job_queue.hpp"

namespace meshsim::harness {

namespace {

struct job_queue_params final : kind_params {
    svc::job_queue_config queue;
    sim::duration visibility_timeout = sim::seconds(2);
};

// One attempt of a job, offered to the workers by the queue's handler fiber that runs it.
struct handout {
    const svc::job& job;
    bool taken = false;
    sim::time_point deadline = sim::time_never;  // of the worker's report, once taken
    std::optional<bool> ok;
    std::string error;
    sim::wait_list changed;
};

struct queue_state {
    sim::runtime& rt;
    world_context& ctx;
    const service_config& config;
    const job_queue_params& p;
    std::size_t service;
    endpoint_probe probe;
    std::map<std::uint64_t, handout*> offered;  // not yet taken, in offer order
    std::map<std::string, handout*> running;    // by job id: taken or offered
    std::uint64_t next_offer = 0;
    std::uint64_t anonymous = 0;  // enqueues without an idempotency key
    svc::service server;
    svc::job_queue queue;

    queue_state(instance_env& env, const job_queue_params& params)
        : rt(env.rt),
          ctx(env.world),
          config(env.config),
          p(params),
          service(env.world.service_index.at(env.config.name)),
          probe(env.world.obs, env.world.endpoint_stats(env.config.name, "/jobs", 1),
                env.world.instance_row(env.rt.self())),
          server(env.rt, template_config(env.config)),
          queue(env.rt, "jobs", params.queue, [this](const svc::job& j) { return hand_out(j); }) {}

    // The handler of one attempt: offer the job, wait for a worker to take it, then for its report.
    svc::job_outcome hand_out(const svc::job& j) {
        handout h{j, false, sim::time_never, std::nullopt, {}, {}};
        const std::uint64_t offer = next_offer++;
        offered.emplace(offer, &h);
        running.emplace(j.id, &h);
        struct forget {  // also when a crash unwinds this fiber
            queue_state& st;
            std::uint64_t offer;
            const std::string& id;
            ~forget() {
                st.offered.erase(offer);
                st.running.erase(id);
            }
        } guard{*this, offer, j.id};
        while (!h.taken) sim::wait_on(rt, h.changed, sim::time_never);
        while (!h.ok && rt.now() < h.deadline) sim::wait_on(rt, h.changed, h.deadline);
        if (!h.ok) return svc::job_outcome::failure("not done within the visibility timeout");
        return *h.ok ? svc::job_outcome::done() : svc::job_outcome::failure(h.error);
    }

    svc::response enqueue(const svc::request& req) {
        std::string id = req.head.get(svc::header::idempotency_key);
        if (id.empty()) id = rt.node_name() + "#" + std::to_string(++anonymous);
        if (rt.durable_store().get(data_prefix + id)) {
            rt.log("enqueue_deduplicated", {{"job", id}});  // a retried enqueue: queued once already
        } else {
            // The record joins the job's own sync: 202 means both are durable.
            rt.durable_store().put(data_prefix + id, nlohmann::json{{"at_ns", rt.now().time_since_epoch().count()}});
            queue.enqueue(id, "job", req.body);
            rt.log("job_enqueued", {{"job", id}});
            ctx.data.effect(service, id, rt.now());
            ctx.data.committed(service, id, rt.now());
        }
        ctx.data.acked(service, id, rt.now());
        return svc::response{202, {}, nullptr};
    }

    svc::response take(const svc::request& req) {
        const std::uint32_t instance = req.body.is_object() ? req.body.value("instance", 0U) : 0U;
        const std::uint32_t of = req.body.is_object() ? req.body.value("instances", 0U) : 0U;
        if (instance == 0 || of == 0 || instance > of) return status(400);
        for (auto it = offered.begin(); it != offered.end(); ++it) {
            handout& h = *it->second;
            if (job_owner(h.job.id, of) != instance) continue;
            offered.erase(it);
            h.taken = true;
            h.deadline = sim::saturating_add(rt.now(), p.visibility_timeout);
            h.changed.wake_all(rt);
            return svc::response{
                200, {}, {{"job", {{"id", h.job.id}, {"attempt", h.job.attempts}, {"payload", h.job.payload}}}}};
        }
        return svc::response{200, {}, nlohmann::json::object()};
    }

    svc::response done(const svc::request& req) {
        if (!req.body.is_object() || !req.body.contains("id")) return status(400);
        const auto it = running.find(req.body.value("id", std::string{}));
        // A report after the visibility timeout (or for an earlier attempt) is stale: the attempt failed.
        if (it == running.end() || !it->second->taken || it->second->ok ||
            it->second->job.attempts != req.body.value("attempt", 0U)) {
            return svc::response{409, {}, nullptr};
        }
        it->second->ok = req.body.value("ok", false);
        it->second->error = req.body.value("error", std::string{"failed"});
        it->second->changed.wake_all(rt);
        return status(200);
    }
};

}  // namespace

std::uint32_t job_owner(const std::string& id, std::uint32_t instances) {
    std::uint64_t h = 14695981039346656037ULL;  // FNV-1a: the same on every platform
    for (const char c : id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    return static_cast<std::uint32_t>(h % instances) + 1;
}

void read_retry_keys(object_reader& r, svc::job_queue_config& q) {
    q.max_attempts = r.optional<std::uint32_t>("max_attempts", q.max_attempts, {.min = 1, .max = 1000});
    q.worker_count = r.optional<std::size_t>("in_flight", q.worker_count, {.min = 1, .max = 10'000});
    q.backoff.base_delay =
        r.optional<sim::duration>("backoff_base", q.backoff.base_delay, {.min = sim::microseconds(1)});
    q.backoff.max_delay = r.optional<sim::duration>("backoff_max", q.backoff.max_delay, {.min = sim::microseconds(1)});
    if (r.valid() && q.backoff.max_delay < q.backoff.base_delay)
        r.error("backoff_max", "\"backoff_max\" is below \"backoff_base\"");
}

void read_job_queue(object_reader& r, service_config& s, kind_reader& load) {
    auto p = std::make_shared<job_queue_params>();
    svc::job_queue_config& q = p->queue;
    read_retry_keys(r, q);
    p->visibility_timeout =
        r.optional<sim::duration>("visibility_timeout", p->visibility_timeout, {.min = sim::milliseconds(1)});
    endpoint_config enqueue;
    enqueue.path = "/jobs";
    enqueue.method = "POST";
    write_config one_per_key;  // one job per idempotency key; clients send one
    one_per_key.dedupe = true;
    enqueue.write = std::move(one_per_key);
    load.add_endpoint(s, std::move(enqueue), r.member("kind"));
    s.params = std::move(p);
}

void run_job_queue(instance_env& env) {
    queue_state st(env, env.params<job_queue_params>());
    svc::endpoint_spec jobs;
    jobs.method = "POST";
    jobs.path = "/jobs";
    jobs.service_time = env.config.endpoints.front().service_time;
    jobs.observer = &st.probe;
    st.server.add_endpoint(std::move(jobs),
                           [&st](const svc::request& req, svc::endpoint_context&) { return st.enqueue(req); });
    svc::endpoint_spec take;
    take.method = "POST";
    take.path = "/jobs/take";
    st.server.add_endpoint(std::move(take),
                           [&st](const svc::request& req, svc::endpoint_context&) { return st.take(req); });
    svc::endpoint_spec done;
    done.method = "POST";
    done.path = "/jobs/done";
    st.server.add_endpoint(std::move(done),
                           [&st](const svc::request& req, svc::endpoint_context&) { return st.done(req); });
    observe_queue(st.ctx, st.rt, st.server, st.service);
    st.queue.start();  // reloads the jobs a crash interrupted
    st.server.serve();
}

}  // namespace meshsim::harness
