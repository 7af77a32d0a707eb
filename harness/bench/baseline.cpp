// The bare event loop: nothing from meshsim, so it measures only what the
// machine and Boost.Context cost for the ring workload. Each node is a raw
// continuation; the loop pops the earliest delivery and resumes its node, which
// draws a destination and a latency and schedules the next delivery.
#include <chrono>
#include <cstdint>
#include <deque>
#include <queue>
#include <string>
#include <vector>

#include <boost/context/fiber.hpp>
#include <boost/context/pooled_fixedsize_stack.hpp>

#include "harness/bench/bench.hpp"

namespace meshsim::harness::bench {

namespace {

struct delivery {
    std::int64_t at_ns;
    std::uint64_t seq;
    std::uint32_t node;
    std::uint32_t slot;
    bool operator>(const delivery& o) const { return at_ns != o.at_ns ? at_ns > o.at_ns : seq > o.seq; }
};

// What the kernel's ring carries: addresses, an id and an (empty) body, moved
// from the sender into flight and from flight into the receiver's mailbox.
struct bare_message {
    std::uint32_t from = 0;
    std::uint32_t to = 0;
    std::uint64_t id = 0;
    std::string body;
};

struct bare_loop {
    std::priority_queue<delivery, std::vector<delivery>, std::greater<>> queue;
    std::vector<bare_message> in_flight;
    std::vector<std::uint32_t> free_slots;
    std::vector<std::deque<bare_message>> mailboxes;
    std::uint64_t seq = 0;
    std::int64_t now_ns = 0;
    std::uint64_t rng = 0;
    std::uint32_t nodes = 0;

    std::uint64_t next() {  // splitmix64, inline: no project code
        std::uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    void send_from_node(std::uint32_t self) {
        bare_message msg;
        msg.from = self;
        msg.to = static_cast<std::uint32_t>(next() % nodes);
        msg.id = seq;
        const auto latency_ns = static_cast<std::int64_t>(1'000'000 + next() % 9'000'000);
        const std::uint32_t to = msg.to;
        std::uint32_t slot;
        if (free_slots.empty()) {
            slot = static_cast<std::uint32_t>(in_flight.size());
            in_flight.push_back(std::move(msg));
        } else {
            slot = free_slots.back();
            free_slots.pop_back();
            in_flight[slot] = std::move(msg);
        }
        queue.push({now_ns + latency_ns, seq++, to, slot});
    }
};

}  // namespace

double run_baseline(std::uint32_t nodes, std::uint64_t messages, std::uint64_t seed, std::size_t stack_bytes) {
    namespace ctx = boost::context;
    bare_loop loop;
    loop.rng = seed;
    loop.nodes = nodes;
    loop.mailboxes.resize(nodes);
    ctx::pooled_fixedsize_stack stacks(stack_bytes, 64);
    std::vector<ctx::fiber> fibers;
    fibers.reserve(nodes);
    for (std::uint32_t i = 0; i < nodes; ++i) {
        fibers.emplace_back(std::allocator_arg, stacks, [&loop, i](ctx::fiber&& main) {
            while (true) {
                loop.send_from_node(i);
                main = std::move(main).resume();  // wait for the next message
                const bare_message got = std::move(loop.mailboxes[i].front());
                loop.mailboxes[i].pop_front();
                (void)got;
            }
            return std::move(main);
        });
    }
    const auto start = std::chrono::steady_clock::now();
    // Every node sends its first message, then waits.
    for (auto& f : fibers) f = std::move(f).resume();
    std::uint64_t delivered = 0;
    while (delivered < messages && !loop.queue.empty()) {
        const delivery d = loop.queue.top();
        loop.queue.pop();
        loop.now_ns = d.at_ns;
        ++delivered;
        loop.mailboxes[d.node].push_back(std::move(loop.in_flight[d.slot]));
        loop.free_slots.push_back(d.slot);
        fibers[d.node] = std::move(fibers[d.node]).resume();
    }
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Continuations still suspended are unwound by their destructors (forced unwind).
    fibers.clear();
    return static_cast<double>(delivered) / wall_s;
}

}  // namespace meshsim::harness::bench
