// Properties over generated architectures: rapidcheck draws small architectures (a
// tree of services, edges with timeouts, retries, breakers and budgets, a workload)
// and fault schedules, writes each as scenario JSON and runs it through the real
// loader and runner. Each property states a practice that must hold for any case;
// each has a counterpart without the practice that the same checker does fail, so
// no property passes vacuously. A failing case prints its scenario JSON: save it and
// `meshsim run` it. Cases per property: MESHSIM_PROPERTY_CASES (default 8, for CI).
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"
#include "sim/trace.hpp"

using namespace meshsim::harness;
using nlohmann::json;

namespace {

// The case count: small in CI, raised for a nightly run (MESHSIM_PROPERTY_CASES=200).
int property_cases() {
    const char* text =
        std::getenv("MESHSIM_PROPERTY_CASES");  // NOLINT(concurrency-mt-unsafe): read once, at test start
    if (text == nullptr || *text == '\0') return 8;
    const int n = std::atoi(text);
    return n >= 1 ? n : 8;
}

// rc::prop with the case count above (and no more than 10 shrink rounds' worth of
// size): every other setting, the seed included, from RC_PARAMS as usual.
template <class Testable>
void property(const std::string& description, Testable&& testable) {
    SECTION(description) {
        rc::detail::TestParams params = rc::detail::configuration().testParams;
        params.maxSuccess = property_cases();
        const auto result =
            rc::detail::checkTestable(std::forward<Testable>(testable), rc::detail::TestMetadata{}, params);
        std::ostringstream text;
        rc::detail::printResultMessage(result, text);
        INFO(text.str());
        CHECK(result.template is<rc::detail::SuccessResult>());
    }
}

std::string ms(int n) { return std::to_string(n) + "ms"; }

struct run_outcome {
    std::string verdict;  // "pass", the first failed check "name: measured", or a setup problem
    std::uint64_t trace_hash = 0;
};

run_outcome run_json(const json& j) {
    diagnostics diags;
    auto s = load_scenario_text(j.dump(), "generated.json", diags);
    if (!s) return {"bad scenario: " + diags.format(), 0};
    run_options options;
    options.keep_events = false;
    const run_result r = run_scenario(std::move(*s), options);
    if (!r.setup_errors.empty()) return {"setup: " + r.setup_errors.front(), 0};
    run_outcome out{"pass", r.sim->trace().hash()};
    for (const auto& c : r.summary["checks"]) {
        if (!c["passed"].get<bool>()) {
            out.verdict = c["check"].get<std::string>() + ": " + c["measured"].get<std::string>();
            break;
        }
    }
    return out;
}

// Fails the property with the scenario, ready to save and run.
void require_pass(const json& scenario, const run_outcome& got) {
    if (got.verdict == "pass") return;
    RC_FAIL(got.verdict + "\nscenario (save as a .json file and `meshsim run` it):\n" + scenario.dump(2));
}

// ---------------------------------------------------------------- generators

struct service_shape {
    int instances = 1;
    int concurrency = 8;
    int mean_us = 1000;  // exponential service time
    int parent = -1;     // the service that calls this one (-1: the entry)
};

struct edge_shape {
    int timeout_ms = 50;
    int deadline_ms = 500;
    int attempts = 1;
    int backoff_ms = 5;
    bool breaker = false;
};

struct architecture {
    std::uint64_t seed = 1;
    std::vector<service_shape> services;  // services[0] is the entry; services[i].parent < i
    std::vector<edge_shape> edges;        // edges[i]: from services[i].parent to services[i] (edges[0] unused)
    int rate_per_s = 100;
};

std::string service_name(int i) { return "s" + std::to_string(i); }

rc::Gen<architecture> gen_architecture(int max_services) {
    return rc::gen::exec([max_services] {
        architecture a;
        a.seed = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
        const int n = *rc::gen::inRange(2, max_services + 1);
        for (int i = 0; i < n; ++i) {
            service_shape s;
            s.instances = *rc::gen::inRange(1, 4);
            s.concurrency = *rc::gen::inRange(8, 33);
            s.mean_us = *rc::gen::inRange(200, 3000);
            s.parent = i == 0 ? -1 : *rc::gen::inRange(0, i);
            a.services.push_back(s);
            edge_shape e;
            e.timeout_ms = *rc::gen::inRange(10, 101);
            e.deadline_ms = e.timeout_ms * *rc::gen::inRange(1, 6);
            e.attempts = *rc::gen::inRange(1, 4);
            e.backoff_ms = *rc::gen::inRange(1, 20);
            e.breaker = *rc::gen::arbitrary<bool>();
            a.edges.push_back(e);
        }
        a.rate_per_s = *rc::gen::inRange(50, 201);
        return a;
    });
}

// The fault kinds a schedule draws from; `at` and `for` within a run of `run_ms`.
json gen_faults(int services, int run_ms, const std::vector<std::string>& kinds, int max_faults) {
    json faults = json::array();
    const int count = *rc::gen::inRange(0, max_faults + 1);
    for (int i = 0; i < count; ++i) {
        const std::string kind = *rc::gen::elementOf(kinds);
        json f = {{"kind", kind}, {"service", service_name(*rc::gen::inRange(0, services))}};
        f["at"] = ms(*rc::gen::inRange(0, run_ms * 7 / 10));
        f["for"] = ms(*rc::gen::inRange(1, run_ms / 3));
        if (kind == "partition") {
            f["shape"] = "isolate";
            f["instance"] = 1;
        }
        if (kind == "slow") f["factor"] = *rc::gen::inRange(2, 10);
        if (kind == "abort" || kind == "delay") f["probability"] = *rc::gen::inRange(1, 11) / 10.0;
        if (kind == "delay") f["delay"] = ms(*rc::gen::inRange(5, 300));
        if (kind == "clock") f["offset"] = ms(*rc::gen::inRange(1, 2000));
        if (kind == "link") f["loss"] = *rc::gen::inRange(1, 6) / 10.0;
        faults.push_back(std::move(f));
    }
    return faults;
}

json edge_json(const architecture& a, int i) {
    const edge_shape& e = a.edges[static_cast<std::size_t>(i)];
    json edge = {{"from", service_name(a.services[static_cast<std::size_t>(i)].parent)},
                 {"to", service_name(i)},
                 {"timeout", ms(e.timeout_ms)},
                 {"deadline", ms(e.deadline_ms)}};
    if (e.attempts > 1) edge["retry"] = {{"max_attempts", e.attempts}, {"backoff_base", ms(e.backoff_ms)}};
    if (e.breaker) {
        edge["breaker"] = {{"failure_rate_threshold_percent", 50},
                           {"window_size_calls", 20},
                           {"minimum_calls", 10},
                           {"wait_in_open", "200ms"},
                           {"half_open_calls", 3}};
    }
    return edge;
}

// The architecture as a scenario: every service serves "/r", calling each child's "/r".
json scenario_of(const architecture& a, int run_ms) {
    json j = {{"name", "generated"}, {"seed", a.seed}, {"duration", ms(run_ms)}, {"bucket", "250ms"}};
    j["services"] = json::array();
    j["edges"] = json::array();
    for (int i = 0; i < static_cast<int>(a.services.size()); ++i) {
        const service_shape& s = a.services[static_cast<std::size_t>(i)];
        json calls = json::array();
        for (int c = i + 1; c < static_cast<int>(a.services.size()); ++c) {
            if (a.services[static_cast<std::size_t>(c)].parent == i)
                calls.push_back({{"service", service_name(c)}, {"endpoint", "/r"}});
        }
        json endpoint = {{"path", "/r"},
                         {"service_time", {{"dist", "exponential"}, {"mean", std::to_string(s.mean_us) + "us"}}}};
        if (!calls.empty()) endpoint["calls"] = calls;
        j["services"].push_back({{"name", service_name(i)},
                                 {"instances", s.instances},
                                 {"concurrency", s.concurrency},
                                 {"queue", {{"capacity", 100}}},
                                 {"endpoints", json::array({endpoint})}});
        if (i > 0) j["edges"].push_back(edge_json(a, i));
    }
    j["workloads"] = json::array(
        {{{"name", "users"}, {"service", "s0"}, {"endpoint", "/r"}, {"open", {{"rate_per_s", a.rate_per_s}}}}});
    j["expectations"] = json::array({{{"check", "goodput"}, {"min_ratio", 0}}});
    return j;
}

// s0 -> s1 -> s2, no retries, no breakers: the counterparts' case.
architecture fixed_architecture() {
    architecture a;
    for (int i = 0; i < 3; ++i) {
        a.services.push_back({2, 8, 1000, i - 1});
        a.edges.push_back({});
    }
    return a;
}

// The last service (always a leaf: children come after their parent) takes writes.
json with_writer(json j, const json& write) {
    json& endpoint = j["services"].back()["endpoints"][0];
    endpoint["method"] = "POST";
    endpoint["write"] = write;
    return j;
}

const std::vector<std::string> every_kind{"crash", "pause", "slow", "partition", "abort", "delay", "clock", "link"};

}  // namespace

