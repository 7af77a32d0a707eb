// The registries are the one list of fault kinds and checkers: the kernel's fault
// kinds each have one registration, and every list that cannot be generated from
// the registries (the docs' tables, the fuzz dictionary) names exactly what they hold.
#include <catch2/catch.hpp>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "cli_testing.hpp"
#include "harness/checkers/checker.hpp"
#include "harness/fault_kinds/fault_kind.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim::harness;
using meshsim::testing::read_text;
namespace fs = std::filesystem;

namespace {

const fs::path source_dir = MESHSIM_SOURCE_DIR;

std::vector<std::string> registered_fault_kinds() {
    std::vector<std::string> names;
    for (const fault_kind_info& k : all_fault_kinds()) names.emplace_back(k.name());
    return names;
}

std::vector<std::string> registered_checkers() {
    std::vector<std::string> names;
    for (const checker_info& c : all_checkers()) names.emplace_back(c.name);
    return names;
}

// The text from the line `heading` to the next heading of the same level.
std::string section(const std::string& doc, const std::string& heading) {
    const std::size_t start = doc.find("\n" + heading + "\n");
    REQUIRE(start != std::string::npos);
    const std::size_t end = doc.find("\n## ", start + heading.size() + 1);
    return doc.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The first column of a markdown table's rows: "| `crash` | ..." gives "crash".
std::vector<std::string> table_names(const std::string& text) {
    std::vector<std::string> names;
    const std::regex row(R"(\n\| `([a-z_]+)` \|)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), row); it != std::sregex_iterator(); ++it) {
        names.push_back((*it)[1]);
    }
    return names;
}

// Every `name` in backticks in text, in order.
std::vector<std::string> quoted_names(const std::string& text) {
    std::vector<std::string> names;
    const std::regex name("`([a-z_]+)`");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator(); ++it) {
        names.push_back((*it)[1]);
    }
    return names;
}

}  // namespace

TEST_CASE("every kernel fault kind has exactly one scenario registration, under the kernel's name") {
    namespace k = meshsim::sim::kernel;
    for (const k::fault_kind kind : k::all_fault_kinds()) {
        std::size_t registrations = 0;
        for (const fault_kind_info& info : all_fault_kinds()) registrations += info.kernel_kind == kind;
        CHECK(registrations == 1);
        const fault_kind_info* found = find_fault_kind(k::to_string(kind));
        REQUIRE(found != nullptr);
        CHECK(found->kernel_kind == kind);
        CHECK_FALSE(found->description.empty());
    }
    CHECK(all_fault_kinds().size() == k::fault_kind_count);
    CHECK(fault_kind_names().size() == all_fault_kinds().size());
    CHECK(find_fault_kind("service") == nullptr);
    CHECK(find_fault_kind("slowness") == nullptr);
}

TEST_CASE("every checker is registered once, with a description and its parameter reader") {
    const std::vector<std::string> names = registered_checkers();
    CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());
    for (const checker_info& c : all_checkers()) {
        CHECK_FALSE(c.description.empty());
        CHECK(c.read != nullptr);
        CHECK(c.observes != nullptr);
        CHECK(c.run != nullptr);
        CHECK(find_checker(c.name) == &c);
    }
    CHECK(find_checker("slos") == nullptr);
}

TEST_CASE("each checker reads and validates its own keys") {
    struct bad {
        std::string json;
        std::string error;
    };
    const bad table[] = {
        {R"({"check": "slos", "workload": "w"})", R"(check must be one of "slo", )"},
        {R"({"label": "x"})", R"(missing required key "check")"},
        {R"({"check": "goodput"})", R"(missing required key "min_ratio")"},
        {R"({"check": "goodput", "min_ratio": 2})", "min_ratio must be"},
        {R"({"check": "goodput", "min_ratio": 0.5, "max_depth": 3})", R"(unknown key "max_depth")"},
        {R"({"check": "slo", "workload": "w"})", R"(an slo needs "error_rate_max", "latency" or both)"},
        {R"({"check": "slo", "error_rate_max": 0.1})", R"(an slo names exactly one of "service" and "workload")"},
        {R"({"check": "breaker", "service": "a", "to": "b", "state": "opne"})", R"(did you mean "open"?)"},
        {R"({"check": "convergence", "service": "a", "replicas": [], "within": "1s"})", "replicas"},
        {R"({"check": "queue_growth", "service": "a", "max_depth": -1})", "max_depth"},
    };
    for (const bad& b : table) {
        INFO(b.json);
        diagnostics out;
        CHECK_FALSE(parse_expectation(b.json, out));
        INFO(out.format());
        CHECK(out.format().find(b.error) != std::string::npos);
    }
    diagnostics out;
    const auto ok =
        parse_expectation(R"({"check": "goodput", "min_ratio": 0.5, "label": "g", "allow_empty": true})", out);
    REQUIRE(ok);
    CHECK(ok->check == "goodput");
    CHECK(ok->label == "g");
    CHECK(ok->allow_empty);
    CHECK(ok->parameters != nullptr);
}

TEST_CASE("docs/scenario-format.md lists exactly the registered fault kinds and checkers") {
    const std::string doc = read_text(source_dir / "docs/scenario-format.md");
    CHECK(table_names(section(doc, "## Faults")) == registered_fault_kinds());
    const std::string nemesis = section(doc, "## Nemesis");
    const std::size_t among = nemesis.find("`kinds` among ");
    REQUIRE(among != std::string::npos);
    const std::string kinds = nemesis.substr(among + 14, nemesis.find('(', among) - among - 14);
    CHECK(quoted_names(kinds) == registered_fault_kinds());
    CHECK(table_names(section(doc, "## Expectations")) == registered_checkers());
}

