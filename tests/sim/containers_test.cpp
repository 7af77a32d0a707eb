// The kernel's own containers against plain standard-library models: the event
// queue must pop in exactly (time, scheduling) order, and the ring queue must behave
// as a FIFO through growth, wrap-around and removal from the middle.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <limits>
#include <memory>
#include <tuple>
#include <vector>

#include "sim/kernel/event_queue.hpp"
#include "sim/ring_queue.hpp"

using namespace meshsim::sim;

TEST_CASE("the event queue pops in (time, scheduling) order under any mix of pushes, pops and removals") {
    // Each step pushes an event (at the current instant, a little later, or up to
    // 2^62 ns later, so every bucket of the radix heap fills), pops one, or removes
    // a third of them. The payload is the scheduling order, so ties are checked too.
    rc::prop("pop order equals the model's", [](const std::vector<std::pair<std::uint8_t, std::uint32_t>>& steps) {
        kernel::event_queue queue;
        std::vector<std::pair<std::int64_t, std::uint32_t>> model;  // (time, scheduling order)
        std::uint32_t seq = 0;
        std::int64_t popped_up_to = 0;  // the kernel never schedules before the current instant
        const auto pop_and_check = [&] {
            const auto first = std::min_element(model.begin(), model.end());
            RC_ASSERT(queue.top_time() == time_point{duration{first->first}});
            const kernel::event ev = queue.pop();
            RC_ASSERT(ev.at_ns == first->first);
            RC_ASSERT(ev.a == first->second);
            popped_up_to = ev.at_ns;
            model.erase(first);
        };
        for (const auto& [op, value] : steps) {
            if (op % 4 <= 1 || model.empty()) {
                const std::int64_t room = std::numeric_limits<std::int64_t>::max() - popped_up_to;
                const std::int64_t later = value % 5 == 0 ? 0 : std::int64_t{value} << (value % 31);
                const std::int64_t at = popped_up_to + std::min(later, room);
                queue.push(time_point{duration{at}}, kernel::event_type::call, seq, 0);
                model.emplace_back(at, seq++);
            } else if (op % 4 == 2) {
                pop_and_check();
            } else {
                const auto gone = [k = value % 3](std::uint32_t a) { return a % 3 == k; };
                queue.remove_if([&](const kernel::event& e) { return gone(e.a); });
                std::erase_if(model, [&](const auto& m) { return gone(m.second); });
            }
            RC_ASSERT(queue.size() == model.size());
            RC_ASSERT(queue.empty() == model.empty());
        }
        while (!model.empty()) pop_and_check();
        RC_ASSERT(queue.empty());
    });
}

TEST_CASE("the event queue takes the far end of time, and refuses a push before the last event taken") {
    kernel::event_queue queue;
    CHECK(queue.top_time() == time_never);  // nothing queued
    CHECK_THROWS_AS(queue.push(time_zero - duration{1}, kernel::event_type::call, 0, 0), invariant_violation);
    CHECK(queue.empty());  // a refused push leaves nothing behind
    queue.push(time_never, kernel::event_type::call, 1, 0);
    queue.push(time_zero + duration{5}, kernel::event_type::call, 2, 0);
    queue.push(time_never, kernel::event_type::call, 3, 0);
    CHECK(queue.pop().a == 2);
    CHECK_THROWS_AS(queue.push(time_zero + duration{4}, kernel::event_type::call, 4, 0), invariant_violation);
    queue.push(time_zero + duration{5}, kernel::event_type::call, 5, 0);  // the same instant is fine
    CHECK(queue.pop().a == 5);
    CHECK(queue.top_time() == time_never);
    CHECK(queue.pop().a == 1);
    CHECK(queue.pop().a == 3);
    CHECK(queue.empty());
    CHECK(queue.top_time() == time_never);
}

