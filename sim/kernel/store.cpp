#include "sim/kernel/store.hpp"

namespace meshsim::sim::kernel {

void memory_store::put(const std::string& key, nlohmann::json value) {
    current_[key] = value;
    unsynced_.emplace_back(key, std::move(value));
}

bool memory_store::erase(const std::string& key) {
    auto it = current_.find(key);
    if (it == current_.end()) return false;
    current_.erase(it);
    unsynced_.emplace_back(key, std::nullopt);
    return true;
}

std::optional<nlohmann::json> memory_store::get(const std::string& key) const {
    auto it = current_.find(key);
    if (it == current_.end()) return std::nullopt;
    return it->second;
}

void memory_store::sync() {
    for (auto& [key, value] : unsynced_) {
        if (value) {
            durable_[key] = std::move(*value);
        } else {
            durable_.erase(key);
        }
    }
    unsynced_.clear();
}

std::vector<std::string> memory_store::keys(std::string_view prefix) const {
    std::vector<std::string> out;
    for (auto it = current_.lower_bound(prefix); it != current_.end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0) break;
        out.push_back(it->first);
    }
    return out;
}

void memory_store::set_unsynced_survival(double probability, const random_stream& rng) {
    survival_probability_ = probability;
    survival_rng_ = rng;
}

void memory_store::lose_unsynced() {
    if (survival_probability_ > 0) {
        for (auto& [key, value] : unsynced_) {
            if (!survival_rng_.bernoulli(survival_probability_)) continue;
            if (value) {
                durable_[key] = std::move(*value);
            } else {
                durable_.erase(key);
            }
        }
    }
    current_ = durable_;
    unsynced_.clear();
}

}  // namespace meshsim::sim::kernel
