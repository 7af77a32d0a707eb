// What the messaging kinds (broker, consumer, job_queue, worker, webhook) share.
#pragma once

#include <cstdint>
#include <string>

#include "harness/scenario/reader.hpp"
#include "services/messaging/job_queue.hpp"

namespace meshsim::harness {

// The worker instance (1-based, of `instances`) that runs every attempt of job `id`,
// so its dedupe records see every retry of the job.
std::uint32_t job_owner(const std::string& id, std::uint32_t instances);

// A durable queue's retry keys (job_queue, webhook): max_attempts, in_flight,
// backoff_base, backoff_max.
void read_retry_keys(object_reader& r, svc::job_queue_config& q);

}  // namespace meshsim::harness
