#include "services/platform/registry.hpp"

#include <utility>

namespace meshsim::svc {

namespace {
constexpr const char* instances_path = "/registry/instances";
constexpr const char* heartbeat_path = "/registry/heartbeat";

std::string string_field(const nlohmann::json& j, const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

nlohmann::json instance_key(const std::string& service, const std::string& instance_id) {
    return {{"service", service}, {"instance_id", instance_id}};
}

request make_request(std::string method, std::string path, nlohmann::json body) {
    request req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.body = std::move(body);
    return req;
}
}  // namespace

nlohmann::json address_to_json(sim::address a) { return {{"node", a.node}, {"port", a.port}}; }

std::optional<sim::address> address_from_json(const nlohmann::json& j) {
    if (!j.is_object()) return std::nullopt;
    auto node = j.find("node");
    auto port = j.find("port");
    // Tolerant: a writer's literal 80 is a signed JSON integer; negatives are not addresses.
    auto natural = [&](nlohmann::json::const_iterator it) {
        return it != j.end() && it->is_number_integer() && it->get<std::int64_t>() >= 0;
    };
    if (!natural(node) || !natural(port)) return std::nullopt;
    return sim::address{node->get<sim::node_id>(), port->get<sim::port_id>()};
}

nlohmann::json to_json(const instance_info& info) {
    return {{"service", info.service},
            {"instance_id", info.instance_id},
            {"address", address_to_json(info.address)},
            {"version", info.version},
            {"metadata", info.metadata}};
}

std::optional<instance_info> instance_from_json(const nlohmann::json& j) {
    if (!j.is_object()) return std::nullopt;
    instance_info info;
    info.service = string_field(j, "service");
    info.instance_id = string_field(j, "instance_id");
    auto addr = address_from_json(j.value("address", nlohmann::json{}));
    if (info.service.empty() || info.instance_id.empty() || !addr) return std::nullopt;
    info.address = *addr;
    info.version = string_field(j, "version");
    if (auto it = j.find("metadata"); it != j.end() && it->is_object()) info.metadata = *it;
    return info;
}

config_errors registry_config::validate() const {
    config_errors errors;
    require(errors, ttl > sim::duration::zero(), "ttl", "> 0", ttl);
    require(errors, expiry_check_interval > sim::duration::zero(), "expiry_check_interval", "> 0",
            expiry_check_interval);
    return errors;
}

config_errors registration_config::validate() const {
    config_errors errors;
    require(errors, heartbeat_interval > sim::duration::zero(), "heartbeat_interval", "> 0", heartbeat_interval);
    require(errors, call_timeout > sim::duration::zero(), "call_timeout", "> 0", call_timeout);
    return errors;
}

config_errors discovery_config::validate() const {
    config_errors errors;
    require(errors, refresh_interval > sim::duration::zero(), "refresh_interval", "> 0", refresh_interval);
    require(errors, call_timeout > sim::duration::zero(), "call_timeout", "> 0", call_timeout);
    return errors;
}

// ------------------------------------------------------------------ table

void registry_table::register_instance(const instance_info& info, sim::time_point now) {
    services_[info.service].insert_or_assign(info.instance_id, entry{info, now});
}

bool registry_table::heartbeat(const std::string& service, const std::string& instance_id, sim::time_point now) {
    auto s = services_.find(service);
    if (s == services_.end()) return false;
    auto it = s->second.find(instance_id);
    // An instance past its TTL is gone even if the sweeper has not run yet.
    if (it == s->second.end() || !alive(it->second, now)) return false;
    it->second.last_heartbeat = now;
    return true;
}

bool registry_table::deregister(const std::string& service, const std::string& instance_id) {
    auto s = services_.find(service);
    return s != services_.end() && s->second.erase(instance_id) > 0;
}

std::vector<instance_info> registry_table::lookup(const std::string& service, sim::time_point now) const {
    std::vector<instance_info> live;
    auto s = services_.find(service);
    if (s == services_.end()) return live;
    for (const auto& [id, e] : s->second) {
        if (alive(e, now)) live.push_back(e.info);
    }
    return live;
}

std::optional<sim::time_point> registry_table::last_heartbeat(const std::string& service,
                                                              const std::string& instance_id) const {
    auto s = services_.find(service);
    if (s == services_.end()) return std::nullopt;
    auto it = s->second.find(instance_id);
    if (it == s->second.end()) return std::nullopt;
    return it->second.last_heartbeat;
}

std::vector<instance_info> registry_table::expire(sim::time_point now) {
    std::vector<instance_info> removed;
    for (auto& [service, instances] : services_) {
        for (auto it = instances.begin(); it != instances.end();) {
            if (alive(it->second, now)) {
                ++it;
                continue;
            }
            removed.push_back(it->second.info);
            it = instances.erase(it);
        }
    }
    return removed;
}

// ------------------------------------------------------------------ service

registry_service::registry_service(sim::runtime& rt, registry_config config, sim::port_id port)
    : rt_(rt), config_(config), table_(config), server_(rt, port) {
    add_routes();
}

void registry_service::add_routes() {
    server_.route("POST", instances_path, 1, [this](const request& req, request_context& ctx) {
        auto info = instance_from_json(req.body);
        if (!info) return response{400, {}, nullptr};
        table_.register_instance(*info, ctx.rt.monotonic_now());
        ctx.rt.log("registry_register", {{"service", info->service}, {"instance", info->instance_id}});
        return response{200, {}, nullptr};
    });
    server_.route("PUT", heartbeat_path, 1, [this](const request& req, request_context& ctx) {
        const bool known = table_.heartbeat(string_field(req.body, "service"), string_field(req.body, "instance_id"),
                                            ctx.rt.monotonic_now());
        return response{static_cast<std::uint16_t>(known ? 200 : 404), {}, nullptr};
    });
    server_.route("DELETE", instances_path, 1, [this](const request& req, request_context&) {
        const bool known = table_.deregister(string_field(req.body, "service"), string_field(req.body, "instance_id"));
        return response{static_cast<std::uint16_t>(known ? 200 : 404), {}, nullptr};
    });
    server_.route("GET", instances_path, 1, [this](const request& req, request_context& ctx) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& info : table_.lookup(string_field(req.body, "service"), ctx.rt.monotonic_now())) {
            list.push_back(to_json(info));
        }
        return response{200, {}, {{"instances", std::move(list)}}};
    });
}

