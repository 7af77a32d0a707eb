// Async job queues on a simulated node: retries with backoff, the dead-letter
// queue after max_attempts, at-least-once redelivery across crashes, and the
// property that idempotent jobs take effect once however often they are delivered.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "services/messaging/idempotent_consumer.hpp"
#include "services/messaging/job_queue.hpp"
#include "sim/kernel/simulation.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
// Backoff without jitter: retry k waits base * 2^k exactly.
job_queue_config exact_config(std::uint32_t max_attempts) {
    return {.worker_count = 1,
            .max_attempts = max_attempts,
            .backoff = {.base_delay = 1s, .max_delay = 1min, .multiplier = 2.0, .jitter = jitter_mode::none}};
}

sim::duration since_start(sim::time_point t) { return t - sim::time_zero; }
}  // namespace

TEST_CASE("messaging: a job that always fails goes to the dead-letter queue after max_attempts", "[messaging]") {
    simulation sim({.seed = 1, .fiber_stack_bytes = 256 * 1024});
    std::vector<sim::duration> attempt_times;
    job_queue* queue = nullptr;
    const auto n = sim.add_node("worker", [&](sim::runtime& rt) {
        job_queue q(rt, "mail", exact_config(3), [&](const job& j) {
            attempt_times.push_back(since_start(rt.now()));
            CHECK(j.attempts == attempt_times.size());
            return job_outcome::failure("smtp 550");
        });
        queue = &q;
        q.start();
        CHECK(q.enqueue("welcome-42", "send_mail", {{"to", "a@example.com"}}));
        rt.sleep_until(sim::time_never);
    });
    sim.start(n);
    sim.run_until(sim::time_zero + 1min);
    // Attempts at 0, then after 1 s and 2 s of backoff; none after the third.
    CHECK(attempt_times == std::vector<sim::duration>{0s, 1s, 3s});
    const auto dead = queue->dead_letters();
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].id == "welcome-42");
    CHECK(dead[0].attempts == 3);
    CHECK(dead[0].last_error == "smtp 550");
    CHECK(dead[0].payload == nlohmann::json{{"to", "a@example.com"}});
    CHECK(queue->pending() == 0);
    CHECK(queue->failed_attempt_count() == 3);
}

TEST_CASE("messaging: a job that fails twice then succeeds is done after the third attempt", "[messaging]") {
    simulation sim({.seed = 1, .fiber_stack_bytes = 256 * 1024});
    std::vector<sim::duration> attempt_times;
    job_queue* queue = nullptr;
    const auto n = sim.add_node("worker", [&](sim::runtime& rt) {
        job_queue q(rt, "jobs", exact_config(5), [&](const job& j) {
            attempt_times.push_back(since_start(rt.now()));
            if (j.attempts < 3) throw std::runtime_error("transient");
            return job_outcome::done();
        });
        queue = &q;
        q.start();
        q.enqueue("j1", "k", nullptr);
        rt.sleep_until(sim::time_never);
    });
    sim.start(n);
    sim.run_until(sim::time_zero + 1min);
    CHECK(attempt_times == std::vector<sim::duration>{0s, 1s, 3s});
    CHECK(queue->completed_count() == 1);
    CHECK(queue->dead_letters().empty());
    CHECK(queue->pending() == 0);
}

TEST_CASE("messaging: a dead letter can be redriven and an enqueue of a queued id is refused", "[messaging]") {
    simulation sim({.seed = 1, .fiber_stack_bytes = 256 * 1024});
    std::vector<std::string> log;
    const auto n = sim.add_node("worker", [&](sim::runtime& rt) {
        bool broken = true;
        job_queue q(rt, "jobs", exact_config(1), [&](const job& j) {
            log.push_back(j.id + (broken ? " failed" : " done"));
            return broken ? job_outcome::failure("down") : job_outcome::done();
        });
        q.start();
        CHECK(q.enqueue("a", "k", nullptr));
        CHECK_FALSE(q.enqueue("a", "k", nullptr));  // still queued
        rt.sleep_for(1s);
        CHECK(q.dead_letters().size() == 1);
        CHECK_FALSE(q.enqueue("a", "k", nullptr));  // dead-lettered
        broken = false;
        CHECK(q.redrive("a"));
        rt.sleep_for(1s);
        CHECK(q.dead_letters().empty());
        rt.sleep_until(sim::time_never);
    });
    sim.start(n);
    sim.run_until(sim::time_zero + 10s);
    CHECK(log == std::vector<std::string>{"a failed", "a done"});
}

