// The synthetic service: the platform's service template (whose concurrency limit
// and queue make it a queueing station) with the scenario's endpoints, which spend
// service time through rt.compute so slowness faults apply, call downstream through
// the platform's call_edge, and write or replicate records.
#include "harness/kinds/kinds.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "harness/kinds/auth.hpp"
#include "harness/kinds/database.hpp"
#include "harness/kinds/discovery.hpp"
#include "harness/kinds/serving.hpp"
#include "harness/world/actions.hpp"
#include "services/messaging/outbox.hpp"

namespace meshsim::harness {

namespace {

// One downstream call of an endpoint, resolved once per instance so a request
// does no lookups by name: the edge, its stats slot and the callee's method.
struct call_plan {
    const downstream_call* call;
    svc::call_edge* edge;
    std::size_t edge_stats;
    std::string method;     // of the callee's endpoint (GET when it has none)
    bool to_write = false;  // the callee's endpoint is a write: the call carries an idempotency key
};

// Where a write endpoint publishes its events: the edge to each replica endpoint.
struct publish_plan {
    const publish_target* target;
    svc::call_edge* edge;
    std::size_t edge_stats;
    std::string method;
};

// An endpoint's random streams (seeded by name, so resolving them early draws
// nothing) and its downstream calls, in the scenario's order.
struct endpoint_plan {
    sim::random_stream* errors = nullptr;  // only when error_rate > 0
    sim::random_stream* calls = nullptr;   // only when it has calls
    std::vector<call_plan> call_plans;
    std::vector<publish_plan> publish_plans;  // write endpoints
    // Write endpoints that keep their records in a database, and read endpoints of such a write.
    std::unique_ptr<database_client> database;
};

// Everything one running instance of a synthetic service owns. Lives in the
// instance's boot fiber: a crash unwinds it (handlers first, newest fibers first).
struct instance_state {
    sim::runtime& rt;
    world_context& ctx;
    const service_config& config;
    std::size_t service;
    svc::rpc_client client;
    caller_edges callees;  // makes the edges: configured instances, or followed through a registry
    std::map<std::string, std::unique_ptr<svc::call_edge>, std::less<>> edges;  // by callee service
    std::vector<endpoint_plan> plans;                                           // parallel to config.endpoints
    std::vector<endpoint_probe> probes;  // parallel to config.endpoints; never reallocated
    std::optional<svc::outbox> box;      // when a write endpoint publishes through an outbox
    std::optional<svc::outbox_relay> relay;
    std::vector<std::string> unsynced_keys;  // periodic sync: written, acknowledged, not yet durable
    std::uint64_t anonymous_writes = 0;      // writes that arrived without an idempotency key
    std::optional<auth_client> auth;         // when the service validates keys against an auth service
    svc::service server;

    instance_state(sim::runtime& r, world_context& c, const service_config& cfg)
        : rt(r),
          ctx(c),
          config(cfg),
          service(c.service_index.at(cfg.name)),
          client(r),
          callees(r, c),
          server(r, with_registration(template_config(cfg), c, cfg)) {
        for (const auto& e : cfg.endpoints) {
            for (const auto& call : e.calls) add_edge(call.service);
            if (e.write) {
                for (const auto& target : e.write->publish_to) add_edge(target.service);
            }
        }
        plans.reserve(cfg.endpoints.size());
        probes.reserve(cfg.endpoints.size());
        for (const auto& e : cfg.endpoints) {
            plans.push_back(plan_of(e));
            probes.emplace_back(ctx.obs, ctx.endpoint_index.at({cfg.name, e.path, e.version}),
                                ctx.instance_row(rt.self()));
        }
        for (const std::string& key : cfg.api_keys) server.issue_key(key, {"*"});
        if (const auto* p = dynamic_cast<const synthetic_params*>(cfg.params.get()); p && !p->auth.empty())
            auth.emplace(ctx, rt, client, cfg.name, *p);
        observe_queue(ctx, rt, server, service);
    }

private:
    void add_edge(const std::string& callee) {
        if (edges.contains(callee)) return;
        edges.emplace(callee, callees.edge(client, config.name, callee));
    }

