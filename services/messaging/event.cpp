#include "services/messaging/event.hpp"

#include <cstdio>

namespace meshsim::svc {

nlohmann::json to_json(const event& e) {
    return {{"id", e.id}, {"topic", e.topic}, {"type", e.type}, {"payload", e.payload}};
}

std::optional<event> event_from_json(const nlohmann::json& j) {
    if (!j.is_object()) return std::nullopt;
    auto id = j.find("id");
    auto topic = j.find("topic");
    if (id == j.end() || !id->is_string() || topic == j.end() || !topic->is_string()) return std::nullopt;
    event e;
    e.id = id->get<std::string>();
    e.topic = topic->get<std::string>();
    if (auto type = j.find("type"); type != j.end() && type->is_string()) e.type = type->get<std::string>();
    if (auto payload = j.find("payload"); payload != j.end()) e.payload = *payload;
    return e;
}

std::string sequence_key(std::uint64_t sequence) {
    char text[24];
    std::snprintf(text, sizeof text, "%020llu", static_cast<unsigned long long>(sequence));
    return text;
}

std::uint64_t sequence_of(const std::string& key) {
    const auto slash = key.rfind('/');
    std::uint64_t v = 0;
    for (std::size_t i = slash == std::string::npos ? 0 : slash + 1; i < key.size(); ++i) {
        if (key[i] < '0' || key[i] > '9') return 0;
        v = v * 10 + static_cast<std::uint64_t>(key[i] - '0');
    }
    return v;
}

}  // namespace meshsim::svc
