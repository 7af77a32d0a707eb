// What the messaging kinds (broker, consumer, job_queue, worker) share.
#pragma once

#include <cstdint>
#include <string>

namespace meshsim::harness {

// The worker instance (1-based, of `instances`) that runs every attempt of job `id`,
// so its dedupe records see every retry of the job.
std::uint32_t job_owner(const std::string& id, std::uint32_t instances);

}  // namespace meshsim::harness