TEST_CASE("messaging: a job whose worker crashes mid-attempt runs again after restart", "[messaging]") {
    simulation sim({.seed = 1, .fiber_stack_bytes = 256 * 1024});
    std::vector<std::string> log;
    const auto n = sim.add_node("worker", [&](sim::runtime& rt) {
        job_queue q(rt, "jobs", exact_config(5), [&](const job& j) {
            log.push_back("start " + j.id + " attempt " + std::to_string(j.attempts));
            rt.sleep_for(100ms);  // the work; the crash lands here the first time
            log.push_back("end " + j.id);
            return job_outcome::done();
        });
        if (!rt.durable_store().get("seeded")) {
            q.enqueue("report", "k", nullptr);
            rt.durable_store().put("seeded", true);
            rt.durable_store().sync();
        }
        q.start();
        rt.sleep_until(sim::time_never);
    });
    sim.start(n);
    sim.at(sim::time_zero + 50ms, [&] { sim.restart(n); });
    sim.run_until(sim::time_zero + 1s);
    CHECK(log == std::vector<std::string>{"start report attempt 1", "start report attempt 2", "end report"});
    CHECK(sim.get_node(n).disk().keys("jobs/").empty());
}

TEST_CASE("messaging: a job enqueued before start() runs once, not once per worker", "[messaging]") {
    simulation sim({.seed = 1, .fiber_stack_bytes = 256 * 1024});
    int runs = 0;
    const auto n = sim.add_node("worker", [&](sim::runtime& rt) {
        job_queue q(rt, "jobs", {.worker_count = 3, .max_attempts = 5, .backoff = {}}, [&](const job&) {
            ++runs;
            rt.sleep_for(10ms);
            return job_outcome::done();
        });
        q.enqueue("a", "k", nullptr);
        q.start();  // finds "a" in the store, already scheduled
        rt.sleep_until(sim::time_never);
    });
    sim.start(n);
    sim.run_until(sim::time_zero + 1s);
    CHECK(runs == 1);
}

TEST_CASE("messaging: job queue config validation names the bad fields", "[messaging]") {
    CHECK(job_queue_config{}.validate().empty());
    job_queue_config bad;
    bad.worker_count = 0;
    bad.max_attempts = 0;
    bad.backoff.multiplier = 0.5;
    const auto errors = bad.validate();
    REQUIRE(errors.size() == 3);
    CHECK(errors[2] == "backoff.multiplier must be >= 1, got 0.5");
}

// Jobs increment a counter through the idempotent consumer; a producer re-enqueues
// every job several times, some jobs fail their first attempts, and the node
// crashes at random instants (often between the effect and the ack).
TEST_CASE("messaging: a job is processed at most once in effect even when delivered many times", "[messaging]") {
    rc::prop("every job's effect is applied exactly once", [] {
        const auto job_count = *rc::gen::inRange(1, 6);
        const auto failures = *rc::gen::container<std::vector<int>>(job_count, rc::gen::inRange(0, 3));
        const auto crash_ms = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 4), rc::gen::inRange(1, 3000));
        const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1000);

        simulation sim({.seed = seed, .fiber_stack_bytes = 256 * 1024});
        int deliveries = 0;
        const auto n = sim.add_node("worker", [&](sim::runtime& rt) {
            idempotent_consumer dedup(rt.durable_store(), "effects");
            job_queue q(rt, "jobs",
                        {.worker_count = 2, .max_attempts = 10, .backoff = {100ms, 1s, 2.0, jitter_mode::full}},
                        [&](const job& j) {
                            ++deliveries;
                            rt.sleep_for(sim::milliseconds(rt.random("work").uniform_int(1, 80)));
                            if (static_cast<int>(j.attempts) <= failures[j.payload.get<std::size_t>()]) {
                                return job_outcome::failure("transient");
                            }
                            dedup.apply_once(j.id, [&](sim::store& s) {
                                const std::string key = "count/" + j.id;
                                s.put(key, s.get(key).value_or(0).get<int>() + 1);
                            });
                            rt.sleep_for(sim::milliseconds(rt.random("work").uniform_int(1, 80)));  // before the ack
                            return job_outcome::done();
                        });
            q.start();
            // The producer delivers every job three times over 600 ms.
            for (int round = 0; round < 3; ++round) {
                for (int i = 0; i < job_count; ++i) q.enqueue("job-" + std::to_string(i), "count", i);
                rt.sleep_for(300ms);
            }
            rt.sleep_until(sim::time_never);
        });
        sim.start(n);
        for (const int ms : crash_ms) {
            sim.at(sim::time_zero + sim::milliseconds(ms), [&] { sim.crash(n); });
            sim.at(sim::time_zero + sim::milliseconds(ms + 50), [&] { sim.restart(n); });
        }
        sim.run_until(sim::time_zero + 30s);

        auto& disk = sim.get_node(n).disk();
        RC_ASSERT(disk.keys("jobs/").empty());
        for (int i = 0; i < job_count; ++i) {
            const auto count = disk.get("count/job-" + std::to_string(i));
            RC_ASSERT(count.has_value());
            RC_ASSERT(count->get<int>() == 1);
        }
        RC_ASSERT(deliveries >= job_count);
    });
}
