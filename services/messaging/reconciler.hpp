// Reconciliation (anti-entropy): a job on a replica (a subscriber's copy of
// another service's data) that fetches the source of truth's records, compares
// them with its own, repairs every difference and reports what it fixed. The
// article's "allow the inconsistency and fix it later".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/platform/config_errors.hpp"
#include "services/platform/rpc.hpp"
#include "sim/runtime.hpp"

namespace meshsim::svc {

// Source side: serves the records under `prefix` of its store, in key order and
// by pages: GET `path` v1 {after: "<suffix>", limit: n} -> {records: [[suffix, value]...], more: bool}.
// Keys are sent without the prefix, so source and replica may use different ones.
void route_records_endpoint(rpc_server& server, sim::runtime& rt, std::string prefix,
                            std::string path = "/reconcile/records");

struct reconcile_report {
    std::vector<std::string> added;       // missing on the replica: copied
    std::vector<std::string> updated;     // different on the replica: overwritten
    std::vector<std::string> removed;     // absent at the source: erased
    std::vector<std::string> kept_newer;  // the replica's version is newer: left alone
    std::size_t compared = 0;             // source records examined
    bool repaired_anything() const { return !added.empty() || !updated.empty() || !removed.empty(); }
};

nlohmann::json to_json(const reconcile_report& report);

struct reconciler_config {
    // Time between runs of the periodic job.
    sim::duration interval = sim::seconds{60};
    // Deadline of each page fetch; a run whose fetch fails repairs nothing.
    sim::duration call_timeout = sim::seconds{2};
    std::size_t page_size = 100;

    config_errors validate() const;
};

class reconciler {
public:
    // Compares the source's records with the local ones under `replica_prefix`.
    reconciler(rpc_client& client, sim::address source, std::string replica_prefix, reconciler_config config,
               std::string path = "/reconcile/records");

    // One full pass: fetch every page, then compare and repair in one local
    // transaction (one sync). Nothing when the source could not be read completely.
    // Records that are objects with a numeric "version" are only overwritten by a
    // higher version, so an event applied during the fetch is not rolled back.
    std::optional<reconcile_report> run_once();
    // Spawns the periodic job.
    void start();
    const std::optional<reconcile_report>& last_report() const { return last_; }

private:
    std::optional<std::vector<std::pair<std::string, nlohmann::json>>> fetch_source();
    reconcile_report repair(const std::vector<std::pair<std::string, nlohmann::json>>& source);

    rpc_client& client_;
    sim::address source_;
    std::string replica_prefix_;
    reconciler_config config_;
    std::string path_;
    std::optional<reconcile_report> last_;
};

}  // namespace meshsim::svc