TEST_CASE("any generated architecture and fault schedule runs to the same trace hash twice", "[harness][properties]") {
    property("same seed, same trace hash", [] {
        const architecture a = *gen_architecture(4);
        json j = scenario_of(a, 1500);
        j["faults"] = gen_faults(static_cast<int>(a.services.size()), 1500, every_kind, 3);
        const run_outcome first = run_json(j);
        const run_outcome second = run_json(j);
        RC_ASSERT(first.verdict.rfind("bad scenario", 0) != 0);
        if (first.trace_hash != second.trace_hash) {
            RC_FAIL("trace hashes " + meshsim::sim::format_hash(first.trace_hash) + " and " +
                    meshsim::sim::format_hash(second.trace_hash) + "\nscenario:\n" + j.dump(2));
        }
    });
    // The hash is not vacuous: another seed of the same case runs differently.
    const architecture a = fixed_architecture();
    json j = scenario_of(a, 1000);
    const run_outcome one = run_json(j);
    j["seed"] = a.seed + 1;
    CHECK(one.trace_hash != run_json(j).trace_hash);
}

TEST_CASE("syncing before the answer loses no acknowledged write in any generated architecture",
          "[harness][properties]") {
    property("no acknowledged write lost with sync-before-ack", [] {
        const architecture a = *gen_architecture(4);
        const int n = static_cast<int>(a.services.size());
        json j = with_writer(scenario_of(a, 2000), {{"sync", "before_ack"}, {"dedupe", true}});
        j["faults"] = gen_faults(n, 2000, {"crash", "pause", "partition", "link", "slow"}, 3);
        j["expectations"] = json::array({{{"check", "no_lost_writes"}, {"service", service_name(n - 1)}}});
        require_pass(j, run_json(j));
    });
    // Without the practice the checker fails: acknowledged, not yet synced, crashed.
    json j = with_writer(scenario_of(fixed_architecture(), 2000), {{"sync", "periodic"}, {"sync_interval", "300ms"}});
    j["faults"] = json::array({{{"kind", "crash"}, {"service", "s2"}, {"at", "1150ms"}, {"for", "100ms"}}});
    j["expectations"] = json::array({{{"check", "no_lost_writes"}, {"service", "s2"}}});
    CHECK(run_json(j).verdict.starts_with("no_lost_writes: "));
}

