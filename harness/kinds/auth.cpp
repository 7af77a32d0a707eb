// The auth service: issues API keys ("keys") and revokes them on a schedule
// ("revoke": [{"key", "at"}]). Its one endpoint, GET /validate with body {"key"},
// answers {"valid": bool}: a key is valid when it was issued and its revocation
// time, if any, has not come. The schedule is virtual time, so a crash and restart
// of an auth instance forgets nothing. Synthetic services name it with "auth"
// (auth.hpp) and cache its answers for a TTL.
#include "harness/kinds/auth.hpp"

#include <algorithm>

#include "harness/kinds/kinds.hpp"
#include "harness/kinds/serving.hpp"

namespace meshsim::harness {

namespace {

const std::string validate_path = "/validate";

struct auth_params final : kind_params {
    std::vector<std::string> keys;
    std::map<std::string, sim::duration, std::less<>> revoke_at;
};

svc::response validate(instance_env& env, const svc::request& req) {
    const auth_params& p = env.params<auth_params>();
    const std::string key = req.body.is_object() ? req.body.value("key", std::string{}) : std::string{};
    if (key.empty()) return status(400);
    bool valid = std::find(p.keys.begin(), p.keys.end(), key) != p.keys.end();
    if (const auto it = p.revoke_at.find(key); valid && it != p.revoke_at.end())
        valid = env.rt.now() < sim::time_zero + it->second;
    return svc::response{200, {}, {{"valid", valid}}};
}

}  // namespace

void read_auth(object_reader& r, service_config& s, kind_reader& load) {
    endpoint_config e;
    e.path = validate_path;
    e.method = "GET";
    auto p = std::make_shared<auth_params>();
    for (const value_reader& key : r.array("keys", {.min_items = 1, .max_items = 10'000}))
        p->keys.push_back(key.as<std::string>({.non_empty = true}));
    for (const value_reader& item : r.array("revoke", {.max_items = 10'000})) {
        object_reader o = item.object();
        const std::string key = o.required<std::string>("key", {.non_empty = true});
        const sim::duration at = o.required<sim::duration>("at");
        if (o.valid() && !key.empty() && std::find(p->keys.begin(), p->keys.end(), key) == p->keys.end()) {
            o.error("key", "\"" + key + "\" is not one of this service's \"keys\"");
        }
        o.finish();
        p->revoke_at.emplace(key, at);
    }
    read_own_endpoints(r, s, load, {e});
    s.params = std::move(p);
}

void run_auth(instance_env& env) {
    serve_own_endpoints(env, {[&env](const svc::request& req, svc::endpoint_context&) { return validate(env, req); }});
}

auth_client::auth_client(world_context& ctx, sim::runtime& rt, svc::rpc_client& client, const std::string& caller,
                         const synthetic_params& params)
    : ctx_(ctx),
      rt_(rt),
      ttl_(params.cache_ttl),
      edge_stats_(ctx.edge_index.at({caller, params.auth})),
      edge_(client, caller + "->" + params.auth, ctx.instances_of(params.auth),
            ctx.config.policy_for(caller, params.auth)) {}

auth_client::verdict auth_client::check(const std::string& key, const svc::call_scope& scope) {
    if (const auto it = cache_.find(key); it != cache_.end() && rt_.monotonic_now() - it->second.at < ttl_)
        return it->second.valid ? verdict::valid : verdict::invalid;
    svc::call_options options;
    options.scope = &scope;
    const svc::call_outcome out =
        call_on_edge(ctx_, rt_, edge_, edge_stats_, svc::request{"GET", validate_path, 1, {}, {{"key", key}}}, options);
    if (out.result.kind != svc::outcome_kind::ok || !out.reply || !out.reply->body.is_object())
        return verdict::unavailable;
    const bool valid = out.reply->body.value("valid", false);
    cache_[key] = answer{valid, rt_.monotonic_now()};  // an age: timed on the monotonic clock
    return valid ? verdict::valid : verdict::invalid;
}

}  // namespace meshsim::harness
