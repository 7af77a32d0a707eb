// The kernel's fiber stacks: distinct, page-aligned, reused newest first, and not
// touched until a fiber runs on them (the point of not using boost::pool, which
// writes its free list into every stack it carves).
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "sim/kernel/simulation.hpp"
#include "sim/kernel/stack_pool.hpp"

using namespace meshsim::sim;
using kernel::stack_pool;

namespace {

std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

// Pages of [low, low + bytes) the kernel has backed with memory.
std::size_t resident_pages(const void* low, std::size_t bytes) {
    std::vector<unsigned char> in_core((bytes + page_size() - 1) / page_size());
    REQUIRE(::mincore(const_cast<void*>(low), bytes, in_core.data()) == 0);
    return static_cast<std::size_t>(
        std::count_if(in_core.begin(), in_core.end(), [](unsigned char c) { return c & 1; }));
}

void* low_end(const boost::context::stack_context& sc) { return static_cast<char*>(sc.sp) - sc.size; }

}  // namespace

TEST_CASE("stacks are distinct, page-aligned and of the size asked for, rounded up to pages", "[kernel][stacks]") {
    stack_pool pool(10'000);  // not a page multiple
    REQUIRE(pool.stack_bytes() % page_size() == 0);
    REQUIRE(pool.stack_bytes() >= 10'000);
    std::vector<boost::context::stack_context> stacks;
    for (int i = 0; i < 200; ++i) stacks.push_back(pool.allocate());  // more than one block
    CHECK(pool.stacks_created() >= 200);
    std::set<std::uintptr_t> lows;
    for (const auto& sc : stacks) {
        CHECK(sc.size == pool.stack_bytes());
        const auto low = reinterpret_cast<std::uintptr_t>(low_end(sc));
        CHECK(low % page_size() == 0);
        lows.insert(low);
    }
    REQUIRE(lows.size() == stacks.size());
    // No two overlap: sorted, each starts at or after the previous one's end.
    for (auto it = std::next(lows.begin()); it != lows.end(); ++it) CHECK(*it - *std::prev(it) >= pool.stack_bytes());
    for (auto& sc : stacks) pool.deallocate(sc);
}

TEST_CASE("the stack freed last is the next one handed out", "[kernel][stacks]") {
    stack_pool pool(16 * 1024);
    auto a = pool.allocate();
    auto b = pool.allocate();
    CHECK(a.sp != b.sp);
    void* const b_sp = b.sp;
    pool.deallocate(b);
    CHECK(pool.allocate().sp == b_sp);
    pool.deallocate(a);
}

TEST_CASE("a stack's pages are not touched until something runs on it", "[kernel][stacks]") {
    stack_pool pool(64 * 1024);
    std::vector<boost::context::stack_context> stacks;
    for (int i = 0; i < 64; ++i) stacks.push_back(pool.allocate());
    for (const auto& sc : stacks) CHECK(resident_pages(low_end(sc), sc.size) == 0);
    // The check can see a touched page: write to the top of one stack.
    static_cast<volatile char*>(stacks[3].sp)[-1] = 1;
    CHECK(resident_pages(low_end(stacks[3]), stacks[3].size) == 1);
    for (auto& sc : stacks) pool.deallocate(sc);
}

TEST_CASE("fibers on pooled stacks run, end and reuse their stacks", "[kernel][stacks]") {
    kernel::simulation sim({.seed = 1, .fiber_stack_bytes = 32 * 1024});
    int finished = 0;
    const node_id n = sim.add_node("n", [&finished](runtime& rt) {
        for (int round = 0; round < 3; ++round) {
            for (int i = 0; i < 500; ++i) {
                rt.spawn("worker", [&rt, &finished] {
                    volatile char scratch[8 * 1024];  // uses a good part of the stack
                    scratch[0] = 1;
                    scratch[sizeof scratch - 1] = scratch[0];
                    rt.sleep_for(std::chrono::milliseconds(1));
                    ++finished;
                });
            }
            rt.sleep_for(std::chrono::milliseconds(10));
        }
    });
    sim.start(n);
    sim.run_until(time_zero + std::chrono::seconds(1));
    CHECK(finished == 1500);
    // Each round's 500 ended before the next began: their stacks were reused
    // (blocks of 64, 64, 128, 256, 512 stacks cover 500 plus the boot fiber).
    CHECK(sim.stats().fibers_started == 1501);
    CHECK(sim.fiber_stacks().stacks_created() <= 1024);
    sim.shutdown();
}

TEST_CASE("finished fibers give their stacks back during a run, and all of them before run_until returns",
          "[kernel][stacks]") {
    // Boost.Fiber frees finished fibers in batches between instants; the batch must
    // neither hold stacks without bound nor outlive run_until.
    kernel::simulation sim({.seed = 1, .fiber_stack_bytes = 16 * 1024});
    int finished = 0;
    const node_id n = sim.add_node("n", [&finished](runtime& rt) {
        // One short fiber at a time, each ending at its own instant: 1,000 in all.
        for (int i = 0; i < 1000; ++i) {
            rt.spawn("one", [&finished] { ++finished; });
            rt.sleep_for(std::chrono::milliseconds(1));
        }
        // A few more, fewer than a batch, after the last full one.
        for (int i = 0; i < 3; ++i) rt.spawn("tail", [&finished] { ++finished; });
        rt.sleep_for(std::chrono::hours(1));
    });
    sim.start(n);
    sim.run_until(time_zero + std::chrono::seconds(2));
    CHECK(finished == 1003);
    CHECK(sim.stats().fibers_started == 1004);
    // Without frees during the run, 1,000 fibers would have needed 1,000 stacks.
    CHECK(sim.fiber_stacks().stacks_created() <= 64);
    // Only the boot fiber, parked for an hour, still holds a stack.
    CHECK(sim.fiber_stacks().stacks_in_use() == 1);
    sim.shutdown();
    CHECK(sim.fiber_stacks().stacks_in_use() == 0);
}
