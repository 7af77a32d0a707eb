#include "services/messaging/reconciler.hpp"

#include <set>
#include <utility>

namespace meshsim::svc {

namespace {
// A replica's value wins only when both carry versions and its own is higher.
bool replica_is_newer(const nlohmann::json& replica, const nlohmann::json& source) {
    if (!replica.is_object() || !source.is_object()) return false;
    auto rv = replica.find("version");
    auto sv = source.find("version");
    return rv != replica.end() && sv != source.end() && rv->is_number() && sv->is_number() &&
           rv->get<double>() > sv->get<double>();
}
}  // namespace

nlohmann::json to_json(const reconcile_report& report) {
    return {{"added", report.added},
            {"updated", report.updated},
            {"removed", report.removed},
            {"kept_newer", report.kept_newer},
            {"compared", report.compared}};
}

config_errors reconciler_config::validate() const {
    config_errors errors;
    require(errors, interval > sim::duration::zero(), "interval", "> 0", interval);
    require(errors, call_timeout > sim::duration::zero(), "call_timeout", "> 0", call_timeout);
    require(errors, page_size >= 1, "page_size", ">= 1", static_cast<double>(page_size));
    return errors;
}

void route_records_endpoint(rpc_server& server, sim::runtime& rt, std::string prefix, std::string path) {
    server.route("GET", std::move(path), 1, [&rt, prefix = std::move(prefix)](const request& req, request_context&) {
        const std::string after = req.body.value("after", std::string{});
        const std::size_t limit = req.body.value("limit", std::size_t{100});
        nlohmann::json records = nlohmann::json::array();
        bool more = false;
        for (const auto& key : rt.durable_store().keys(prefix)) {
            std::string suffix = key.substr(prefix.size());
            if (!after.empty() && suffix <= after) continue;
            if (records.size() >= limit) {
                more = true;
                break;
            }
            records.push_back({std::move(suffix), *rt.durable_store().get(key)});
        }
        return response{200, {}, {{"records", std::move(records)}, {"more", more}}};
    });
}

reconciler::reconciler(rpc_client& client, sim::address source, std::string replica_prefix, reconciler_config config,
                       std::string path)
    : client_(client),
      source_(source),
      replica_prefix_(std::move(replica_prefix)),
      config_(config),
      path_(std::move(path)) {}

void reconciler::start() {
    client_.runtime().spawn("reconciler", [this] {
        while (true) {
            client_.runtime().sleep_for(config_.interval);
            run_once();
        }
    });
}

std::optional<std::vector<std::pair<std::string, nlohmann::json>>> reconciler::fetch_source() {
    std::vector<std::pair<std::string, nlohmann::json>> records;
    std::string after;
    while (true) {
        request req;
        req.method = "GET";
        req.path = path_;
        req.body = {{"after", after}, {"limit", config_.page_size}};
        call_result r =
            client_.call(source_, std::move(req), sim::saturating_add(client_.runtime().now(), config_.call_timeout));
        if (r.result.kind != outcome_kind::ok || !r.reply) return std::nullopt;
        for (const auto& pair : r.reply->body.value("records", nlohmann::json::array())) {
            records.emplace_back(pair.at(0).get<std::string>(), pair.at(1));
        }
        if (!r.reply->body.value("more", false) || records.empty()) return records;
        after = records.back().first;
    }
}

std::optional<reconcile_report> reconciler::run_once() {
    auto source = fetch_source();
    sim::runtime& rt = client_.runtime();
    if (!source) {
        rt.log("reconcile_failed", {{"source_node", source_.node}});
        return std::nullopt;
    }
    last_ = repair(*source);
    rt.log("reconcile", to_json(*last_));
    return last_;
}

// Compare and repair without parking, so the pass is one local transaction.
reconcile_report reconciler::repair(const std::vector<std::pair<std::string, nlohmann::json>>& source) {
    sim::store& disk = client_.runtime().durable_store();
    reconcile_report report;
    std::set<std::string> in_source;
    for (const auto& [suffix, value] : source) {
        ++report.compared;
        in_source.insert(suffix);
        const std::string key = replica_prefix_ + suffix;
        auto mine = disk.get(key);
        if (!mine) {
            disk.put(key, value);
            report.added.push_back(suffix);
        } else if (*mine != value) {
            if (replica_is_newer(*mine, value)) {
                report.kept_newer.push_back(suffix);
                continue;
            }
            disk.put(key, value);
            report.updated.push_back(suffix);
        }
    }
    for (const auto& key : disk.keys(replica_prefix_)) {
        std::string suffix = key.substr(replica_prefix_.size());
        if (in_source.count(suffix) != 0) continue;
        disk.erase(key);
        report.removed.push_back(std::move(suffix));
    }
    if (report.repaired_anything()) disk.sync();
    return report;
}

}  // namespace meshsim::svc
