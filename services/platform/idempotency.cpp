#include "services/platform/idempotency.hpp"

#include <exception>

namespace meshsim::svc {

response idempotency_cache::wait_for(const entry& running, sim::time_point deadline) {
    ++duplicates_served_;
    const std::optional<response>& got = running->wait(deadline);
    if (got) return *got;
    return response{504, {}, nullptr};
}

response idempotency_cache::run_once(const std::string& key, const std::function<response()>& work,
                                     sim::time_point deadline) {
    if (auto it = entries_.find(key); it != entries_.end()) return wait_for(it->second, deadline);
    auto running = std::make_shared<sim::completion<response>>(*rt_);
    entries_.emplace(key, running);
    // Forget the key unless the work completed: waiters then get the failure, and the next try runs again.
    struct forget_unless_kept {
        idempotency_cache& cache;
        const std::string& key;
        bool keep = false;
        ~forget_unless_kept() {
            if (!keep) cache.entries_.erase(key);
        }
    } guard{*this, key};
    response resp;
    try {
        resp = work();
    } catch (const sim::fiber_killed&) {
        throw;
    } catch (const std::exception&) {
        running->set(response{500, {}, nullptr});
        throw;
    }
    guard.keep = resp.status < 500;
    running->set(resp);
    return resp;
}

}  // namespace meshsim::svc
