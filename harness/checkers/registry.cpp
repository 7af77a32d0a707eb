#include <algorithm>

#include "harness/checkers/checker.hpp"
#include "harness/checkers/slos.hpp"
#include "harness/checkers/windows.hpp"

namespace meshsim::harness {

nlohmann::json check_result::to_json() const {
    nlohmann::json j = {{"check", check},       {"label", label},       {"passed", passed},
                        {"expected", expected}, {"measured", measured}, {"first_failed", nullptr}};
    if (first_failed) j["first_failed"] = detail::format_instant(*first_failed);
    return j;
}

const std::vector<checker_info>& all_checkers() {
    static const std::vector<checker_info> checkers = {
        {"slo", "error rate and/or latency quantile bound per service, endpoint or workload in every sliding window",
         detail::check_slo},
        {"retry_amplification", "attempts arriving at a service per request sent by the workloads, at most a bound",
         detail::check_retry_amplification},
        {"goodput", "share of answered workload requests that succeeded, at least a bound", detail::check_goodput},
        {"queue_growth", "requests waiting in a service's queues (all instances) never above a bound",
         detail::check_queue_growth},
        {"blast_radius", "number of services whose error rate broke a bound in some window, at most a count",
         detail::check_blast_radius},
        {"metastability", "goodput back above a level a given time after the trigger (last fault) ended",
         detail::check_metastability},
        {"breaker", "a call edge's circuit breaker reached a state (ever), never did, or is in it at the end",
         detail::check_breaker},
        {"no_lost_writes", "every write a service acknowledged is in its stores when the run ends",
         detail::check_no_lost_writes},
        {"no_duplicate_effects", "no write's effect applied more than once (retries and duplicates deduplicated)",
         detail::check_no_duplicate_effects},
        {"no_unauthenticated",
         "no request served without an API key the service checked or a principal passed on by one that did",
         detail::check_no_unauthenticated},
        {"convergence",
         "after the last fault, every replica holds every record of its source within a time, and nothing else",
         detail::check_convergence},
        {"no_lost_updates",
         "a contend workload's key ends at least at the number of its clients' updates that succeeded (kv stores)",
         detail::check_no_lost_updates},
    };
    return checkers;
}

std::vector<check_result> run_checkers(const run_view& run) {
    std::vector<check_result> results;
    for (const expectation_config& e : run.config.expectations) {
        const auto& all = all_checkers();
        const auto it = std::find_if(all.begin(), all.end(), [&](const checker_info& c) { return c.name == e.check; });
        if (it != all.end()) results.push_back(it->run(e, run));
    }
    return results;
}

}  // namespace meshsim::harness