    const endpoint_config* callee_endpoint(const std::string& service, const std::string& path, int version) const {
        for (const auto& ce : ctx.config.find_service(service)->endpoints) {
            if (ce.path == path && ce.version == version) return &ce;
        }
        return nullptr;
    }

    endpoint_plan plan_of(const endpoint_config& e) {
        endpoint_plan plan;
        if (e.error_rate > 0) plan.errors = &rt.random("errors" + e.path);
        if (!e.calls.empty()) plan.calls = &rt.random("calls" + e.path);
        for (const auto& call : e.calls) {
            call_plan cp{&call, edges.at(call.service).get(), ctx.edge_index.at({config.name, call.service}), "GET"};
            if (const endpoint_config* ce = callee_endpoint(call.service, call.endpoint, call.version)) {
                cp.method = ce->method;
                cp.to_write = ce->write.has_value();
            }
            plan.call_plans.push_back(std::move(cp));
        }
        if (e.write) {
            for (const auto& target : e.write->publish_to) {
                publish_plan pp{&target, edges.at(target.service).get(),
                                ctx.edge_index.at({config.name, target.service}), "POST"};
                if (const endpoint_config* ce = callee_endpoint(target.service, target.endpoint, target.version))
                    pp.method = ce->method;
                plan.publish_plans.push_back(std::move(pp));
            }
            if (!e.write->database.empty())
                plan.database = std::make_unique<database_client>(ctx, rt, client, config.name, e.write->database);
        }
        if (e.read) {
            const endpoint_config* from = callee_endpoint(config.name, e.read->from, e.read->version);
            if (from != nullptr && from->write && !from->write->database.empty())
                plan.database = std::make_unique<database_client>(ctx, rt, client, config.name, from->write->database);
        }
        return plan;
    }
};

// What the calls a request makes inherit from it: the platform's scope (correlation
// ID, deadline), the principal it acts for (empty: nobody authenticated it) and its
// idempotency key, from which the keys of its calls to write endpoints derive.
struct request_scope {
    const svc::call_scope& call;  // the template's, for the request being served
    std::string principal;
    std::string key;
};

// A downstream call's fiber waits inside make_call, so its frame is stack every such
// fiber keeps: the request is built straight into call_on_edge's argument (a local
// would be one more copy on that stack), and the key's temporaries are out of line.
[[gnu::noinline]] std::string downstream_key(const std::string& key, const downstream_call& call) {
    return key + ">" + call.service + call.endpoint;
}

svc::request downstream_request(const call_plan& plan, const request_scope& scope) {
    const downstream_call& call = *plan.call;
    svc::request req{plan.method, call.endpoint, call.version, {}, nullptr};
    if (!call.api_key.empty()) req.head.set(svc::header::api_key, call.api_key);
    if (!scope.principal.empty()) req.head.set(principal_header, scope.principal);
    return req;
}

// One downstream call; true when it succeeded.
bool make_call(instance_state& st, const call_plan& plan, const request_scope& scope) {
    const downstream_call& call = *plan.call;
    svc::call_options options;
    options.scope = &scope.call;
    st.callees.follow(*plan.edge, call.service);
    if (plan.to_write) {
        // Derived from the request's own key, a retried request repeats its writes'
        // keys downstream too; without one, each call draws a fresh key.
        if (scope.key.empty()) {
            options.generate_idempotency_key = true;
        } else {
            options.idempotency_key = downstream_key(scope.key, call);
        }
    }
    return call_on_edge(st.ctx, st.rt, *plan.edge, plan.edge_stats, downstream_request(plan, scope), options)
               .result.kind == svc::outcome_kind::ok;
}

// What the downstream calls of one request got: a failed required call fails the
// request; failed optional ones (service + path) make its answer partial.
struct fanout_result {
    bool ok = true;
    std::vector<std::string> missing;

