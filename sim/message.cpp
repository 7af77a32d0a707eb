#include "sim/message.hpp"

namespace meshsim::sim {

void headers::set(std::string_view key, std::string value) {
    for (auto& [k, v] : items_) {
        if (k == key) {
            v = std::move(value);
            return;
        }
    }
    // An RPC request carries nine headers (mesh_100), up to twelve with an API key, an
    // idempotency key and a criticality: one allocation instead of five.
    if (items_.empty()) items_.reserve(12);
    items_.emplace_back(std::string(key), std::move(value));
}

const std::string* headers::find(std::string_view key) const {
    for (const auto& [k, v] : items_) {
        if (k == key) return &v;
    }
    return nullptr;
}

std::string headers::get(std::string_view key, std::string_view fallback) const {
    const std::string* v = find(key);
    return v ? *v : std::string(fallback);
}

bool headers::erase(std::string_view key) {
    for (auto it = items_.begin(); it != items_.end(); ++it) {
        if (it->first == key) {
            items_.erase(it);
            return true;
        }
    }
    return false;
}

std::size_t headers::size_bytes() const {
    std::size_t n = 0;
    for (const auto& [k, v] : items_) n += k.size() + v.size() + 4;  // "k: v\r\n"-ish
    return n;
}

}  // namespace meshsim::sim
