// Service kinds: what the "kind" of a scenario's service names. Each kind is
// registered once (harness/kinds/registry.cpp) with its name, one line for
// `meshsim list`, its own keys, how it reads them from the service's entry in the
// file, and the body each of its instances runs. A new kind is its own file plus
// one line in the registry: the loader and the world dispatch on the name.
//
//   void read_broker(object_reader& r, service_config& s, kind_reader& load) {
//       auto p = std::make_shared<broker_params>();
//       p->ack_timeout = r.optional<sim::duration>("ack_timeout", p->ack_timeout, {.min = 1ms});
//       s.params = std::move(p);  // the loader reports unknown keys afterwards
//   }
//   void run_broker(instance_env& env) { const auto& p = env.params<broker_params>(); ... }
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/scenario/model.hpp"
#include "harness/scenario/reader.hpp"
#include "harness/world/context.hpp"
#include "sim/runtime.hpp"

namespace meshsim::harness {

// What the loader lends a kind while it reads a service entry. The common keys
// (name, kind, instances, description) are read already; after the kind's read
// the loader reports every key nobody read.
class kind_reader {
public:
    virtual ~kind_reader() = default;
    // The keys of a queueing station that serves scenario endpoints: concurrency,
    // queue, endpoints (required when endpoints_required), api_keys, rate_limit.
    virtual void read_station_keys(object_reader& r, service_config& s, bool endpoints_required) = 0;
    // An endpoint the kind serves without the file listing it (a broker's publish),
    // so workloads, calls and checks can name it; `at` is where a duplicate is reported.
    virtual void add_endpoint(service_config& s, endpoint_config e, value_reader at) = 0;
    // A name that must be a service of the file, and of one of `kinds` when not
    // empty; checked once every service is read ("did you mean" included).
    virtual void service_reference(value_reader at, std::string name, std::vector<std::string> kinds = {}) = 0;
    // (service, path, version) that must be an endpoint of that service.
    virtual void endpoint_reference(value_reader at, std::string service, std::string path, int version) = 0;
    // A check over the whole scenario, run after the references are checked
    // (references it follows may still be wrong: look names up, skip what is missing).
    virtual void later(std::function<void(const scenario&)> check) = 0;
    // "5ms" or {"dist": ...}, as endpoints' service_time.
    virtual sim::duration_distribution read_distribution(const value_reader& v) = 0;
    // retry, backoff, timeouts, breaker, ... as an edge's keys in the same object.
    virtual edge_policy read_edge_policy(object_reader& r, edge_policy base) = 0;
};

// One running instance of a service: its node's runtime, the world, its config.
struct instance_env {
    sim::runtime& rt;
    world_context& world;
    const service_config& config;
    std::uint32_t instance;  // 1-based

    // The kind's own parameters as its read stored them in config.params.
    template <class P>
    const P& params() const {
        return static_cast<const P&>(*config.params);
    }
};

struct service_kind {
    std::string_view name;
    std::string_view description;  // one line, for `meshsim list`
    std::string_view keys;         // the kind's own keys, for `meshsim list`: "topics, ack_timeout"
    void (*read)(object_reader& r, service_config& s, kind_reader& load);
    // The body of each instance's node (its boot fiber): a crash unwinds it.
    void (*run)(instance_env& env);
};

// Every kind, in the order `meshsim list` prints them.
const std::vector<service_kind>& all_service_kinds();
const service_kind* find_service_kind(std::string_view name);
std::vector<std::string_view> service_kind_names();

}  // namespace meshsim::harness