    void note(const downstream_call& call, bool succeeded) {
        if (succeeded) return;
        if (call.required)
            ok = false;
        else
            missing.push_back(call.service + call.endpoint);
    }
};

// The downstream calls of one request.
fanout_result fan_out(instance_state& st, const endpoint_config& e, const endpoint_plan& plan,
                      const request_scope& scope) {
    sim::random_stream& draw = *plan.calls;
    std::vector<const call_plan*> chosen;
    for (const call_plan& cp : plan.call_plans) {
        const downstream_call& call = *cp.call;
        if (call.probability >= 1.0 || draw.bernoulli(call.probability)) chosen.push_back(&cp);
    }
    fanout_result got;
    if (e.fanout == fanout_mode::sequential) {
        for (const call_plan* call : chosen) {
            got.note(*call->call, make_call(st, *call, scope));
            if (!got.ok) return got;
        }
        return got;
    }
    // Parallel: one fiber per call; the handler waits for all of them.
    struct join {
        std::size_t pending;
        sim::wait_list done;
    } j{chosen.size(), {}};
    for (const call_plan* call : chosen) {
        st.rt.spawn("fanout", [&st, &j, &got, call, &scope] {
            got.note(*call->call, make_call(st, *call, scope));
            if (--j.pending == 0) j.done.wake_all(st.rt);
        });
    }
    while (j.pending > 0) sim::wait_on(st.rt, j.done, sim::time_never);
    return got;
}

// --- writes, events and replicas -----------------------------------------------------

// Sends one write's event to every replica endpoint of its endpoint; true when all
// accepted it. The service publishes as itself (as a mesh identity would).
bool publish(instance_state& st, const endpoint_plan& plan, const svc::event& ev) {
    bool all = true;
    for (const publish_plan& pp : plan.publish_plans) {
        // A broker appends the whole event to the target's topic; a replica takes the payload.
        svc::request req{pp.method, pp.target->endpoint, pp.target->version, {}, ev.payload};
        if (!pp.target->topic.empty()) {
            svc::event routed = ev;
            routed.topic = pp.target->topic;
            req.body = {{"event", svc::to_json(routed)}};
        }
        req.head.set(principal_header, "service:" + st.config.name);
        if (!pp.target->api_key.empty()) req.head.set(svc::header::api_key, pp.target->api_key);
        svc::call_options options;
        options.idempotency_key = ev.id;  // makes the POST retryable; replicas store by key anyway
        // Every attempt of an event goes to one broker partition, so a retry after a
        // timeout that did land is a redelivery the same consumer instance dedupes.
        if (!pp.target->topic.empty()) options.partition_key = ev.id;
        if (call_on_edge(st.ctx, st.rt, *pp.edge, pp.edge_stats, std::move(req), options).result.kind !=
            svc::outcome_kind::ok)
            all = false;
    }
    return all;
}

// The outbox and its relay, when some write endpoint publishes through one.
void start_outbox(instance_state& st) {
    bool needed = false;
    for (const auto& e : st.config.endpoints)
        needed |= e.write && e.write->publish == publish_mode::outbox && !e.write->publish_to.empty();
    if (!needed) return;
    st.box.emplace(st.rt, st.config.name);
    st.relay.emplace(
        *st.box,
        [&st](const svc::event& ev) {
            const std::size_t endpoint = ev.payload.value("endpoint", std::size_t{0});
            return endpoint < st.plans.size() && publish(st, st.plans[endpoint], ev);
        },
        svc::outbox_relay_config{});
    st.relay->start();
}

// Periodic sync: a flusher makes every acknowledged write durable each interval.
void start_flusher(instance_state& st) {
    sim::duration interval = sim::duration::max();
    for (const auto& e : st.config.endpoints) {
        if (e.write && e.write->sync == write_sync::periodic) interval = std::min(interval, e.write->sync_interval);
    }
    if (interval == sim::duration::max()) return;
    st.rt.spawn("flusher", [&st, interval] {
        while (true) {
            st.rt.sleep_for(interval);
            if (st.unsynced_keys.empty()) continue;
            st.rt.durable_store().sync();
            for (const std::string& key : st.unsynced_keys) st.ctx.data.committed(st.service, key, st.rt.now());
            st.unsynced_keys.clear();
        }
    });
}

// Applies one write: its effect, its record and (per the endpoint's settings) its
// sync and its event. A dual write's failed publish is not retried: the write stands.
void apply_write(instance_state& st, const endpoint_config& e, std::size_t endpoint, const std::string& key) {
    const write_config& w = *e.write;
    data_ledger& data = st.ctx.data;
    const std::string record = data_prefix + key;
    // Between the effect and the store write nothing parks: a crash keeps both or neither.
    const auto change = [&](sim::store& disk) {
        st.rt.log("write", {{"key", key}});  // the effect, in the trace too
        data.effect(st.service, key, st.rt.now());
        disk.put(record, nlohmann::json{{"at_ns", st.rt.now().time_since_epoch().count()}});
    };
    const auto committed = [&] { data.committed(st.service, key, st.rt.now()); };
    if (w.publish_to.empty()) {
        change(st.rt.durable_store());
        if (w.sync == write_sync::before_ack) {
            st.rt.durable_store().sync();
            committed();
        } else {
            st.unsynced_keys.push_back(key);
        }
        return;
    }
    svc::event ev;
    ev.id = st.config.name + "/" + key;
    ev.topic = st.config.name;
    ev.type = "written";
    ev.payload = {{"source", st.config.name}, {"key", key}, {"endpoint", endpoint}};
    for (const std::string& field : w.event_fields) ev.payload[field] = true;  // an additive change
    if (w.publish == publish_mode::outbox) {
        st.box->commit([&](sim::store& disk) { change(disk); }, {ev});
        committed();
        return;
    }
    // Dual write: store and sync, then publish once (svc::dual_writer's steps);
    // nothing retries a failed publish, and a crash in between loses the event.
    svc::dual_writer writer(st.rt, [&](const svc::event& x) { return publish(st, st.plans[endpoint], x); });
    writer.write(
        [&](sim::store& disk) {
            change(disk);
            committed();  // the writer syncs right after, without parking
        },
        ev);
}

// A replica endpoint: stores the event's record under its source, synced. A strict
// reader refuses (400) an event with a field beyond the ones every event has.
[[gnu::noinline]] std::optional<svc::response> apply_event(instance_state& st, const endpoint_config& e,
                                                           const svc::request& req) {
    // A published event's payload, or a delivered event ({"event": {..., "payload": ...}}, a webhook's).
    const nlohmann::json* body = &req.body;
    if (body->is_object() && body->contains("event") && (*body)["event"].is_object() &&
        (*body)["event"].contains("payload"))
        body = &(*body)["event"]["payload"];
    const std::string source = body->is_object() ? body->value("source", std::string{}) : std::string{};
    const std::string key = body->is_object() ? body->value("key", std::string{}) : std::string{};
    const std::size_t source_index = st.ctx.data.service_index(source);
    if (key.empty() || source_index >= st.ctx.data.service_names().size()) return status(400);
    if (e.reader == event_reader::strict) {
        for (const auto& [field, value] : body->items()) {
            if (field == "source" || field == "key" || field == "endpoint") continue;
            st.rt.log("event_rejected", {{"source", source}, {"key", key}, {"unknown_field", field}});
            return status(400);
        }
    }
    sim::store& disk = st.rt.durable_store();
    disk.put(replica_prefix + source + "/" + key, nlohmann::json{{"at_ns", st.rt.now().time_since_epoch().count()}});
    disk.sync();
    st.rt.log("replica_applied", {{"source", source}, {"key", key}});
    st.ctx.data.applied(st.service, source_index, key, st.rt.now());
    return std::nullopt;
}

// A read endpoint: looks the request's session up where the write endpoint it reads
// from keeps its records (its database, else this instance's own store, whose
// unsynced writes are this process's memory): 200 found, 404 not, 400 no session.
[[gnu::noinline]] svc::response read_session(instance_state& st, const endpoint_plan& plan, const svc::request& req,
                                             const request_scope& scope, svc::response answer) {
    const std::string session = req.head.get(session_header);
    if (session.empty()) return status(400);
    bool found = false;
    if (plan.database) {
        const database_client::lookup_result got = plan.database->lookup(session, scope.call);
        if (got == database_client::lookup_result::failed) return status(502);
        found = got == database_client::lookup_result::found;
    } else {
        found = st.rt.durable_store().get(data_prefix + session).has_value();
    }
    st.ctx.data.session_read(st.service, found);
    if (!found) {
        st.rt.log("session_missed", {{"key", session}});
        return status(404);
    }
    return answer;
}

// Who the request acts for: the consumer whose API key the service checked, or
// the principal an upstream service that authenticated it passed on; else nobody.
std::string principal_of(const instance_state& st, const svc::request& req, const svc::endpoint_context& ec) {
    if (!st.config.api_keys.empty()) return "key:" + ec.api_key;  // the template checked it (401 otherwise)
    return req.head.get(principal_header);
}

// Keys checked with the auth service (fail closed: no answer, no service); a status
// when the request is refused, else the scope's principal becomes the key's.
[[gnu::noinline]] std::optional<svc::response> check_key(instance_state& st, const svc::request& req,
                                                         const svc::endpoint_context& ec, request_scope& scope) {
    const std::string key = req.head.get(svc::header::api_key);
    if (key.empty()) return status(401);
    const auth_client::verdict v = st.auth->check(key, ec.scope);
    if (v == auth_client::verdict::unavailable) return status(503);
    if (v == auth_client::verdict::invalid) return status(401);
    scope.principal = "key:" + key;
    return std::nullopt;
}

// A write endpoint's effect; false when its database refused it.
[[gnu::noinline]] bool serve_write(instance_state& st, const endpoint_config& e, std::size_t endpoint,
                                   const endpoint_plan& plan, request_scope& scope) {
    if (scope.key.empty()) scope.key = st.rt.node_name() + "#" + std::to_string(++st.anonymous_writes);
    // A key already written is a retry or a duplicate: with dedupe, answered
    // again without a second effect (by the database, when the records are there).
    if (plan.database) {
        if (!plan.database->write(scope.key, e.write->dedupe, scope.call)) return false;
    } else if (!e.write->dedupe || !st.rt.durable_store().get(data_prefix + scope.key)) {
        apply_write(st, e, endpoint, scope.key);
    } else {
        st.rt.log("write_deduplicated", {{"key", scope.key}});
    }
    st.ctx.data.acked(st.service, scope.key, st.rt.now());
    return true;
}

// Degraded: answered without the optional parts that failed (a gateway's partial answer).
[[gnu::noinline]] void answer_partially(instance_state& st, std::size_t endpoint, svc::response& answer,
                                        std::vector<std::string>&& missing) {
    st.probes[endpoint].partial();
    answer.body = {{"partial", true}, {"missing", std::move(missing)}};
}

// The endpoint's work once the template admitted the request and spent its
// service time: injected errors, downstream calls, then its write or replica record.
// A request's fiber stays parked in here while its downstream calls are made, so the
// branches most requests skip are functions of their own (their locals would widen
// this frame, stack every such fiber touches; docs/performance.md, "Eighth round").
svc::response handle(instance_state& st, const endpoint_config& e, std::size_t endpoint, const svc::request& req,
                     svc::endpoint_context& ec) {
    const endpoint_plan& plan = st.plans[endpoint];
    request_scope scope{ec.scope, principal_of(st, req, ec), req.head.get(svc::header::idempotency_key)};
    if (st.auth) {
        if (auto refused = check_key(st, req, ec, scope)) return std::move(*refused);
    }
    st.ctx.data.served(st.service, !scope.principal.empty(), st.rt.now());
    if (e.flag) {
        if (const auto failed = serve_flagged(st.rt, st.ctx.config, e)) return status(*failed);
    } else if (e.error_rate > 0 && plan.errors->bernoulli(e.error_rate)) {
        return status(e.error_status);
    }
    svc::response answer = status(200);
    if (!e.calls.empty()) {
        fanout_result got = fan_out(st, e, plan, scope);
        if (!got.ok) return status(502);
        if (!got.missing.empty()) answer_partially(st, endpoint, answer, std::move(got.missing));
    }
    if (e.replica) {
        if (auto bad = apply_event(st, e, req)) return *bad;
    }
    if (e.read) return read_session(st, plan, req, scope, std::move(answer));
    if (e.write && !serve_write(st, e, endpoint, plan, scope)) return status(502);
    return answer;
}

// What a reconciler (kinds/reconciler.cpp) compares: this instance's record keys
// under a prefix ("data/", or "replica/<source>/"), in key order and by pages:
// GET /reconcile/records {prefix, after, limit} -> {records: [suffix...], more}.
void serve_records(instance_state& st) {
    bool reconciled = false;  // only services a reconciler talks to serve it
    for (const service_config& s : st.ctx.config.services) {
        reconciled |= s.kind == "reconciler" &&
                      std::find(s.talks_to.begin(), s.talks_to.end(), st.config.name) != s.talks_to.end();
    }
    if (!reconciled) return;
    svc::endpoint_spec spec;
    spec.path = "/reconcile/records";
    st.server.add_endpoint(std::move(spec), [&st](const svc::request& req, svc::endpoint_context&) {
        const std::string prefix = req.body.is_object() ? req.body.value("prefix", std::string{}) : std::string{};
        if (prefix != data_prefix && !prefix.starts_with(replica_prefix)) return status(400);
        const std::string after = req.body.value("after", std::string{});
        const std::size_t limit = std::max<std::size_t>(1, req.body.value("limit", std::size_t{100}));
        nlohmann::json records = nlohmann::json::array();
        bool more = false;
        for (const std::string& key : st.rt.durable_store().keys(prefix)) {
            const std::string suffix = key.substr(prefix.size());
            if (!after.empty() && suffix <= after) continue;
            if (records.size() == limit) {
                more = true;
                break;
            }
            records.push_back(suffix);
        }
        return svc::response{200, {}, {{"records", std::move(records)}, {"more", more}}};
    });
}

}  // namespace

void run_synthetic(instance_env& env) {
    const service_config& config = env.config;
    instance_state st(env.rt, env.world, config);
    for (std::size_t i = 0; i < config.endpoints.size(); ++i) {
        const endpoint_config& e = config.endpoints[i];
        svc::endpoint_spec spec;
        spec.method = e.method;
        spec.path = e.path;
        spec.api_version = e.version;
        if (!config.api_keys.empty()) spec.required_scope = "call";  // every issued key grants "*"
        spec.service_time = e.service_time;
        spec.honour_deadline = e.honour_deadline;
        spec.observer = &st.probes[i];
        st.server.add_endpoint(std::move(spec), [&st, &e, i](const svc::request& req, svc::endpoint_context& ec) {
            return handle(st, e, i, req, ec);
        });
    }
    serve_records(st);
    start_outbox(st);
    start_flusher(st);
    st.server.serve();
}
void read_synthetic(object_reader& r, service_config& s, kind_reader& load) {
    load.read_station_keys(r, s, true);
    if (auto a = r.maybe_object("auth")) {
        auto p = std::make_shared<synthetic_params>();
        p->auth = a->required<std::string>("service", {.non_empty = true});
        p->cache_ttl = a->optional<sim::duration>("cache_ttl", p->cache_ttl);
        if (a->valid() && !p->auth.empty()) load.service_reference(a->member("service"), p->auth, {"auth"});
        if (a->valid() && !s.api_keys.empty())
            r.error("auth",
                    "a service checks keys either itself (\"api_keys\") or with an auth service (\"auth\"), not both");
        a->finish();
        if (!p->auth.empty()) s.talks_to.push_back(p->auth);
        s.params = std::move(p);
    }
    for (const endpoint_config& e : s.endpoints) {
        if (e.write && !e.write->database.empty() &&
            std::find(s.talks_to.begin(), s.talks_to.end(), e.write->database) == s.talks_to.end())
            s.talks_to.push_back(e.write->database);
    }
}

}  // namespace meshsim::harness