TEST_CASE("the fuzz dictionary holds every fault kind and checker name") {
    const std::string dict = read_text(source_dir / "harness/fuzz/scenario.dict");
    for (const std::string& name : registered_fault_kinds()) {
        INFO(name);
        CHECK(dict.find("\"\\\"" + name + "\\\"\"") != std::string::npos);
    }
    for (const std::string& name : registered_checkers()) {
        INFO(name);
        CHECK(dict.find("\"\\\"" + name + "\\\"\"") != std::string::npos);
    }
}

TEST_CASE("meshsim list prints every registered fault kind and checker with its description") {
    const auto r = meshsim::testing::run_meshsim({"list"});
    REQUIRE(r.exit_code == 0);
    for (const fault_kind_info& k : all_fault_kinds()) {
        INFO(k.name());
        CHECK(r.out.find(std::string(k.name())) != std::string::npos);
        CHECK(r.out.find(std::string(k.description)) != std::string::npos);
    }
    for (const checker_info& c : all_checkers()) {
        INFO(c.name);
        CHECK(r.out.find(std::string(c.description)) != std::string::npos);
    }
}

TEST_CASE("each fault kind reads and validates its own keys, at their positions") {
    // One service of 2 instances and a workload; the fault under test is the only one.
    const auto with_fault = [](const std::string& fault) {
        return R"({"name": "f", "duration": "10s",
                   "services": [{"name": "a", "instances": 2, "endpoints": [{"path": "/x"}]}],
                   "workloads": [{"name": "w", "service": "a", "endpoint": "/x", "open": {"rate_per_s": 1}}],
                   "faults": [)" +
               fault + "]}";
    };
    struct bad {
        std::string fault;
        std::string error;
    };
    const bad table[] = {
        {R"({"kind": "slowness", "service": "a", "at": "1s"})", R"(the fault kind is "slow")"},
        {R"({"kind": "slw", "service": "a", "at": "1s"})", R"(did you mean "slow"?)"},
        {R"({"kind": "service", "service": "a", "at": "1s"})", R"(the fault kinds are "abort" and "delay")"},
        {R"({"service": "a", "at": "1s"})", R"(missing required key "kind")"},
        {R"({"kind": "slow", "service": "a", "at": "1s"})", R"(missing required key "factor")"},
        {R"({"kind": "crash", "at": "1s"})", R"(missing required key "service")"},
        {R"({"kind": "crash", "service": "b", "at": "1s"})", R"(no service named "b")"},
        {R"({"kind": "crash", "service": "a", "instance": 3, "at": "1s"})", "instance 3 does not exist"},
        {R"({"kind": "pause", "service": "a", "at": "1s", "factor": 2})", R"(unknown key "factor")"},
        {R"({"kind": "abort", "service": "a", "at": "1s", "probability": 0})", "probability must be"},
        {R"({"kind": "abort", "service": "a", "at": "1s", "status": 200})", "status must be"},
        {R"({"kind": "delay", "service": "a", "at": "1s"})", R"(missing required key "delay")"},
        {R"({"kind": "delay", "service": "a", "at": "1s", "delay": "1ms", "endpoint": "/y"})",
         R"(no endpoint named "/y")"},
        {R"({"kind": "link", "service": "a", "to": "c", "at": "1s"})", R"(no service named "c")"},
        {R"({"kind": "link", "service": "a", "at": "1s", "loss": 2})", "loss must be"},
        {R"({"kind": "partition", "groups": [["a"], ["a"]], "at": "1s"})", R"(partition names service "a" twice)"},
        {R"({"kind": "partition", "shape": "one_way", "from": ["a"], "at": "1s"})", R"(needs "from" and "to")"},
        {R"({"kind": "partition", "shape": "isolate", "at": "1s"})", R"(missing required key "service")"},
        {R"({"kind": "clock", "service": "a", "at": "1s", "drift_ppm": 1e9})", "drift_ppm must be"},
    };
    for (const bad& b : table) {
        INFO(b.fault);
        diagnostics out;
        CHECK_FALSE(load_scenario_text(with_fault(b.fault), "f.json", out));
        INFO(out.format());
        CHECK(out.format().find(b.error) != std::string::npos);
        CHECK(out.format().find("(at /faults/0") != std::string::npos);
    }
    for (const fault_kind_info& k : all_fault_kinds()) {
        INFO(k.name());
        diagnostics out;
        const std::string extra = k.name() == "slow"    ? R"(, "factor": 2)"
                                  : k.name() == "delay" ? R"(, "delay": "1ms")"
                                                        : "";
        const std::string target = k.name() == "partition" ? R"("shape": "halves")" : R"("service": "a")";
        const auto s = load_scenario_text(
            with_fault(R"({"kind": ")" + std::string(k.name()) + R"(", )" + target + R"(, "at": "1s")" + extra + "}"),
            "f.json", out);
        INFO(out.format());
        REQUIRE(s);
        CHECK(s->faults.at(0).kind == k.name());
        CHECK(s->faults.at(0).parameters != nullptr);
    }
}
