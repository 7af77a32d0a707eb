// Async job queues (the article's asynchronous workers): a durable per-service
// queue, worker fibers, retries with backoff, and a dead-letter queue after
// max_attempts. Delivery is at least once: a job whose worker crashes runs again
// after restart, so handlers must be idempotent (see idempotent_consumer.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "services/platform/backoff.hpp"
#include "services/platform/config_errors.hpp"
#include "sim/runtime.hpp"
#include "sim/sync.hpp"

namespace meshsim::svc {

struct job {
    std::string id;  // unique in the queue; also the handler's idempotency key
    std::string kind;
    nlohmann::json payload;
    // Deliveries so far, the current one included (SQS's receive count): counted
    // durably before the handler runs, so a job that crashes its worker still
    // reaches the dead-letter queue.
    std::uint32_t attempts = 0;
    sim::time_point not_before{};  // earliest start of the next attempt (node clock)
    std::string last_error;
};

nlohmann::json to_json(const job& j);
std::optional<job> job_from_json(const nlohmann::json& j);

// What a handler reports. A failure is retried until max_attempts.
struct job_outcome {
    bool ok = true;
    std::string error;
    static job_outcome done() { return {true, {}}; }
    static job_outcome failure(std::string why) { return {false, std::move(why)}; }
};

// Runs one attempt. May park (call other services). A thrown std::exception is
// a failure with its what() as the error.
using job_handler = std::function<job_outcome(const job&)>;

struct job_queue_config {
    // Worker fibers pulling from the queue concurrently.
    std::size_t worker_count = 2;
    // Deliveries before a job is dead-lettered (SQS maxReceiveCount; Sidekiq uses
    // 25 retries, Resque none: 5 keeps simulated runs short).
    std::uint32_t max_attempts = 5;
    // Delay before retry k (k = 0 first retry): full jitter by default, per the
    // article's "randomized exponential retry".
    backoff_config backoff{sim::seconds{1}, sim::minutes{5}, 2.0, jitter_mode::full};

    config_errors validate() const;
};

class job_queue {
public:
    // Jobs live under "<name>/job/<id>", dead letters under "<name>/dead/<id>".
    job_queue(sim::runtime& rt, std::string name, job_queue_config config, job_handler handler);
    job_queue(const job_queue&) = delete;
    job_queue& operator=(const job_queue&) = delete;

    // Durable when it returns (put + sync). False when a job with this id is
    // already queued or dead-lettered (a re-enqueue after completion runs again:
    // the handler's idempotency covers it).
    bool enqueue(const std::string& id, const std::string& kind, nlohmann::json payload);

    // Reloads queued jobs from the store (after a restart) and spawns the workers.
    void start();

    std::size_t pending() const;
    std::vector<job> dead_letters() const;
    // Moves a dead letter back into the queue with its attempts reset.
    bool redrive(const std::string& id);

    std::uint64_t completed_count() const { return completed_; }
    std::uint64_t failed_attempt_count() const { return failed_attempts_; }
    const std::string& name() const { return name_; }

private:
    std::string job_key(const std::string& id) const { return name_ + "/job/" + id; }
    std::string dead_key(const std::string& id) const { return name_ + "/dead/" + id; }
    void schedule(const job& j);
    void work_forever();
    std::optional<std::string> next_ready();
    void run(const std::string& id);
    job_outcome invoke(const job& j);
    void on_failure(job j, const std::string& error);
    void dead_letter(job j, const std::string& error);

    sim::runtime& rt_;
    std::string name_;
    job_queue_config config_;
    job_handler handler_;
    backoff backoff_;
    // Ready order: (not_before, enqueue sequence) -> job id; jobs being run are absent.
    std::map<std::pair<sim::time_point, std::uint64_t>, std::string> ready_;
    std::uint64_t next_sequence_ = 0;
    std::set<std::string> active_;  // ids waiting in ready_ or being run
    sim::wait_list idle_workers_;
    std::uint64_t completed_ = 0;
    std::uint64_t failed_attempts_ = 0;
};

}  // namespace meshsim::svc
