// The event every messaging component carries (broker log, webhooks, outbox,
// jobs) and the small helpers they share for durable-store keys.
// An event's id is its identity: consumers deduplicate by it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace meshsim::svc {

struct event {
    std::string id;     // unique per event; the idempotency key of its consumers
    std::string topic;  // stream it belongs to, e.g. "tickets"
    std::string type;   // what happened, e.g. "ticket_updated"
    nlohmann::json payload;

    friend bool operator==(const event&, const event&) = default;
};

nlohmann::json to_json(const event& e);
// Tolerant reader: unknown fields ignored; only id and topic are required.
std::optional<event> event_from_json(const nlohmann::json& j);

// A sequence number as a fixed-width key part, so the store's key order is
// numeric order: 42 -> "00000000000000000042".
std::string sequence_key(std::uint64_t sequence);
// The number after the last '/' of a key written with sequence_key (0 if none).
std::uint64_t sequence_of(const std::string& key);

}  // namespace meshsim::svc
