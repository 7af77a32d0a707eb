#include "sim/kernel/partition.hpp"

#include <algorithm>
#include <bit>
#include <numeric>

namespace meshsim::sim::kernel {

std::string_view to_string(cut_mode m) {
    switch (m) {
        case cut_mode::drop: return "drop";
        case cut_mode::hold: return "hold";
    }
    return "unknown";
}

cut_matrix::cut_matrix(std::uint32_t nodes)
    : nodes_(nodes), words_((nodes + 63) / 64), bits_(static_cast<std::size_t>(nodes) * words_, 0) {}

void cut_matrix::block(node_id from, node_id to) {
    if (from >= nodes_ || to >= nodes_ || from == to) return;  // a node always reaches itself
    bits_[static_cast<std::size_t>(from) * words_ + (to >> 6)] |= std::uint64_t{1} << (to & 63);
}

std::uint64_t cut_matrix::blocked_pairs() const {
    std::uint64_t n = 0;
    for (const std::uint64_t w : bits_) n += static_cast<std::uint64_t>(std::popcount(w));
    return n;
}

cut_matrix cut_matrix::groups(std::uint32_t nodes, const std::vector<std::vector<node_id>>& groups) {
    // Label every node with its group; unnamed nodes share the label groups.size().
    std::vector<std::uint32_t> label(nodes, static_cast<std::uint32_t>(groups.size()));
    for (std::uint32_t g = 0; g < groups.size(); ++g) {
        for (const node_id id : groups[g]) {
            if (id < nodes) label[id] = g;
        }
    }
    // Row of a node = every word of "not in my group": one mask per label.
    cut_matrix m(nodes);
    std::vector<std::vector<std::uint64_t>> members(groups.size() + 1, std::vector<std::uint64_t>(m.words_, 0));
    for (node_id id = 0; id < nodes; ++id) members[label[id]][id >> 6] |= std::uint64_t{1} << (id & 63);
    const std::uint64_t last_word_mask = (nodes & 63) == 0 ? ~std::uint64_t{0} : (std::uint64_t{1} << (nodes & 63)) - 1;
    for (node_id id = 0; id < nodes; ++id) {
        const std::vector<std::uint64_t>& mine = members[label[id]];
        std::uint64_t* row = &m.bits_[static_cast<std::size_t>(id) * m.words_];
        for (std::uint32_t w = 0; w < m.words_; ++w) row[w] = ~mine[w];
        row[m.words_ - 1] &= last_word_mask;
    }
    return m;
}

cut_matrix cut_matrix::one_way(std::uint32_t nodes, const std::vector<node_id>& from, const std::vector<node_id>& to) {
    cut_matrix m(nodes);
    for (const node_id a : from) {
        for (const node_id b : to) m.block(a, b);
    }
    return m;
}

namespace {
std::vector<std::vector<node_id>> bisect(const std::vector<node_id>& order) {
    const std::size_t half = order.size() / 2;
    return {std::vector<node_id>(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(half)),
            std::vector<node_id>(order.begin() + static_cast<std::ptrdiff_t>(half), order.end())};
}

std::vector<node_id> identity(std::uint32_t nodes) {
    std::vector<node_id> order(nodes);
    std::iota(order.begin(), order.end(), node_id{0});
    return order;
}

// Fisher-Yates on our own stream (std::shuffle's draws differ between libraries).
void shuffle(std::vector<node_id>& order, random_stream& rng) {
    for (std::size_t i = order.size(); i > 1; --i) {
        std::swap(order[i - 1], order[rng.below(i)]);
    }
}
}  // namespace

cut_matrix cut_matrix::halves(std::uint32_t nodes) { return groups(nodes, bisect(identity(nodes))); }

cut_matrix cut_matrix::random_halves(std::uint32_t nodes, random_stream& rng) {
    std::vector<node_id> order = identity(nodes);
    shuffle(order, rng);
    return groups(nodes, bisect(order));
}

cut_matrix cut_matrix::isolate(std::uint32_t nodes, node_id lonely) { return groups(nodes, {{lonely}}); }

cut_matrix cut_matrix::majorities_ring(std::uint32_t nodes, random_stream& rng) {
    std::vector<node_id> ring = identity(nodes);
    shuffle(ring, rng);
    const std::uint32_t majority = nodes / 2 + 1;
    const std::uint32_t reach = majority / 2;  // ceil((majority - 1) / 2)
    cut_matrix m(nodes);
    for (std::uint32_t i = 0; i < nodes; ++i) {
        for (std::uint32_t j = 0; j < nodes; ++j) {
            const std::uint32_t d = i > j ? i - j : j - i;
            if (std::min(d, nodes - d) > reach) m.block(ring[i], ring[j]);
        }
    }
    return m;
}

cut_matrix cut_matrix::bridge(std::uint32_t nodes) {
    const std::vector<std::vector<node_id>> two = bisect(identity(nodes));
    cut_matrix m(nodes);
    if (two[1].empty()) return m;
    const node_id bridge_node = two[1].front();
    for (const node_id a : two[0]) {
        for (const node_id b : two[1]) {
            if (b != bridge_node) m.block_both(a, b);
        }
    }
    return m;
}

}  // namespace meshsim::sim::kernel
