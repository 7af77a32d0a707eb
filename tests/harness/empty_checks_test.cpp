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

expectation_config expect(std::string check) {
    expectation_config e;
    e.check = std::move(check);
    return e;
}

// One expectation per checker, each about something the empty run never saw.
std::map<std::string, expectation_config> one_of_each() {
    std::map<std::string, expectation_config> all;
    auto slo = expect("slo");
    slo.workload = "buyers";
    slo.error_rate_max = 0.01;
    all["slo"] = slo;
    auto amplification = expect("retry_amplification");
    amplification.service = "back";
    amplification.max_ratio = 1.5;
    all["retry_amplification"] = amplification;
    auto goodput = expect("goodput");
    goodput.min_ratio = 0.99;
    all["goodput"] = goodput;
    auto queue = expect("queue_growth");
    queue.service = "back";
    queue.max_depth = 10;
    all["queue_growth"] = queue;
    auto blast = expect("blast_radius");
    blast.error_rate_max = 0.05;
    blast.max_services = 0;
    all["blast_radius"] = blast;
    auto meta = expect("metastability");
    meta.within = sim::seconds(1);
    meta.window = sim::seconds(1);
    meta.min_ratio = 0.99;
    all["metastability"] = meta;
    auto breaker = expect("breaker");
    breaker.service = "front";
    breaker.to_service = "back";
    breaker.state = "open";
    breaker.when = "never";
    all["breaker"] = breaker;
    auto lost = expect("no_lost_writes");
    lost.service = "back";
    all["no_lost_writes"] = lost;
    auto duplicates = expect("no_duplicate_effects");
    duplicates.service = "back";
    all["no_duplicate_effects"] = duplicates;
    all["no_unauthenticated"] = expect("no_unauthenticated");
    auto convergence = expect("convergence");
    convergence.service = "back";
    convergence.replicas = {"front"};
    convergence.within = sim::seconds(1);
    all["convergence"] = convergence;
    auto updates = expect("no_lost_updates");
    updates.workload = "bumpers";
    all["no_lost_updates"] = updates;
    return all;
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
    auto goodput = one_of_each().at("goodput");
    goodput.min_ratio = 0.75;
    const check_result ok = run.judge(goodput);
    CHECK(ok.passed);
    CHECK(ok.measured == "75% (3 / 4)");
    goodput.min_ratio = 0.8;
    CHECK_FALSE(run.judge(goodput).passed);

    // Metastability judges only the windows with answers, and says how many had none.
    const check_result meta = run.judge(one_of_each().at("metastability"));
    CHECK_FALSE(meta.passed);
    CHECK(meta.measured == "worst goodput 75% (6 of 7 windows had no answers)");
}