namespace {
// Steps: 0 push, 1 pop, 2 erase at an index, 3 reserve room for up to 31 more (the
// items already there must not move while that many are pushed); move-only values
// check nothing is copied.
template <std::size_t Inline>
void ring_queue_matches_a_deque(const std::vector<std::pair<std::uint8_t, std::uint8_t>>& steps) {
    ring_queue<std::unique_ptr<int>, Inline> queue;
    std::deque<int> model;
    int next = 0;
    for (const auto& [op, arg] : steps) {
        if (op % 4 == 3) {
            const std::size_t more = arg % 32;
            queue.reserve(model.size() + more);
            const int* first = model.empty() ? nullptr : queue.front().get();
            const std::unique_ptr<int>* slot = model.empty() ? nullptr : &queue.front();
            for (std::size_t i = 0; i < more; ++i) {
                queue.push_back(std::make_unique<int>(next));
                model.push_back(next++);
            }
            if (slot != nullptr) RC_ASSERT(&queue.front() == slot && queue.front().get() == first);  // not moved
        } else if (op % 4 == 0 || model.empty()) {
            queue.push_back(std::make_unique<int>(next));
            model.push_back(next++);
        } else if (op % 4 == 1) {
            RC_ASSERT(*queue.front() == model.front());
            queue.pop_front();
            model.pop_front();
        } else {
            const std::size_t i = arg % model.size();
            queue.erase_at(i);
            model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
        }
        RC_ASSERT(queue.size() == model.size());
        for (std::size_t i = 0; i < model.size(); ++i) RC_ASSERT(*queue[i] == model[i]);
    }
    // Moved whole (inline items one by one, a heap buffer stolen), then assigned back.
    ring_queue<std::unique_ptr<int>, Inline> moved = std::move(queue);
    RC_ASSERT(queue.empty());
    RC_ASSERT(moved.size() == model.size());
    for (std::size_t i = 0; i < model.size(); ++i) RC_ASSERT(*moved[i] == model[i]);
    queue.push_back(std::make_unique<int>(-1));  // usable after being moved from
    queue = std::move(moved);
    RC_ASSERT(moved.empty());
    RC_ASSERT(queue.size() == model.size());
    for (std::size_t i = 0; i < model.size(); ++i) RC_ASSERT(*queue[i] == model[i]);
    queue.clear();
    RC_ASSERT(queue.empty());
    queue.push_back(std::make_unique<int>(42));  // usable after clear
    RC_ASSERT(*queue.front() == 42);
}
}  // namespace

TEST_CASE("the ring queue is a FIFO through growth, wrap-around and erase") {
    rc::prop("contents equal a deque's after every step (heap only)", ring_queue_matches_a_deque<0>);
    rc::prop("... with one item inline", ring_queue_matches_a_deque<1>);
    rc::prop("... with two items inline", ring_queue_matches_a_deque<2>);
    rc::prop("... with four items inline", ring_queue_matches_a_deque<4>);
}

TEST_CASE("the ring queue destroys what it holds") {
    auto counter = std::make_shared<int>(0);
    {
        ring_queue<std::shared_ptr<int>> queue;
        for (int i = 0; i < 13; ++i) queue.push_back(counter);  // grows 4 -> 8 -> 16
        queue.pop_front();
        queue.erase_at(3);
        CHECK(counter.use_count() == 12);
    }
    CHECK(counter.use_count() == 1);
}

TEST_CASE("a ring queue with inline items destroys what it holds, inline and spilled") {
    auto counter = std::make_shared<int>(0);
    {
        ring_queue<std::shared_ptr<int>, 2> queue;
        queue.push_back(counter);
        queue.push_back(counter);
        CHECK(counter.use_count() == 3);                        // both inline
        for (int i = 0; i < 11; ++i) queue.push_back(counter);  // spills: 2 -> 4 -> 8 -> 16
        queue.pop_front();
        queue.erase_at(3);
        CHECK(counter.use_count() == 12);
        ring_queue<std::shared_ptr<int>, 2> small;
        small.push_back(counter);
        ring_queue<std::shared_ptr<int>, 2> taken = std::move(small);  // inline items move one by one
        CHECK(counter.use_count() == 13);
    }
    CHECK(counter.use_count() == 1);
}
