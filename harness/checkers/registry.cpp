// The one list of checkers, and the reading of an expectation's common keys.
#include <algorithm>

#include "harness/checkers/checker.hpp"
#include "harness/checkers/windows.hpp"

namespace meshsim::harness {

// Defined in slo.cpp, cascades.cpp, data.cpp and updates.cpp.
checker_info slo_checker();
checker_info retry_amplification_checker();
checker_info goodput_checker();
checker_info queue_growth_checker();
checker_info blast_radius_checker();
checker_info metastability_checker();
checker_info breaker_checker();
checker_info no_lost_writes_checker();
checker_info no_duplicate_effects_checker();
checker_info no_unauthenticated_checker();
checker_info convergence_checker();
checker_info no_lost_updates_checker();

nlohmann::json check_result::to_json() const {
    nlohmann::json j = {{"check", check},       {"label", label},       {"passed", passed},
                        {"expected", expected}, {"measured", measured}, {"first_failed", nullptr}};
    j["first_failed_ns"] = nullptr;
    if (first_failed) {
        j["first_failed"] = detail::format_instant(*first_failed);
        j["first_failed_ns"] = (*first_failed - sim::time_zero).count();
    }
    if (lag_series) {
        nlohmann::json series = nlohmann::json::array();
        for (const lag_point& p : *lag_series) {
            series.push_back({{"t_ns", (p.t - sim::time_zero).count()},
                              {"max_lag_ms", sim::to_seconds(p.max_lag) * 1e3},
                              {"pending", p.pending}});
        }
        j["lag_series"] = std::move(series);
    }
    return j;
}

const std::vector<checker_info>& all_checkers() {
    static const std::vector<checker_info> checkers = {
        slo_checker(),
        retry_amplification_checker(),
        goodput_checker(),
        queue_growth_checker(),
        blast_radius_checker(),
        metastability_checker(),
        breaker_checker(),
        no_lost_writes_checker(),
        no_duplicate_effects_checker(),
        no_unauthenticated_checker(),
        convergence_checker(),
        no_lost_updates_checker(),
    };
    return checkers;
}

const std::vector<std::string_view>& checker_names() {
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> n;
        for (const checker_info& c : all_checkers()) n.push_back(c.name);
        return n;
    }();
    return names;
}

const checker_info* find_checker(std::string_view name) {
    const auto& all = all_checkers();
    const auto it = std::find_if(all.begin(), all.end(), [&](const checker_info& c) { return c.name == name; });
    return it == all.end() ? nullptr : &*it;
}

expectation_config read_expectation(object_reader& r, expectation_names& names) {
    expectation_config e;
    const auto index = r.pick("check", checker_names());
    e.label = r.optional<std::string>("label", "", {.non_empty = true});
    e.allow_empty = r.optional<bool>("allow_empty", false);
    if (!index) {
        for (auto& entry : r.entries()) (void)entry;  // the check decides which keys exist
        return e;
    }
    const checker_info& checker = all_checkers()[*index];
    e.check = checker.name;
    e.parameters = checker.read(r, names);
    r.finish();
    return e;
}

std::optional<expectation_config> parse_expectation(std::string_view json, diagnostics& out) {
    struct unchecked final : expectation_names {
        void service(const value_reader&, const std::string&) override {}
        void workload(const value_reader&, const std::string&) override {}
        void endpoint(const value_reader&, const std::string&, const std::string&) override {}
        void writing_service(const value_reader&, const std::string&) override {}
        void effect_service(const value_reader&, const std::string&) override {}
        void replicas(const value_reader&, const std::string&, const std::vector<std::string>&) override {}
    } names;
    const std::size_t before = out.count();
    const auto source = parse_json(json, "expectation", out);
    if (!source) return std::nullopt;
    const document_reader doc(*source, out);
    object_reader root = doc.root();
    expectation_config e = read_expectation(root, names);
    if (out.count() != before) return std::nullopt;
    return e;
}

std::vector<check_result> run_checkers(const run_view& run) {
    std::vector<check_result> results;
    for (const expectation_config& e : run.config.expectations) {
        const checker_info* checker = find_checker(e.check);
        if (checker != nullptr && e.parameters) results.push_back(checker->run(e, run));
    }
    return results;
}

}  // namespace meshsim::harness
