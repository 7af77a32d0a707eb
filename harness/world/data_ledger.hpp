// What the safety and liveness checkers judge, recorded as it happens: per service,
// the writes it acknowledged and committed, the effects it applied (one per write
// that was not deduplicated), the requests it served with and without an
// authenticated principal, the sessions its read endpoints found and missed; per
// (replica, source), when each record was applied. When the run ends, the world
// adds what the services' stores hold. Keys are the writes' idempotency keys; maps
// keep them ordered, so reports are deterministic.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/time.hpp"

namespace meshsim::harness {

struct service_data {
    std::map<std::string, sim::time_point> acked;      // first acknowledgement of each key
    std::map<std::string, sim::time_point> committed;  // when each key became durable
    std::map<std::string, std::uint32_t> effects;      // times each key's effect was applied
    std::optional<sim::time_point> first_duplicate;    // when an effect was first applied twice
    std::uint64_t served_authenticated = 0;
    std::uint64_t served_unauthenticated = 0;
    std::optional<sim::time_point> first_unauthenticated;
    std::uint64_t session_reads_found = 0;       // read endpoints: sessions looked up and found
    std::uint64_t session_reads_missed = 0;      // ... and not found (404)
    std::set<std::string> stored;                // records in the instances' stores at the end
    std::map<std::string, std::int64_t> values;  // kv stores: each key's value at the end
};

class data_ledger {
public:
    explicit data_ledger(std::vector<std::string> service_names);

    void acked(std::size_t service, const std::string& key, sim::time_point at);
    void committed(std::size_t service, const std::string& key, sim::time_point at);
    void effect(std::size_t service, const std::string& key, sim::time_point at);
    void served(std::size_t service, bool authenticated, sim::time_point at);
    void session_read(std::size_t service, bool found);
    void applied(std::size_t replica, std::size_t source, const std::string& key, sim::time_point at);

    // At the end of the run: the records a service's stores hold, and a replica's copies of a source's.
    void set_stored(std::size_t service, std::set<std::string> keys);
    void set_replicated(std::size_t replica, std::size_t source, std::set<std::string> keys);
    void set_values(std::size_t service, std::map<std::string, std::int64_t> values);

    std::size_t service_index(std::string_view name) const;  // services().size() when unknown
    const std::vector<std::string>& service_names() const { return names_; }
    const service_data& service(std::size_t i) const { return services_[i]; }
    // First application of each of the source's keys at the replica.
    const std::map<std::string, sim::time_point>& applied(std::size_t replica, std::size_t source) const;
    const std::set<std::string>& replicated(std::size_t replica, std::size_t source) const;

private:
    std::vector<std::string> names_;
    std::vector<service_data> services_;
    std::map<std::pair<std::size_t, std::size_t>, std::map<std::string, sim::time_point>> applied_;
    std::map<std::pair<std::size_t, std::size_t>, std::set<std::string>> replicated_;
};

}  // namespace meshsim::harness
