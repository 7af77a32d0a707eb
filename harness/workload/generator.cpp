#include "harness/workload/generator.hpp"

#include <memory>
#include <optional>

#include "harness/kinds/serving.hpp"
#include "harness/workload/rate_schedule.hpp"
#include "services/platform/backoff.hpp"
#include "services/platform/client.hpp"
#include "services/platform/ids.hpp"

namespace meshsim::harness {

namespace {

// What the request fibers share; they may outlive the generator's loop, so it is
// owned jointly (and dies with the node at the latest).
struct client_state {
    svc::rpc_client client;
    svc::call_edge edge;
    // A contend workload's key lives on one shard of the store: every client calls that instance.
    std::optional<svc::call_edge> shard_edge;
    client_state(sim::runtime& rt, const workload_plan& plan)
        : client(rt), edge(client, "client->" + plan.config->service, plan.instances, plan.config->client) {
        if (const auto& c = plan.config->contend) {
            shard_edge.emplace(client, "client->" + plan.config->service,
                               std::vector<sim::address>{plan.instances[shard_of(c->key, plan.instances.size())]},
                               plan.config->client);
        }
    }
};

// Built straight into the call's argument: a local would be one more request on the
// stack of the fiber that waits for the answer.
svc::request workload_request(const workload_plan& plan) {
    svc::request req{plan.method, plan.config->endpoint, plan.config->version, {}, nullptr};
    if (!plan.config->api_key.empty()) req.head.set(svc::header::api_key, plan.config->api_key);
    return req;
}

// The reads of a session whose login succeeded: each carries the session, think
// time apart (the first after the login too); the outcome of the first that failed,
// else of the last. Out of line: one_request's frame is stack every request's fiber
// keeps while it waits (docs/performance.md, "Eighth round").
[[gnu::noinline]] svc::outcome session_reads(sim::runtime& rt, client_state& st, const workload_plan& plan,
                                             observations& obs, const std::string& session, svc::outcome login) {
    const session_config& c = *plan.config->session;
    flow_stats& stats = obs.workload(plan.stats_index);
    sim::random_stream& think = rt.random("session-think");
    svc::outcome last = std::move(login);
    for (std::uint32_t i = 0; i < c.reads; ++i) {
        rt.sleep_for(c.think_time.sample(think));
        svc::request req{plan.session_method, c.endpoint, c.version, {}, nullptr};
        if (!plan.config->api_key.empty()) req.head.set(svc::header::api_key, plan.config->api_key);
        req.head.set(session_header, session);
        svc::call_options options;
        options.criticality = plan.config->criticality;
        const svc::call_outcome out = st.edge.call(std::move(req), options);
        obs.call_ended(stats, rt.now(), out.attempts_sent, out.retries, out.hedges, out.end);
        last = out.result;
        if (last.kind != svc::outcome_kind::ok) break;
    }
    return last;
}

// One request of the workload; with "session", the login and its reads as one
// request (its latency the whole session's, its attempts every call's).
void one_request(sim::runtime& rt, client_state& st, const workload_plan& plan, observations& obs) {
    flow_stats& stats = obs.workload(plan.stats_index);
    const sim::time_point started = rt.now();
    obs.arrival(stats, started);
    svc::call_options options;
    options.generate_idempotency_key = plan.write;  // retries repeat it
    // A session's login key is drawn here, from the same stream the client draws from, so it is known.
    if (plan.config->session) options.idempotency_key = svc::new_idempotency_key(rt);
    options.criticality = plan.config->criticality;
    std::string session = options.idempotency_key;
    const svc::call_outcome out = st.edge.call(workload_request(plan), options);
    obs.call_ended(stats, rt.now(), out.attempts_sent, out.retries, out.hedges, out.end);
    if (plan.config->session && out.result.kind == svc::outcome_kind::ok) {
        obs.completion(stats, started, rt.now(), session_reads(rt, st, plan, obs, session, out.result));
        return;
    }
    obs.completion(stats, started, rt.now(), out.result);
}

void open_loop(sim::runtime& rt, const std::shared_ptr<client_state>& st, const workload_plan& plan,
               observations& obs) {
    const open_loop_config& open = *plan.config->open;
    const rate_schedule rates(open);
    const double peak = rates.peak();
    if (peak <= 0) return;
    sim::random_stream& arrivals = rt.random("arrivals");
    sim::time_point t = sim::time_zero + plan.config->start;
    while (true) {
        if (open.arrivals == arrival_process::poisson) {
            // Thinning: candidates at the peak rate, each kept with rate(t) / peak.
            t += sim::from_seconds(arrivals.exponential(1.0 / peak));
            if (t >= plan.stop) return;
            if (arrivals.uniform01() * peak >= rates.rate_at(t - sim::time_zero)) continue;
        } else {
            const double rate = rates.rate_at(t - sim::time_zero);
            t += rate > 0 ? sim::from_seconds(1.0 / rate) : sim::milliseconds(1);
            if (t >= plan.stop) return;
            if (rate <= 0) continue;
        }
        rt.sleep_until(t);
        rt.spawn("request", [&rt, st, &plan, &obs] { one_request(rt, *st, plan, obs); });
    }
}

void closed_loop(sim::runtime& rt, const std::shared_ptr<client_state>& st, const workload_plan& plan,
                 observations& obs) {
    const closed_loop_config& closed = *plan.config->closed;
    rt.sleep_until(sim::time_zero + plan.config->start);
    for (std::uint32_t u = 0; u < closed.users; ++u) {
        rt.spawn("user", [&rt, st, &plan, &obs, &closed, u] {
            sim::random_stream& think = rt.random("think/" + std::to_string(u));
            while (rt.now() < plan.stop) {
                one_request(rt, *st, plan, obs);
                rt.sleep_for(closed.think_time.sample(think));
            }
        });
    }
}

// Counts one call of a read-modify-write update into the workload's attempts; true when it was answered 2xx.
bool counted(observations& obs, flow_stats& stats, sim::time_point now, const svc::call_outcome& out) {
    obs.call_ended(stats, now, out.attempts_sent, out.retries, 0, out.end);
    return out.result.kind == svc::outcome_kind::ok;
}

// One update of a contend workload, counted as one request of the workload (its
// latency is the update's completion time, its attempts every GET and PUT sent):
// read, then write value + 1 (if the version is unchanged); a 409 Conflict counts
// as a retry, waits the client's retry backoff and starts over.
void one_update(sim::runtime& rt, svc::call_edge& edge, const workload_plan& plan, observations& obs,
                sim::random_stream& jitter) {
    const contend_config& c = *plan.config->contend;
    flow_stats& stats = obs.workload(plan.stats_index);
    const sim::time_point started = rt.now();
    obs.arrival(stats, started);
    const svc::backoff backoff(plan.config->client.retry.backoff);
    sim::duration wait{0};
    for (std::uint32_t conflicts = 0;; ++conflicts) {
        const svc::call_outcome read = edge.call(svc::request{"GET", kv_get_path, 1, {}, {{"key", c.key}}});
        if (!counted(obs, stats, rt.now(), read) || !read.reply || !read.reply->body.is_object()) {
            obs.completion(stats, started, rt.now(), read.result);
            return;
        }
        const nlohmann::json& got = read.reply->body;
        nlohmann::json body{{"key", c.key}, {"value", got.value("value", std::int64_t{0}) + 1}};
        if (c.compare_and_set) body["if_version"] = got.value("version", std::int64_t{0});
        const svc::call_outcome write = edge.call(svc::request{"PUT", kv_put_path, 1, {}, std::move(body)});
        if (counted(obs, stats, rt.now(), write) || write.result.http_status != 409) {
            obs.completion(stats, started, rt.now(), write.result);
            return;
        }
        obs.call_ended(stats, rt.now(), 0, 1, 0, std::nullopt);  // a conflict: the update goes on
        wait = backoff.delay(conflicts, wait, jitter);
        rt.sleep_for(wait);
    }
}

// `clients` fibers, each making its updates one after another (until the workload stops).
void contend_loop(sim::runtime& rt, const std::shared_ptr<client_state>& st, const workload_plan& plan,
                  observations& obs) {
    const contend_config& c = *plan.config->contend;
    rt.sleep_until(sim::time_zero + plan.config->start);
    for (std::uint32_t u = 0; u < c.clients; ++u) {
        rt.spawn("contender", [&rt, st, &plan, &obs, &c, u] {
            sim::random_stream& jitter = rt.random("backoff/" + std::to_string(u));
            for (std::uint32_t i = 0; i < c.updates && rt.now() < plan.stop; ++i)
                one_update(rt, *st->shard_edge, plan, obs, jitter);
        });
    }
}

}  // namespace

void run_workload(sim::runtime& rt, const workload_plan& plan, observations& obs) {
    auto st = std::make_shared<client_state>(rt, plan);
    if (plan.config->open) {
        open_loop(rt, st, plan, obs);
    } else if (plan.config->contend) {
        contend_loop(rt, st, plan, obs);
    } else {
        closed_loop(rt, st, plan, obs);
    }
    // The boot fiber keeps the client alive for answers still due: its frame owns
    // nothing the request fibers need beyond `st`, which they share.
    rt.sleep_until(sim::time_never);
}

}  // namespace meshsim::harness
