// The reconciler (anti-entropy, the article's "allow the inconsistency and fix it
// later"): every interval it lists the records of a source of truth (every
// instance's data/ records) and the replica's copies of them (replica/<source>/),
// and sends each missing one to the replica's replica endpoint, as the lost event
// would have. The lists come from GET /reconcile/records, which the services a
// reconciler names serve (kinds/synthetic.cpp). A pass whose listing fails
// repairs nothing; the next one tries again. Records only at the replica are
// reported, not removed (convergence judges them as phantoms).
#include "harness/kinds/kinds.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>

#include "harness/kinds/serving.hpp"

namespace meshsim::harness {

namespace {

struct reconciler_params final : kind_params {
    std::string source;
    std::string replica;
    std::string endpoint;  // a replica endpoint of `replica`
    int version = 1;
    std::string api_key;  // sent to the replica endpoint
    sim::duration interval = sim::seconds(1);
    std::size_t page_size = 100;
};

struct reconciler_state {
    sim::runtime& rt;
    world_context& ctx;
    const service_config& config;
    const reconciler_params& p;
    svc::rpc_client client;
    std::vector<std::unique_ptr<svc::call_edge>> sources;   // one per instance
    std::vector<std::unique_ptr<svc::call_edge>> replicas;  // one per instance
    std::unique_ptr<svc::call_edge> repair;                 // over every replica instance

    reconciler_state(instance_env& env, const reconciler_params& params)
        : rt(env.rt), ctx(env.world), config(env.config), p(params), client(env.rt) {
        const auto edges = [&](const std::string& callee) {
            std::vector<std::unique_ptr<svc::call_edge>> out;
            for (const sim::address& a : ctx.instances_of(callee)) {
                out.push_back(std::make_unique<svc::call_edge>(client, config.name + "->" + callee,
                                                               std::vector<sim::address>{a},
                                                               ctx.config.policy_for(config.name, callee)));
            }
            return out;
        };
        sources = edges(p.source);
        replicas = edges(p.replica);
        repair = std::make_unique<svc::call_edge>(client, config.name + "->" + p.replica, ctx.instances_of(p.replica),
                                                  ctx.config.policy_for(config.name, p.replica));
    }
};

// Every record key under `prefix` at the instances of one service; nothing if one could not be listed.
std::optional<std::set<std::string>> list(reconciler_state& st, std::vector<std::unique_ptr<svc::call_edge>>& edges,
                                          const std::string& service, const std::string& prefix) {
    std::set<std::string> keys;
    const std::size_t stats = st.ctx.edge_stats(st.config.name, service);
    for (const auto& edge : edges) {
        std::string after;
        while (true) {
            svc::request req{
                "GET", "/reconcile/records", 1, {}, {{"prefix", prefix}, {"after", after}, {"limit", st.p.page_size}}};
            const svc::call_outcome out = call_on_edge(st.ctx, st.rt, *edge, stats, std::move(req), {});
            if (out.result.kind != svc::outcome_kind::ok || !out.reply || !out.reply->body.is_object())
                return std::nullopt;
            const nlohmann::json records = out.reply->body.value("records", nlohmann::json::array());
            for (const nlohmann::json& r : records) {
                if (r.is_string()) keys.insert(r.get<std::string>());
            }
            if (!out.reply->body.value("more", false) || records.empty() || !records.back().is_string()) break;
            after = records.back().get<std::string>();
        }
    }
    return keys;
}

void reconcile_once(reconciler_state& st) {
    const auto source = list(st, st.sources, st.p.source, data_prefix);
    if (!source) return;
    const auto replica = list(st, st.replicas, st.p.replica, replica_prefix + st.p.source + "/");
    if (!replica) return;
    std::uint64_t repaired = 0, failed = 0, extra = 0;
    for (const std::string& key : *source) {
        if (replica->contains(key)) continue;
        svc::request req{"POST", st.p.endpoint, st.p.version, {}, {{"source", st.p.source}, {"key", key}}};
        req.head.set(principal_header, "service:" + st.config.name);
        if (!st.p.api_key.empty()) req.head.set(svc::header::api_key, st.p.api_key);
        svc::call_options options;
        options.idempotency_key = st.p.source + "/" + key;  // as the lost event's
        const svc::call_outcome out = call_on_edge(
            st.ctx, st.rt, *st.repair, st.ctx.edge_stats(st.config.name, st.p.replica), std::move(req), options);
        if (out.result.kind == svc::outcome_kind::ok) {
            ++repaired;
        } else {
            ++failed;
        }
    }
    for (const std::string& key : *replica) extra += source->contains(key) ? 0 : 1;
    st.rt.log("reconciled",
              {{"compared", source->size()}, {"repaired", repaired}, {"failed", failed}, {"only_at_replica", extra}});
}

}  // namespace

void read_reconciler(object_reader& r, service_config& s, kind_reader& load) {
    auto p = std::make_shared<reconciler_params>();
    p->source = r.required<std::string>("source", {.non_empty = true});
    p->replica = r.required<std::string>("replica", {.non_empty = true});
    p->endpoint = r.required<std::string>("endpoint", {.non_empty = true});
    p->version = r.optional<int>("version", p->version, {.min = 1, .max = 1000});
    p->api_key = r.optional<std::string>("api_key", "", {.non_empty = true});
    p->interval = r.optional<sim::duration>("interval", p->interval, {.min = sim::milliseconds(1)});
    p->page_size = r.optional<std::size_t>("page_size", p->page_size, {.min = 1, .max = 100'000});
    if (!p->source.empty()) {
        load.service_reference(r.member("source"), p->source, {"synthetic"});
        s.talks_to.push_back(p->source);
    }
    if (!p->replica.empty()) {
        load.service_reference(r.member("replica"), p->replica, {"synthetic"});
        if (p->replica != p->source) s.talks_to.push_back(p->replica);
        if (!p->endpoint.empty()) load.endpoint_reference(r.member("endpoint"), p->replica, p->endpoint, p->version);
    }
    if (r.valid() && !p->source.empty() && p->source == p->replica)
        r.error("replica", "the replica must be another service than the source");
    const value_reader endpoint_at = r.member("endpoint");
    const value_reader source_at = r.member("source");
    load.later([endpoint_at, source_at, source = p->source, replica = p->replica, path = p->endpoint,
                version = p->version](const scenario& sc) {
        const service_config* src = sc.find_service(source);
        if (src != nullptr && src->kind == "synthetic" &&
            std::none_of(src->endpoints.begin(), src->endpoints.end(),
                         [](const endpoint_config& e) { return e.write.has_value(); })) {
            source_at.error("service \"" + source + "\" has no write endpoint: it holds no records to reconcile");
        }
        const service_config* rep = sc.find_service(replica);
        if (rep == nullptr || rep->kind != "synthetic") return;
        for (const endpoint_config& e : rep->endpoints) {
            if (e.path == path && e.version == version && !e.replica) {
                endpoint_at.error("endpoint \"" + path + "\" of service \"" + replica +
                                  "\" is not a replica endpoint (\"replica\": true): it would not store the repairs");
            }
        }
    });
    s.params = std::move(p);
}

void run_reconciler(instance_env& env) {
    reconciler_state st(env, env.params<reconciler_params>());
    while (true) {
        st.rt.sleep_for(st.p.interval);
        reconcile_once(st);
    }
}

}  // namespace meshsim::harness
