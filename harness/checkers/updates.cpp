// Lost updates under optimistic concurrency: the key contend workloads update
// (kinds/kv.cpp) must end at least at the number of updates their clients saw succeed.
#include <algorithm>
#include <string>

#include "harness/checkers/reading.hpp"
#include "harness/checkers/windows.hpp"

namespace meshsim::harness {

using namespace detail;

namespace {

struct updates_parameters final : checker_parameters {
    std::string workload;  // a contend workload
};

const workload_config* find_workload(const scenario& s, const std::string& name) {
    const auto it =
        std::find_if(s.workloads.begin(), s.workloads.end(), [&](const workload_config& w) { return w.name == name; });
    return it == s.workloads.end() ? nullptr : &*it;
}

std::shared_ptr<const checker_parameters> read_updates(object_reader& r, expectation_names& names) {
    auto p = std::make_shared<updates_parameters>();
    p->workload = r.required<std::string>("workload", {.non_empty = true});
    if (!p->workload.empty()) names.workload(r.member("workload"), p->workload);
    return p;
}

void updates_observed(const expectation_config& e, const expectation_scope& scope) {
    const std::string& name = parameters_of<updates_parameters>(e).workload;
    const workload_config* w = find_workload(scope.config(), name);
    if (w != nullptr && !w->contend) {
        scope.report("workload", "workload " + quote(name) +
                                     " has no \"contend\": no_lost_updates judges the key a contend workload updates");
        return;
    }
    scope.needs_workload_requests(name);
}

// A read-modify-write whose write overwrote another's, unseen, is a lost update.
// More than the successes is no loss: an update applied whose answer never arrived.
check_result check_no_lost_updates(const expectation_config& e, const run_view& run) {
    const std::string& name = parameters_of<updates_parameters>(e).workload;
    const auto& workloads = run.config.workloads;
    const workload_config* named = find_workload(run.config, name);
    check_result r;
    r.check = "no_lost_updates";
    r.label = e.label.empty() ? "no lost update by workload " + name : e.label;
    if (named == nullptr || !named->contend) {  // the loader rejects both
        r.passed = false;
        r.measured = "workload " + name + " is not a contend workload";
        return r;
    }
    const std::string& key = named->contend->key;
    std::uint64_t succeeded = 0;
    for (std::size_t i = 0; i < workloads.size(); ++i) {
        if (workloads[i].contend && workloads[i].service == named->service && workloads[i].contend->key == key)
            succeeded += run.obs.workloads()[i].outcomes.ok();
    }
    const auto& values = run.data.service(run.data.service_index(named->service)).values;
    const auto it = values.find(key);
    const std::int64_t value = it == values.end() ? 0 : it->second;
    r.expected = "key " + key + " of " + named->service + " ends at least at the updates that succeeded";
    r.measured = std::to_string(succeeded) + " successful update" + (succeeded == 1 ? "" : "s") + ", final value " +
                 std::to_string(value);
    r.passed = value >= static_cast<std::int64_t>(succeeded);
    if (!r.passed) r.measured += " (" + std::to_string(static_cast<std::int64_t>(succeeded) - value) + " lost)";
    if (succeeded == 0) judge_empty(r, e, "no update of " + key + " succeeded");
    return r;
}

}  // namespace

checker_info no_lost_updates_checker() {
    return {"no_lost_updates",
            "a contend workload's key ends at least at the number of its clients' updates that succeeded (kv stores)",
            read_updates, updates_observed, check_no_lost_updates};
}

}  // namespace meshsim::harness