namespace {

// The writer publishes every write to a replica service; the workload stops at 60%.
json replicated(const architecture& a, const std::string& publish, int run_ms) {
    json j = with_writer(
        scenario_of(a, run_ms),
        {{"publish", publish}, {"publish_to", json::array({{{"service", "replica"}, {"endpoint", "/index"}}})}});
    j["services"].push_back(
        {{"name", "replica"},
         {"instances", 2},
         {"concurrency", 8},
         {"endpoints",
          json::array({{{"path", "/index"}, {"method", "POST"}, {"service_time", "500us"}, {"replica", true}}})}});
    const std::string writer = service_name(static_cast<int>(a.services.size()) - 1);
    j["edges"].push_back({{"from", writer},
                          {"to", "replica"},
                          {"timeout", "30ms"},
                          {"retry", {{"max_attempts", 2}, {"backoff_base", "5ms"}}}});
    j["workloads"][0]["stop"] = ms(run_ms * 6 / 10);
    j["expectations"] =
        json::array({{{"check", "convergence"}, {"service", writer}, {"replicas", {"replica"}}, {"within", "1s"}}});
    return j;
}

}  // namespace

TEST_CASE("an outbox's replica converges after every fault heals, in any generated architecture",
          "[harness][properties]") {
    property("replicas converge with an outbox", [] {
        const architecture a = *gen_architecture(3);
        json j = replicated(a, "outbox", 3000);
        // Faults anywhere, the replica included (it is the last service).
        j["faults"] = gen_faults(static_cast<int>(a.services.size()) + 1, 3000,
                                 {"crash", "pause", "partition", "link", "abort", "delay"}, 3);
        for (json& f : j["faults"]) {
            if (f["service"] == service_name(static_cast<int>(a.services.size()))) f["service"] = "replica";
        }
        require_pass(j, run_json(j));
    });
    json j = replicated(fixed_architecture(), "dual_write", 3000);
    j["faults"] = json::array({{{"kind", "partition"},
                                {"shape", "one_way"},
                                {"from", {"s2"}},
                                {"to", {"replica"}},
                                {"at", "500ms"},
                                {"for", "700ms"}}});
    CHECK(run_json(j).verdict.starts_with("convergence: "));
}

