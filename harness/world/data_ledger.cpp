#include "harness/world/data_ledger.hpp"

#include <algorithm>

namespace meshsim::harness {

data_ledger::data_ledger(std::vector<std::string> service_names)
    : names_(std::move(service_names)), services_(names_.size()) {}

void data_ledger::acked(std::size_t service, const std::string& key, sim::time_point at) {
    services_[service].acked.try_emplace(key, at);
}

void data_ledger::committed(std::size_t service, const std::string& key, sim::time_point at) {
    services_[service].committed.try_emplace(key, at);
}

void data_ledger::effect(std::size_t service, const std::string& key, sim::time_point at) {
    service_data& d = services_[service];
    if (++d.effects[key] == 2 && !d.first_duplicate) d.first_duplicate = at;
}

void data_ledger::served(std::size_t service, bool authenticated, sim::time_point at) {
    service_data& d = services_[service];
    if (authenticated) {
        ++d.served_authenticated;
        return;
    }
    ++d.served_unauthenticated;
    if (!d.first_unauthenticated) d.first_unauthenticated = at;
}

void data_ledger::session_read(std::size_t service, bool found) {
    ++(found ? services_[service].session_reads_found : services_[service].session_reads_missed);
}

void data_ledger::applied(std::size_t replica, std::size_t source, const std::string& key, sim::time_point at) {
    applied_[{replica, source}].try_emplace(key, at);
}

void data_ledger::set_stored(std::size_t service, std::set<std::string> keys) {
    services_[service].stored = std::move(keys);
}

void data_ledger::set_replicated(std::size_t replica, std::size_t source, std::set<std::string> keys) {
    replicated_[{replica, source}] = std::move(keys);
}

std::size_t data_ledger::service_index(std::string_view name) const {
    return static_cast<std::size_t>(std::find(names_.begin(), names_.end(), name) - names_.begin());
}

const std::map<std::string, sim::time_point>& data_ledger::applied(std::size_t replica, std::size_t source) const {
    static const std::map<std::string, sim::time_point> none;
    auto it = applied_.find({replica, source});
    return it == applied_.end() ? none : it->second;
}

const std::set<std::string>& data_ledger::replicated(std::size_t replica, std::size_t source) const {
    static const std::set<std::string> none;
    auto it = replicated_.find({replica, source});
    return it == replicated_.end() ? none : it->second;
}

void data_ledger::set_values(std::size_t service, std::map<std::string, std::int64_t> values) {
    services_[service].values = std::move(values);
}

}  // namespace meshsim::harness
