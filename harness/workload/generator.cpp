#include "harness/workload/generator.hpp"

#include <memory>

#include "harness/workload/rate_schedule.hpp"
#include "services/platform/client.hpp"

namespace meshsim::harness {

namespace {

// What the request fibers share; they may outlive the generator's loop, so it is
// owned jointly (and dies with the node at the latest).
struct client_state {
    svc::rpc_client client;
    svc::call_edge edge;
    client_state(sim::runtime& rt, const workload_plan& plan)
        : client(rt), edge(client, "client->" + plan.config->service, plan.instances, plan.config->client) {}
};

void one_request(sim::runtime& rt, client_state& st, const workload_plan& plan, observations& obs) {
    flow_stats& stats = obs.workload(plan.stats_index);
    const sim::time_point started = rt.now();
    obs.arrival(stats, started);
    svc::request req{plan.method, plan.config->endpoint, plan.config->version, {}, nullptr};
    if (!plan.config->api_key.empty()) req.head.set(svc::header::api_key, plan.config->api_key);
    svc::call_options options;
    options.generate_idempotency_key = plan.write;  // retries repeat it
    options.criticality = plan.config->criticality;
    const svc::call_outcome out = st.edge.call(std::move(req), options);
    stats.attempts += out.attempts_sent;
    stats.retries += out.retries;
    stats.hedges += out.hedges;
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

}  // namespace

void run_workload(sim::runtime& rt, const workload_plan& plan, observations& obs) {
    auto st = std::make_shared<client_state>(rt, plan);
    if (plan.config->open) {
        open_loop(rt, st, plan, obs);
    } else {
        closed_loop(rt, st, plan, obs);
    }
    // The boot fiber keeps the client alive for answers still due: its frame owns
    // nothing the request fibers need beyond `st`, which they share.
    rt.sleep_until(sim::time_never);
}

}  // namespace meshsim::harness