namespace {

// Entry s0 also serves "/ok", which calls nobody; a probe workload measures it while
// the leaf (the last service) fails. Every edge has a short timeout and a breaker.
json isolated_entry(architecture a, bool practice) {
    a.services[0].concurrency = practice ? 64 : 8;
    for (edge_shape& e : a.edges) {
        if (practice) {
            e.timeout_ms = std::min(e.timeout_ms, 50);
            e.deadline_ms = e.timeout_ms * e.attempts;
            e.breaker = true;
        } else {
            e.timeout_ms = 2000;
            e.deadline_ms = 5000;
            e.breaker = false;
        }
    }
    json j = scenario_of(a, 3000);
    j["services"][0]["endpoints"].push_back(
        {{"path", "/ok"}, {"service_time", {{"dist", "exponential"}, {"mean", "500us"}}}});
    // The probes' own client gives up after 100ms: a request stuck behind the entry's
    // busy workers is an error to them, as to a user.
    j["workloads"].push_back({{"name", "probes"},
                              {"service", "s0"},
                              {"endpoint", "/ok"},
                              {"open", {{"rate_per_s", 50}}},
                              {"client", {{"timeout", "100ms"}, {"deadline", "100ms"}}}});
    j["expectations"] =
        json::array({{{"check", "slo"}, {"workload", "probes"}, {"window", "1s"}, {"error_rate_max", 0.01}}});
    return j;
}

}  // namespace

