// A check that saw nothing must not pass: every checker in the registry, given a run
// with zero samples of what it judges, fails and says "no samples"; the same
// expectation with "allow_empty": true passes and still says so. The table covers
// every registered checker, so a new one cannot slip in without its empty case.
#include <catch2/catch.hpp>

#include <map>

#include "harness/checkers/checker.hpp"

using namespace meshsim;
using namespace meshsim::harness;

namespace {

sim::time_point at_ms(std::int64_t ms) { return sim::time_zero + sim::milliseconds(ms); }

// A run of 10s (1s buckets) of workload buyers -> front /buy -> back /charge, in
// which nothing at all happened unless a test records it.
struct empty_run {
    scenario config;
    observations obs{sim::seconds(1), sim::duration{0}, sim::seconds(10)};
    data_ledger data{{"front", "back"}};
    sim::time_point last_fault_end = at_ms(2000);
    bool finished = false;

    empty_run() {
        config.duration = sim::seconds(10);
        workload_config w;
        w.name = "buyers";
        w.service = "front";
        w.endpoint = "/buy";
        workload_config bumpers;  // a kv's contending clients (no_lost_updates)
        bumpers.name = "bumpers";
        bumpers.service = "back";
        bumpers.endpoint = kv_put_path;
        bumpers.contend = contend_config{"likes", 2, 10, true};
        config.workloads = {w, bumpers};
        obs.add_service("front");
        obs.add_service("back");
        obs.add_endpoint({"front", "/buy", 1});
        obs.add_endpoint({"back", "/charge", 1});
        obs.add_edge("front", "back");
        obs.add_workload("buyers");
        obs.add_workload("bumpers");
    }

    check_result judge(const expectation_config& e) {
        config.expectations = {e};
        if (!finished) obs.finish();  // once, as at the end of a run
        finished = true;
        const auto results = run_checkers({config, obs, data, last_fault_end, sim::time_zero + config.duration});
        REQUIRE(results.size() == 1);
        return results.front();
    }
};

// An expectation as a scenario file writes it, read by its checker's own reader.
expectation_config expect(const std::string& json) {
    diagnostics out;
    const auto e = parse_expectation(json, out);
    INFO(out.format());
    REQUIRE(e);
    return *e;
}

// One expectation per checker, each about something the empty run never saw.
std::map<std::string, expectation_config> one_of_each() {
    return {
        {"slo", expect(R"({"check": "slo", "workload": "buyers", "error_rate_max": 0.01})")},
        {"retry_amplification", expect(R"({"check": "retry_amplification", "service": "back", "max": 1.5})")},
        {"goodput", expect(R"({"check": "goodput", "min_ratio": 0.99})")},
        {"queue_growth", expect(R"({"check": "queue_growth", "service": "back", "max_depth": 10})")},
        {"blast_radius", expect(R"({"check": "blast_radius", "error_rate_max": 0.05, "max_services": 0})")},
        {"metastability",
         expect(R"({"check": "metastability", "within": "1s", "window": "1s", "goodput_min_ratio": 0.99})")},
        {"breaker",
         expect(R"({"check": "breaker", "service": "front", "to": "back", "state": "open", "when": "never"})")},
        {"no_lost_writes", expect(R"({"check": "no_lost_writes", "service": "back"})")},
        {"no_duplicate_effects", expect(R"({"check": "no_duplicate_effects", "service": "back"})")},
        {"no_unauthenticated", expect(R"({"check": "no_unauthenticated"})")},
        {"convergence",
         expect(R"({"check": "convergence", "service": "back", "replicas": ["front"], "within": "1s"})")},
        {"no_lost_updates", expect(R"({"check": "no_lost_updates", "workload": "bumpers"})")},
    };
}

}  // namespace

