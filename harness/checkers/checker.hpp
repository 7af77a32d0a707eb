// The checker framework: each expectation in a scenario names a checker, which
// reads its own keys when the scenario loads, tells the loader when it could see
// nothing, and judges the run's observations after it ends. A result says what was
// expected, what was measured and when it first failed. A checker is one
// checker_info in its own file and one line in registry.cpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/scenario/model.hpp"
#include "harness/scenario/reader.hpp"
#include "harness/world/data_ledger.hpp"
#include "harness/world/observations.hpp"

namespace meshsim::harness {

// What a checker read of its expectation; each checker derives its own struct.
class checker_parameters {
public:
    virtual ~checker_parameters() = default;
};

// The checker's own parameters of an expectation it read.
template <class P>
const P& parameters_of(const expectation_config& e) {
    return dynamic_cast<const P&>(*e.parameters);
}

// The names a checker's reader read, which the loader checks once every service and
// workload is known (unknown names, with a "did you mean").
class expectation_names {
public:
    virtual ~expectation_names() = default;
    virtual void service(const value_reader& at, const std::string& name) = 0;
    virtual void workload(const value_reader& at, const std::string& name) = 0;
    // An endpoint path of `service` (any version).
    virtual void endpoint(const value_reader& at, const std::string& service, const std::string& path) = 0;
    // A service that must have a write endpoint.
    virtual void writing_service(const value_reader& at, const std::string& name) = 0;
    // A service that must have a write endpoint, or apply effects by its kind (a consumer, a worker).
    virtual void effect_service(const value_reader& at, const std::string& name) = 0;
    // Services that must each receive the events of source's writes.
    virtual void replicas(const value_reader& at, const std::string& source, const std::vector<std::string>& names) = 0;
};

// What the loader can tell a check, on a file otherwise sound, about what it will be
// able to see. Each needs_* reports, at this expectation's key, when the answer is
// "nothing"; a check that cannot pass without looking must not load.
class expectation_scope {
public:
    virtual ~expectation_scope() = default;
    virtual const scenario& config() const = 0;
    // Reports at the expectation's key ("" = the expectation itself).
    virtual void report(std::string_view key, std::string message) const = 0;
    // Requests of the named workload (of any, when "") are answered after the warmup.
    virtual void needs_workload_requests(const std::string& workload) const = 0;
    // Requests reach the service, and its endpoint when not "" (at "service", "endpoint").
    virtual void needs_requests_at(const std::string& service, const std::string& endpoint = "") const = 0;
    // Requests reach a write endpoint of the service (at "service").
    virtual void needs_writes_at(const std::string& service) const = 0;
    // Some request reaches the service (directly or through calls and events).
    virtual bool receives_requests(const std::string& service) const = 0;
    // Some request that reaches `from` makes it call or publish to `to`.
    virtual bool calls(const std::string& from, const std::string& to) const = 0;
    // When the last scheduled fault ends; nullopt when a nemesis decides it at run time.
    virtual std::optional<sim::duration> last_fault_end() const = 0;
};

// What a checker may read of a finished run.
struct run_view {
    const scenario& config;
    const observations& obs;
    const data_ledger& data;
    sim::time_point last_fault_end;  // time_zero when no fault was scheduled
    sim::time_point end;
};

// A convergence-type check's lag at the end of one metric bucket.
struct lag_point {
    sim::time_point t;      // the bucket's start
    sim::duration max_lag;  // of the oldest record not yet at a replica (or applied in the bucket)
    std::uint64_t pending;  // records committed but not yet at a replica, at the bucket's end
};

struct check_result {
    std::string check;  // checker name
    std::string label;  // the expectation, in words
    bool passed = true;
    std::string expected;
    std::string measured;
    std::optional<sim::time_point> first_failed;
    // Checks that measure lag: one point per metric bucket (summary.json lag_series).
    std::optional<std::vector<lag_point>> lag_series;
    nlohmann::json to_json() const;
};

struct checker_info {
    std::string_view name;
    std::string_view description;  // one line, for `meshsim list`
    // Reads the checker's own keys (the framework reads "check", "label" and
    // "allow_empty", and finishes the object afterwards).
    std::shared_ptr<const checker_parameters> (*read)(object_reader& r, expectation_names& names);
    // At load, on an otherwise sound file: what would make the check see nothing.
    void (*observes)(const expectation_config& e, const expectation_scope& scope);
    check_result (*run)(const expectation_config& e, const run_view& run);
};

// Every checker, in the order `meshsim list` prints them.
const std::vector<checker_info>& all_checkers();
const std::vector<std::string_view>& checker_names();
const checker_info* find_checker(std::string_view name);

// One expectation object: "check" picks the checker, which reads the rest.
expectation_config read_expectation(object_reader& r, expectation_names& names);
// An expectation from its JSON text alone (names unchecked), for tests and tools;
// nullopt with the problems in out.
std::optional<expectation_config> parse_expectation(std::string_view json, diagnostics& out);

std::vector<check_result> run_checkers(const run_view& run);

// The source of truth and replicas a convergence expectation names; nullopt for other
// checks (for kinds whose load checks follow what a convergence check expects of them).
struct convergence_names {
    const std::string& source;
    const std::vector<std::string>& replicas;
};
std::optional<convergence_names> convergence_of(const expectation_config& e);

}  // namespace meshsim::harness
