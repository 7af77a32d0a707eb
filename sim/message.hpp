// Addresses and messages: what crosses the (virtual or, later, real) network.
// The body is a JSON value moved from sender to receiver, not serialized; the size
// is an estimate the network uses for bandwidth and queueing.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshsim::sim {

using node_id = std::uint32_t;
using port_id = std::uint32_t;
inline constexpr node_id no_node = 0xffffffffu;

struct address {
    node_id node = no_node;
    port_id port = 0;
    friend constexpr auto operator<=>(const address&, const address&) = default;
};

// Small ordered list of header pairs: most messages carry a handful, so a vector
// beats a map and allocates nothing when empty.
class headers {
public:
    void set(std::string_view key, std::string value);
    const std::string* find(std::string_view key) const;
    std::string get(std::string_view key, std::string_view fallback = {}) const;
    bool erase(std::string_view key);
    bool empty() const { return items_.empty(); }
    std::size_t size() const { return items_.size(); }
    auto begin() const { return items_.begin(); }
    auto end() const { return items_.end(); }
    std::size_t size_bytes() const;

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

struct message {
    address from;
    address to;
    headers head;
    nlohmann::json body;
    // Set by the network when the receiver could not decode what arrived; the body
    // is then empty. Receivers see an error, never garbage.
    bool corrupted = false;
    // Assigned by the network on send; duplicates keep the id of their original.
    std::uint64_t id = 0;
    // Estimated wire size; 0 means "estimate from headers and body on send".
    std::uint32_t size_bytes = 0;
    // What the message says, in one number the sender chose (RPC responses: the HTTP
    // status); 0 = nothing. Shown with msg_send and folded into the trace hash, so two
    // runs whose messages differ only in content (a 200 against a 502) differ in hash.
    std::uint16_t status = 0;
    // When the destination node is down or nothing listens on the port, send the
    // sender a bounce (as a TCP RST would tell it: connection refused).
    bool bounce_if_refused = false;
};

// A bounce carries this header (value: the drop reason) and the original id as body.
inline constexpr std::string_view bounce_header = "meshsim-bounce";

}  // namespace meshsim::sim
