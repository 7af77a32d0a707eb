// The versioned key-value store: every key holds an integer value and a version
// (0 for a key never written). GET /get answers {"value", "version"}; PUT /put
// writes {"value"} and, with "if_version", only when the key is still at that
// version (compare-and-set), else 409 Conflict with the current version. Without
// "if_version" a PUT is a blind write (last writer wins). A write is synced before
// its answer: a crash keeps every write the store acknowledged. Instances are
// shards: a key lives on shard_of(key, instances). Workloads with "contend" are its
// read-modify-write clients (harness/workload/generator.cpp).
#include <string>

#include "harness/kinds/kinds.hpp"
#include "harness/kinds/serving.hpp"

namespace meshsim::harness {

namespace {

std::string key_of(const svc::request& req) {
    return req.body.is_object() ? req.body.value("key", std::string{}) : std::string{};
}

nlohmann::json stored(sim::runtime& rt, const std::string& key) {
    return rt.durable_store().get(kv_prefix + key).value_or(nlohmann::json{{"value", 0}, {"version", 0}});
}

svc::response get(sim::runtime& rt, const svc::request& req) {
    const std::string key = key_of(req);
    if (key.empty()) return status(400);
    return svc::response{200, {}, stored(rt, key)};
}

svc::response put(sim::runtime& rt, const svc::request& req) {
    const std::string key = key_of(req);
    if (key.empty() || !req.body.contains("value") || !req.body["value"].is_number_integer()) return status(400);
    const nlohmann::json now = stored(rt, key);
    const std::int64_t version = now.value("version", std::int64_t{0});
    if (req.body.contains("if_version") && req.body["if_version"] != version) {
        rt.log("kv_conflict", {{"key", key}, {"version", version}});
        return svc::response{409, {}, {{"version", version}}};
    }
    // Nothing parks between the check and the synced write: a crash keeps both or neither.
    const nlohmann::json next{{"value", req.body["value"]}, {"version", version + 1}};
    rt.durable_store().put(kv_prefix + key, next);
    rt.durable_store().sync();
    rt.log("kv_put", {{"key", key}, {"version", version + 1}});
    return svc::response{200, {}, {{"version", version + 1}}};
}

}  // namespace

void read_kv(object_reader& r, service_config& s, kind_reader& load) {
    endpoint_config read;
    read.path = kv_get_path;
    read.method = "GET";
    endpoint_config write;
    write.path = kv_put_path;
    write.method = "PUT";
    read_own_endpoints(r, s, load, {read, write});
}

void run_kv(instance_env& env) {
    sim::runtime& rt = env.rt;
    serve_own_endpoints(env, {[&rt](const svc::request& req, svc::endpoint_context&) { return get(rt, req); },
                              [&rt](const svc::request& req, svc::endpoint_context&) { return put(rt, req); }});
}

}  // namespace meshsim::harness
