// The mesh's endpoint pools, as its control plane pushes them to callers (xDS-style
// endpoint discovery): which instances of a service callers route to. A service
// without a pool routes to every configured instance. Deploys (harness/world/
// actions.cpp) and the autoscaler (harness/kinds/autoscaler.cpp) change pools;
// callers' edges (harness/kinds/discovery.cpp) take a changed pool at their next call.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/message.hpp"

namespace meshsim::harness {

class endpoint_pools {
public:
    // The service's pool, or nullptr when callers use the configured instances.
    const std::vector<sim::address>* pool(std::string_view service) const {
        const auto it = pools_.find(service);
        return it == pools_.end() ? nullptr : &it->second.members;
    }
    // Changes exactly when the service's pool changes (0: never set).
    std::uint64_t generation(std::string_view service) const {
        const auto it = pools_.find(service);
        return it == pools_.end() ? 0 : it->second.generation;
    }
    // True until some service gets a pool (none ever goes away).
    bool empty() const { return pools_.empty(); }
    void set(const std::string& service, std::vector<sim::address> members) {
        std::sort(members.begin(), members.end());
        entry& e = pools_[service];
        e.members = std::move(members);
        ++e.generation;
    }
    void add(const std::string& service, sim::address a) {
        std::vector<sim::address> members = pools_[service].members;
        if (std::find(members.begin(), members.end(), a) == members.end()) members.push_back(a);
        set(service, std::move(members));
    }
    void remove(const std::string& service, sim::address a) {
        std::vector<sim::address> members = pools_[service].members;
        members.erase(std::remove(members.begin(), members.end(), a), members.end());
        set(service, std::move(members));
    }

private:
    struct entry {
        std::vector<sim::address> members;
        std::uint64_t generation = 0;
    };
    std::map<std::string, entry, std::less<>> pools_;
};

}  // namespace meshsim::harness