TEST_CASE("every checker fails with no samples, and passes saying so when allow_empty is set",
          "[harness][checkers][empty]") {
    const auto cases = one_of_each();
    for (const checker_info& c : all_checkers()) {
        INFO(c.name);
        REQUIRE(cases.contains(std::string(c.name)));  // a new checker needs its empty case here
        expectation_config e = cases.at(std::string(c.name));

        empty_run strict;
        const check_result failed = strict.judge(e);
        INFO(failed.measured);
        CHECK_FALSE(failed.passed);
        CHECK(failed.measured.starts_with("no samples: "));
        CHECK_FALSE(failed.measured.ends_with("(allowed: allow_empty)"));

        e.allow_empty = true;
        empty_run lenient;
        const check_result allowed = lenient.judge(e);
        INFO(allowed.measured);
        CHECK(allowed.passed);
        CHECK(allowed.measured == failed.measured + " (allowed: allow_empty)");
        CHECK_FALSE(allowed.first_failed);
    }
}

TEST_CASE("the empty verdicts name what was missing", "[harness][checkers][empty]") {
    const auto cases = one_of_each();
    const auto measured = [&](const std::string& check) { return empty_run().judge(cases.at(check)).measured; };
    CHECK(measured("goodput") == "no samples: no request of any workload was answered after the warmup");
    CHECK(measured("slo") == "no samples: no request of workload buyers was answered after the warmup");
    CHECK(measured("retry_amplification") == "no samples: the workloads sent no request (no root request to amplify)");
    CHECK(measured("queue_growth") == "no samples: no request reached back, so its queue was never tested");
    CHECK(measured("blast_radius") == "no samples: no service answered a request after the warmup");
    CHECK(measured("metastability") == "no samples: no request of any workload was answered after 3.000s");
    CHECK(measured("breaker") == "no samples: front never called back");
    CHECK(measured("no_lost_writes") == "no samples: back acknowledged no write");
    CHECK(measured("no_duplicate_effects") == "no samples: back applied no write");
    CHECK(measured("no_unauthenticated") == "no samples: no request served by any service");
    CHECK(measured("convergence") == "no samples: back holds no committed record to replicate");
    CHECK(measured("no_lost_updates") == "no samples: no update of likes succeeded");
}

TEST_CASE("goodput of 0 answered requests is not 100%", "[harness][checkers][empty]") {
    // The defect: "100% (0 / 0)" passed. Requests that were sent but never answered
    // are no evidence of goodput either.
    empty_run run;
    for (int i = 0; i < 5; ++i) run.obs.arrival(run.obs.workload(0), at_ms(100 * i));
    const check_result r = run.judge(one_of_each().at("goodput"));
    CHECK_FALSE(r.passed);
    CHECK(r.measured == "no samples: no request of any workload was answered after the warmup");
}

TEST_CASE("retry amplification with root requests but no attempt at the service fails", "[harness][checkers][empty]") {
    empty_run run;
    for (int i = 0; i < 5; ++i) run.obs.arrival(run.obs.workload(0), at_ms(100 * i));
    const check_result r = run.judge(one_of_each().at("retry_amplification"));
    CHECK_FALSE(r.passed);
    CHECK(r.measured == "no samples: no attempt reached back (of 5 requests at the entry)");
}

TEST_CASE("checks that saw something judge it as before", "[harness][checkers][empty]") {
    empty_run run;
    flow_stats& buyers = run.obs.workload(0);
    for (int i = 0; i < 4; ++i) {
        run.obs.arrival(buyers, at_ms(3000 + 100 * i));
        run.obs.completion(buyers, at_ms(3000 + 100 * i), at_ms(3010 + 100 * i),
                           i == 0 ? svc::outcome::http(503) : svc::outcome::success());
    }
    const check_result ok = run.judge(expect(R"({"check": "goodput", "min_ratio": 0.75})"));
    CHECK(ok.passed);
    CHECK(ok.measured == "75% (3 / 4)");
    CHECK_FALSE(run.judge(expect(R"({"check": "goodput", "min_ratio": 0.8})")).passed);

    // Metastability judges only the windows with answers, and says how many had none.
    const check_result meta = run.judge(one_of_each().at("metastability"));
    CHECK_FALSE(meta.passed);
    CHECK(meta.measured == "worst goodput 75% (6 of 7 windows had no answers)");
}
