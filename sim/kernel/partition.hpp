// Partitions as cut matrices: which directed node pairs cannot talk. A cut is
// built once (explicit groups, a one-way cut, or a named shape as Jepsen names
// them) and handed to the network, which checks it on send and on delivery.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/message.hpp"
#include "sim/random.hpp"

namespace meshsim::sim::kernel {

// What happens to a message that meets a cut (sent across it, or in flight when
// it appeared): dropped (iptables DROP, the default), or held and delivered when
// the cut heals (turmoil's hold/release).
enum class cut_mode : std::uint8_t { drop, hold };
std::string_view to_string(cut_mode m);

// A directed reachability cut over nodes [0, n): bit (a, b) set = a cannot send to b.
// Rows are bit words, so group shapes over 1,000 nodes build in microseconds.
class cut_matrix {
public:
    cut_matrix() = default;
    explicit cut_matrix(std::uint32_t nodes);

    std::uint32_t nodes() const { return nodes_; }
    bool blocks(node_id from, node_id to) const {
        if (from >= nodes_ || to >= nodes_) return false;
        return (bits_[static_cast<std::size_t>(from) * words_ + (to >> 6)] >> (to & 63)) & 1u;
    }
    void block(node_id from, node_id to);
    void block_both(node_id a, node_id b) {
        block(a, b);
        block(b, a);
    }
    // Number of blocked directed pairs (tests, trace detail).
    std::uint64_t blocked_pairs() const;

    // --- shapes; node lists are ids in [0, nodes) ---
    // Nodes in different groups cannot talk either way. Nodes named in no group
    // form one more group together. Groups must be disjoint (validate first).
    static cut_matrix groups(std::uint32_t nodes, const std::vector<std::vector<node_id>>& groups);
    // Messages from any of `from` to any of `to` are cut; the reverse direction flows.
    static cut_matrix one_way(std::uint32_t nodes, const std::vector<node_id>& from, const std::vector<node_id>& to);
    // [0, n/2) | [n/2, n): the smaller half first, as Jepsen's bisect.
    static cut_matrix halves(std::uint32_t nodes);
    // A seeded shuffle, then halves.
    static cut_matrix random_halves(std::uint32_t nodes, random_stream& rng);
    // One node cut off from all others, both ways.
    static cut_matrix isolate(std::uint32_t nodes, node_id lonely);
    // Nodes on a (seeded, shuffled) ring; each sees the nodes within ring distance
    // ceil((majority - 1) / 2), so each sees a majority and no two see the same one
    // (n >= 5). Jepsen's majorities-ring.
    static cut_matrix majorities_ring(std::uint32_t nodes, random_stream& rng);
    // Two halves joined by one bridge node (the first of the second half) that sees
    // everyone: Jepsen's bridge.
    static cut_matrix bridge(std::uint32_t nodes);

private:
    std::uint32_t nodes_ = 0;
    std::uint32_t words_ = 0;
    std::vector<std::uint64_t> bits_;
};

}  // namespace meshsim::sim::kernel
