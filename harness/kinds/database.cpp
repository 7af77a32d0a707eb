// The database: a service-wide store that instances of other services share. Each
// of its instances is a node with its own durable store and one endpoint, POST
// /records, a queueing station (concurrency, queue) whose service time is the
// database's latency. A record is applied and synced before the database answers:
// a crash keeps every record it acknowledged and none it did not (nothing parks
// between the dedupe check, the record and its sync). Several instances are shards:
// callers route each key to one of them by a stable hash. A database some read
// endpoint reads from also serves GET /records/lookup (the loader adds it then only,
// so databases nobody reads from serve what they always did).
#include "harness/kinds/database.hpp"

#include <memory>

#include "harness/kinds/kinds.hpp"
#include "harness/kinds/serving.hpp"

namespace meshsim::harness {

namespace {

const std::string records_path = "/records";

// One write: {"table": <calling service>, "key": <idempotency key>, "dedupe": bool}.
svc::response apply_record(instance_env& env, const svc::request& req) {
    world_context& ctx = env.world;
    const nlohmann::json& b = req.body;
    const std::string table = b.is_object() ? b.value("table", std::string{}) : std::string{};
    const std::string key = b.is_object() ? b.value("key", std::string{}) : std::string{};
    const bool dedupe = b.is_object() && b.value("dedupe", false);
    const std::size_t owner = ctx.data.service_index(table);
    if (key.empty() || owner >= ctx.data.service_names().size()) return status(400);
    sim::store& disk = env.rt.durable_store();
    const std::string record = table_prefix + table + "/" + key;
    if (dedupe && disk.get(record)) {
        env.rt.log("write_deduplicated", {{"table", table}, {"key", key}});
        return svc::response{200, {}, {{"duplicate", true}}};
    }
    env.rt.log("write", {{"table", table}, {"key", key}});  // the effect, in the trace too
    ctx.data.effect(owner, key, env.rt.now());
    disk.put(record, nlohmann::json{{"at_ns", env.rt.now().time_since_epoch().count()}});
    disk.sync();
    ctx.data.committed(owner, key, env.rt.now());
    return svc::response{200, {}, {{"duplicate", false}}};
}

// One lookup: {"table": <calling service>, "key": <key>} -> 200 when the record is there, else 404.
svc::response look_up_record(instance_env& env, const svc::request& req) {
    const nlohmann::json& b = req.body;
    const std::string table = b.is_object() ? b.value("table", std::string{}) : std::string{};
    const std::string key = b.is_object() ? b.value("key", std::string{}) : std::string{};
    if (key.empty() || env.world.data.service_index(table) >= env.world.data.service_names().size()) return status(400);
    return status(env.rt.durable_store().get(table_prefix + table + "/" + key) ? 200 : 404);
}

}  // namespace

void read_database(object_reader& r, service_config& s, kind_reader& load) {
    endpoint_config records;
    records.path = records_path;
    records.method = "POST";
    read_own_endpoints(r, s, load, {records});
}

void run_database(instance_env& env) {
    std::vector<svc::endpoint_handler> handlers;
    for (const endpoint_config& e : env.config.endpoints) {
        if (e.path == database_lookup_path) {
            handlers.emplace_back(
                [&env](const svc::request& req, svc::endpoint_context&) { return look_up_record(env, req); });
        } else {
            handlers.emplace_back(
                [&env](const svc::request& req, svc::endpoint_context&) { return apply_record(env, req); });
        }
    }
    serve_own_endpoints(env, handlers);
}

database_client::database_client(world_context& ctx, sim::runtime& rt, svc::rpc_client& client,
                                 const std::string& caller, const std::string& database)
    : ctx_(ctx), rt_(rt), caller_(caller), edge_stats_(ctx.edge_index.at({caller, database})) {
    const svc::edge_policy& policy = ctx.config.policy_for(caller, database);
    for (const sim::address& shard : ctx.instances_of(database)) {
        shards_.push_back(std::make_unique<svc::call_edge>(client, caller + "->" + database,
                                                           std::vector<sim::address>{shard}, policy));
    }
}

bool database_client::write(const std::string& key, bool dedupe, const svc::call_scope& scope) {
    svc::call_edge& shard = *shards_[shard_of(key, shards_.size())];
    svc::request req{"POST", records_path, 1, {}, {{"table", caller_}, {"key", key}, {"dedupe", dedupe}}};
    req.head.set(principal_header, "service:" + caller_);
    svc::call_options options;
    options.scope = &scope;
    options.idempotency_key = key;  // makes the POST retryable; the database dedupes by key
    return call_on_edge(ctx_, rt_, shard, edge_stats_, std::move(req), options).result.kind == svc::outcome_kind::ok;
}

database_client::lookup_result database_client::lookup(const std::string& key, const svc::call_scope& scope) {
    svc::call_edge& shard = *shards_[shard_of(key, shards_.size())];
    svc::request req{"GET", database_lookup_path, 1, {}, {{"table", caller_}, {"key", key}}};
    req.head.set(principal_header, "service:" + caller_);
    svc::call_options options;
    options.scope = &scope;
    const svc::call_outcome out = call_on_edge(ctx_, rt_, shard, edge_stats_, std::move(req), options);
    if (out.result.kind == svc::outcome_kind::ok) return lookup_result::found;
    return out.result.http_status == 404 ? lookup_result::missing : lookup_result::failed;
}

}  // namespace meshsim::harness