TEST_CASE("with short timeouts and breakers a failing leaf never pushes the entry's error rate past its bound",
          "[harness][properties]") {
    property("a failing leaf stays contained", [] {
        const architecture a = *gen_architecture(4);
        json j = isolated_entry(a, true);
        const std::string leaf = service_name(static_cast<int>(a.services.size()) - 1);
        json f = {{"service", leaf}, {"at", ms(*rc::gen::inRange(0, 1500))}, {"for", ms(*rc::gen::inRange(100, 1500))}};
        const std::string kind = *rc::gen::elementOf(std::vector<std::string>{"pause", "abort", "delay", "crash"});
        f["kind"] = kind;
        if (kind == "abort") f["probability"] = 1;
        if (kind == "delay") {
            f["probability"] = 1;
            f["delay"] = ms(*rc::gen::inRange(100, 2000));
        }
        if (kind == "crash") f["restart"] = true;
        j["faults"] = json::array({f});
        require_pass(j, run_json(j));
    });
    // Long timeouts, no breakers, a small entry: the paused leaf holds every worker.
    architecture two = fixed_architecture();
    two.services.resize(2);
    two.edges.resize(2);
    json j = isolated_entry(two, false);
    j["workloads"][0]["open"]["rate_per_s"] = 100;
    j["faults"] = json::array({{{"kind", "pause"}, {"service", "s1"}, {"at", "500ms"}, {"for", "2s"}}});
    const run_outcome without = run_json(j);
    INFO(without.verdict << "\n" << j.dump(2));
    CHECK(without.verdict.starts_with("slo: "));
}

namespace {

struct budget_case {
    architecture a;  // s0 -> s1
    int attempts = 4;
    double ratio = 0.1;
    double min_retries_per_s = 2;
};

json budgeted(const budget_case& c, bool budget) {
    architecture a = c.a;
    a.edges[1].attempts = c.attempts;
    a.edges[1].breaker = false;
    a.edges[1].deadline_ms = a.edges[1].timeout_ms * c.attempts * 4;
    json j = scenario_of(a, 2000);
    if (budget) {
        j["edges"][0]["retry_budget"] = {{"ratio", c.ratio}, {"min_retries_per_s", c.min_retries_per_s}, {"ttl", "1s"}};
    }
    // The bound: the ratio, plus the reserve (min_retries_per_s over the ttl) spread
    // over the requests of the run, plus 2% for the requests still in flight.
    const double requests = a.rate_per_s * 2.0;
    const double bound = 1 + c.ratio + c.min_retries_per_s / requests * 2 + 0.02;
    j["expectations"] = json::array({{{"check", "retry_amplification"}, {"service", "s1"}, {"max", bound}}});
    return j;
}

}  // namespace

TEST_CASE("with a retry budget, retry amplification stays under its bound in any generated case",
          "[harness][properties]") {
    property("amplification stays under the budget's bound", [] {
        budget_case c;
        c.a = *gen_architecture(2);
        c.a.services.resize(2);
        c.a.edges.resize(2);
        c.a.services[1].parent = 0;
        c.attempts = *rc::gen::inRange(2, 6);
        c.ratio = *rc::gen::inRange(5, 31) / 100.0;
        c.min_retries_per_s = *rc::gen::inRange(0, 6);
        json j = budgeted(c, true);
        json f = {{"service", "s1"}, {"at", ms(*rc::gen::inRange(0, 1000))}, {"for", ms(*rc::gen::inRange(100, 1000))}};
        const std::string kind =
            *rc::gen::elementOf(std::vector<std::string>{"abort", "pause", "crash", "delay", "link"});
        f["kind"] = kind;
        if (kind == "abort" || kind == "delay") f["probability"] = *rc::gen::inRange(1, 11) / 10.0;
        if (kind == "delay") f["delay"] = ms(*rc::gen::inRange(10, 300));
        if (kind == "link") f["loss"] = *rc::gen::inRange(1, 6) / 10.0;
        j["faults"] = json::array({f});
        require_pass(j, run_json(j));
    });
    // Without the budget the same checker fails: four attempts at a leaf failing half the calls.
    budget_case c;
    c.a = fixed_architecture();
    c.a.services.resize(2);
    c.a.edges.resize(2);
    json j = budgeted(c, false);
    j["faults"] =
        json::array({{{"kind", "abort"}, {"service", "s1"}, {"probability", 0.5}, {"at", "200ms"}, {"for", "1500ms"}}});
    CHECK(run_json(j).verdict.starts_with("retry_amplification: "));
}
