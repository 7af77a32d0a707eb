// Addresses and messages: what crosses the (virtual or, later, real) network.
// The body is a JSON value moved from sender to receiver, not serialized; the size
// is an estimate the network uses for bandwidth and queueing.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
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

// A small ordered list of header pairs, packed into one buffer: each pair is its two
// lengths (four bytes each) followed by the key's and the value's bytes, in the order
// they were first set. An RPC request carries nine headers, and a list of strings cost
// an allocation for the list, for a 16-character key ("x-correlation-id") and for every
// value longer than 15 characters (the correlation id, the traceparent), on every
// copy; the packed list is one allocation and one memcpy. Views returned by find and
// by iteration stay valid until the next set or erase. The list is 16 bytes (it keeps
// no count of its pairs: size() walks them), so that a message is 64 bytes.
class headers {
public:
    using pair = std::pair<std::string_view, std::string_view>;

    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = pair;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = pair;

        iterator() = default;
        explicit iterator(const char* at) : at_(at) {}
        pair operator*() const;
        iterator& operator++();
        iterator operator++(int) {
            iterator was = *this;
            ++*this;
            return was;
        }
        friend bool operator==(const iterator&, const iterator&) = default;

    private:
        const char* at_ = nullptr;
    };

    headers() = default;
    headers(const headers& other);
    headers(headers&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)),
          size_(std::exchange(other.size_, 0)),
          capacity_(std::exchange(other.capacity_, 0)) {}
    headers& operator=(const headers& other);
    headers& operator=(headers&& other) noexcept {  // inline: every message moves several times
        if (this != &other) {
            delete[] data_;
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
            capacity_ = std::exchange(other.capacity_, 0);
        }
        return *this;
    }
    ~headers() { delete[] data_; }

    // Replaces the value of `key` where it stands, or appends the pair.
    void set(std::string_view key, std::string_view value);
    std::optional<std::string_view> find(std::string_view key) const;
    std::string get(std::string_view key, std::string_view fallback = {}) const;
    bool erase(std::string_view key);
    bool empty() const { return size_ == 0; }
    std::size_t size() const;  // the number of pairs
    iterator begin() const { return iterator(data_); }
    iterator end() const { return iterator(data_ + size_); }
    // The estimated wire size: key, value and four bytes ("k: v\r\n") per pair.
    std::size_t size_bytes() const { return size_ - size() * (record_head - 4); }

    friend bool operator==(const headers& a, const headers& b) {
        return std::string_view(a.data_, a.size_) == std::string_view(b.data_, b.size_);
    }

private:
    static constexpr std::uint32_t record_head = 2 * sizeof(std::uint32_t);
    // The offset of key's record, or size_ when there is none.
    std::uint32_t find_record(std::string_view key) const;
    bool views_into_data(std::string_view text) const;
    // Makes room for `more` bytes past size_ (growing by at least half).
    void reserve_more(std::size_t more);

    // Not std::string: its appends and replaces are out-of-line calls with checks
    // this list does not need, and a copy can size its buffer exactly.
    char* data_ = nullptr;
    std::uint32_t size_ = 0;
    std::uint32_t capacity_ = 0;
};

// Everything a message carries but its body (48 bytes: the fields are in the order
// that leaves no padding).
struct message_envelope {
    address from;
    address to;
    headers head;
    // Assigned by the network on send; duplicates keep the id of their original.
    std::uint64_t id = 0;
    // Estimated wire size; 0 means "estimate from headers and body on send".
    std::uint32_t size_bytes = 0;
    // What the message says, in one number the sender chose (RPC responses: the HTTP
    // status); 0 = nothing. Shown with msg_send and folded into the trace hash, so two
    // runs whose messages differ only in content (a 200 against a 502) differ in hash.
    std::uint16_t status = 0;
    // Set by the network when the receiver could not decode what arrived; the body
    // is then empty. Receivers see an error, never garbage.
    bool corrupted = false;
    // When the destination node is down or nothing listens on the port, send the
    // sender a bounce (as a TCP RST would tell it: connection refused).
    bool bounce_if_refused = false;
};

// A message is moved four or five times on its way (sender, network, mailbox,
// receiver), and nlohmann::json destroys even a moved-from (null) value with an
// out-of-line call. The body sits in a union so that a null body, which owns
// nothing, is not destroyed at all; the members below are the usual copy and move.
// A message is 64 bytes: where it waits (the network's in-flight slot, a mailbox) is
// aligned to a cache line, so a delivery to a cold node misses once for it, not twice.
// (The type itself is not over-aligned: every message or structure holding one that is
// allocated would go through aligned new, which glibc serves far more slowly.)
struct message : message_envelope {
    union {
        nlohmann::json body;
    };

    message() noexcept : body() {}
    message(const message& other) : message_envelope(other), body(other.body) {}
    message(message&& other) noexcept : message_envelope(std::move(other)), body(std::move(other.body)) {}
    message& operator=(const message& other) {
        if (this != &other) *this = message(other);
        return *this;
    }
    message& operator=(message&& other) noexcept {
        message_envelope::operator=(std::move(other));
        if (body.is_null()) {
            std::construct_at(&body, std::move(other.body));
        } else {
            body = std::move(other.body);
        }
        return *this;
    }
    ~message() {
        if (!body.is_null()) std::destroy_at(&body);
    }
};
inline constexpr std::size_t cache_line_bytes = 64;
static_assert(sizeof(message) == cache_line_bytes, "a message fills one cache line (see above)");

// A bounce carries this header (value: the drop reason) and the original id as body.
inline constexpr std::string_view bounce_header = "meshsim-bounce";

}  // namespace meshsim::sim