void registry_service::start() {
    rt_.spawn("registry-server", [this] { server_.serve(); });
    rt_.spawn("registry-expiry", [this] { sweep_forever(); });
}

void registry_service::sweep_forever() {
    while (true) {
        rt_.sleep_for(config_.expiry_check_interval);
        for (const auto& gone : table_.expire(rt_.monotonic_now())) {
            rt_.log("registry_expired", {{"service", gone.service}, {"instance", gone.instance_id}});
        }
    }
}

// ------------------------------------------------------------------ agent

registration_agent::registration_agent(rpc_client& client, sim::address registry, instance_info self,
                                       registration_config config)
    : client_(client), registry_(registry), self_(std::move(self)), config_(config) {}

void registration_agent::start() {
    client_.runtime().spawn("registry-heartbeat", [this] { beat_forever(); });
}

void registration_agent::beat_forever() {
    sim::runtime& rt = client_.runtime();
    while (true) {
        if (registered_) beat_once();
        if (!registered_) registered_ = try_register();
        rt.sleep_for(config_.heartbeat_interval);
    }
}

bool registration_agent::try_register() {
    sim::runtime& rt = client_.runtime();
    call_result r = client_.call(registry_, make_request("POST", instances_path, to_json(self_)),
                                 sim::saturating_add(rt.now(), config_.call_timeout));
    const bool ok = r.result.kind == outcome_kind::ok;
    if (ok) rt.record_state("registration/" + self_.service, "registered");
    return ok;
}

