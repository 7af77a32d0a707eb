// A node's durable store: a key -> JSON map whose writes survive a crash only
// once synced (as a process's writes survive only after fsync).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/random.hpp"
#include "sim/runtime.hpp"

namespace meshsim::sim::kernel {

class memory_store final : public store {
public:
    void put(const std::string& key, nlohmann::json value) override;
    bool erase(const std::string& key) override;
    std::optional<nlohmann::json> get(const std::string& key) const override;
    void sync() override;
    std::vector<std::string> keys(std::string_view prefix = {}) const override;

    // The crash: every write since the last sync is gone (unless it survives, below).
    void lose_unsynced();
    // FoundationDB's non-durable files / turmoil's sync probability: at a crash each
    // unsynced write independently survives with `probability` (applied in write
    // order), drawn from `rng`. Default 0: a crash loses them all.
    void set_unsynced_survival(double probability, const random_stream& rng);
    double unsynced_survival() const { return survival_probability_; }
    std::size_t unsynced_writes() const { return unsynced_.size(); }

private:
    std::map<std::string, nlohmann::json, std::less<>> current_;  // what the process sees
    std::map<std::string, nlohmann::json, std::less<>> durable_;  // what survives a crash
    // Keys written since the last sync, in write order (nullopt = erased).
    std::vector<std::pair<std::string, std::optional<nlohmann::json>>> unsynced_;
    double survival_probability_ = 0;
    random_stream survival_rng_{0};
};

}  // namespace meshsim::sim::kernel
