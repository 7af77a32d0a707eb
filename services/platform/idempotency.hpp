// Server-side deduplication by idempotency key: the first request with a key runs,
// concurrent duplicates wait for its answer, later ones get the stored answer.
// Kept in memory (lost on crash, like a cache without a durable store).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "services/platform/rpc.hpp"
#include "sim/runtime.hpp"
#include "sim/sync.hpp"

namespace meshsim::svc {

class idempotency_cache {
public:
    explicit idempotency_cache(sim::runtime& rt) : rt_(&rt) {}

    // Runs `work` unless `key` ran before (or is running: then waits for it until
    // `deadline`, answering 504 if it passes). Answers below 500 are kept: a 5xx
    // says the work did not complete, so a retry may run it again.
    response run_once(const std::string& key, const std::function<response()>& work,
                      sim::time_point deadline = sim::time_never);

    std::size_t size() const { return entries_.size(); }
    std::uint64_t duplicates_served() const { return duplicates_served_; }

private:
    using entry = std::shared_ptr<sim::completion<response>>;
    response wait_for(const entry& running, sim::time_point deadline);

    sim::runtime* rt_;
    std::map<std::string, entry> entries_;
    std::uint64_t duplicates_served_ = 0;
};

}  // namespace meshsim::svc
