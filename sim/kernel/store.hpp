// A node's durable store: a key -> JSON map whose writes survive a crash only
// once synced (as a process's writes survive only after fsync).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/runtime.hpp"

namespace meshsim::sim::kernel {

class memory_store final : public store {
public:
    void put(const std::string& key, nlohmann::json value) override;
    bool erase(const std::string& key) override;
    std::optional<nlohmann::json> get(const std::string& key) const override;
    void sync() override;
    std::vector<std::string> keys(std::string_view prefix = {}) const override;

    // The crash: every write since the last sync is gone.
    void lose_unsynced();
    std::size_t unsynced_writes() const { return unsynced_.size(); }

private:
    std::map<std::string, nlohmann::json, std::less<>> current_;  // what the process sees
    std::map<std::string, nlohmann::json, std::less<>> durable_;  // what survives a crash
    // Keys written since the last sync, in write order (nullopt = erased).
    std::vector<std::pair<std::string, std::optional<nlohmann::json>>> unsynced_;
};

}  // namespace meshsim::sim::kernel