void registration_agent::beat_once() {
    sim::runtime& rt = client_.runtime();
    call_result r =
        client_.call(registry_, make_request("PUT", heartbeat_path, instance_key(self_.service, self_.instance_id)),
                     sim::saturating_add(rt.now(), config_.call_timeout));
    // Only a 404 means "forgotten"; a lost heartbeat is retried at the next beat
    // (the TTL spans several beats for exactly this reason).
    if (r.result.kind == outcome_kind::http_error && r.result.http_status == 404) {
        registered_ = false;
        rt.record_state("registration/" + self_.service, "unknown_to_registry");
    }
}

// ------------------------------------------------------------------ discovery

discovery_client::discovery_client(rpc_client& client, sim::address registry, discovery_config config)
    : client_(client), registry_(registry), config_(config) {}

void discovery_client::watch(const std::string& service) { cache_.try_emplace(service); }

void discovery_client::start() {
    client_.runtime().spawn("discovery-refresh", [this] { refresh_forever(); });
}

void discovery_client::refresh_forever() {
    while (true) {
        // Copy the names: watch() may add services while a refresh is waiting.
        std::vector<std::string> services;
        for (const auto& [name, entry] : cache_) services.push_back(name);
        for (const auto& name : services) refresh(name);
        client_.runtime().sleep_for(config_.refresh_interval);
    }
}

bool discovery_client::refresh(const std::string& service) {
    sim::runtime& rt = client_.runtime();
    call_result r = client_.call(registry_, make_request("GET", instances_path, {{"service", service}}),
                                 sim::saturating_add(rt.now(), config_.call_timeout));
    cache_entry& entry = cache_[service];
    const bool ok = r.result.kind == outcome_kind::ok && r.reply && r.reply->body.contains("instances") &&
                    r.reply->body["instances"].is_array();
    if (!ok) {
        mark(service, entry, true);
        return false;
    }
    std::vector<instance_info> fresh;
    for (const auto& j : r.reply->body["instances"]) {
        if (auto info = instance_from_json(j)) fresh.push_back(std::move(*info));
    }
    // A registry keeps its table in memory: restarted, it answers an empty list until
    // the instances' next heartbeats (404) make them register again. Taken as is, that
    // answer would leave every caller without an instance for a whole refresh, so an
    // empty answer never replaces a non-empty list: the cache keeps it, marked stale
    // (Eureka's self-preservation guards the same moment). When every instance really
    // is gone, calls to the kept list fail as they would with none.
    if (fresh.empty() && !entry.instances.empty()) {
        mark(service, entry, true);
        return false;
    }
    if (fresh != entry.instances) {
        entry.instances = std::move(fresh);
        ++entry.generation;
    }
    entry.last_success = rt.monotonic_now();
    mark(service, entry, false);
    return true;
}

void discovery_client::mark(const std::string& service, cache_entry& entry, bool stale) {
    if (entry.stale != stale || !entry.reported) {
        client_.runtime().record_state("discovery/" + service, stale ? "stale" : "fresh");
    }
    entry.stale = stale;
    entry.reported = true;
}

const std::vector<instance_info>& discovery_client::instances(const std::string& service) const {
    static const std::vector<instance_info> none;
    auto it = cache_.find(service);
    return it == cache_.end() ? none : it->second.instances;
}

bool discovery_client::stale(const std::string& service) const {
    auto it = cache_.find(service);
    return it == cache_.end() || it->second.stale;
}

std::uint64_t discovery_client::generation(const std::string& service) const {
    auto it = cache_.find(service);
    return it == cache_.end() ? 0 : it->second.generation;
}

std::optional<sim::time_point> discovery_client::last_success(const std::string& service) const {
    auto it = cache_.find(service);
    return it == cache_.end() ? std::nullopt : it->second.last_success;
}

}  // namespace meshsim::svc
