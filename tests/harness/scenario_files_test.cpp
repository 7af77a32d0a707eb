// Scenario files end to end: every broken file in bad_scenarios/ gives exactly the
// diagnostics in its .expected file (and nothing is run; "{fault kinds}",
// "{checkers}" and "{service kinds}" there stand for the registries' lists); every example in
// scenarios/ validates and runs to a verdict; the built-in flagship is the file.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/checkers/checker.hpp"
#include "harness/fault_kinds/fault_kind.hpp"
#include "harness/flagship.hpp"
#include "harness/kinds/service_kind.hpp"
#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim::harness;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// A registry's names as a "must be one of" diagnostic lists them: "a", "b" or "c".
std::string one_of(const std::vector<std::string_view>& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) text += i + 1 == names.size() ? " or " : ", ";
        text += "\"" + std::string(names[i]) + "\"";
    }
    return text;
}

// A golden file with the registries' lists in place of {fault kinds}, {checkers} and
// {service kinds}: the lists are generated from the registries, so a new fault kind,
// checker or service kind changes no golden file.
std::string expected_diagnostics(const fs::path& path) {
    std::string text = slurp(path);
    for (const auto& [placeholder, names] : {std::pair{std::string("{fault kinds}"), fault_kind_names()},
                                             std::pair{std::string("{checkers}"), checker_names()},
                                             std::pair{std::string("{service kinds}"), service_kind_names()}}) {
        for (std::size_t at; (at = text.find(placeholder)) != std::string::npos;)
            text.replace(at, placeholder.size(), one_of(names));
    }
    return text;
}

std::vector<fs::path> json_files(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

TEST_CASE("each broken scenario file produces exactly its expected diagnostics", "[harness][scenario][bad]") {
    // The table in tests/, and the demonstration in scenarios/bad/ the README shows.
    auto files = json_files(fs::path(MESHSIM_SOURCE_DIR) / "tests/harness/bad_scenarios");
    REQUIRE(files.size() >= 10);
    for (const fs::path& demo : json_files(fs::path(MESHSIM_SOURCE_DIR) / "scenarios/bad")) files.push_back(demo);
    for (const fs::path& file : files) {
        diagnostics out;
        // Named as the .expected files name them: the bare file name.
        const auto s = load_scenario_text(slurp(file), file.filename().string(), out);
        INFO(file.filename().string());
        CHECK_FALSE(s.has_value());
        fs::path expected = file;
        expected.replace_extension(".expected");
        CHECK(out.format() == expected_diagnostics(expected));
    }
}

TEST_CASE("each questionable but valid scenario file loads with exactly its expected warnings",
          "[harness][scenario][warnings]") {
    const auto files = json_files(fs::path(MESHSIM_SOURCE_DIR) / "tests/harness/warn_scenarios");
    REQUIRE_FALSE(files.empty());
    for (const fs::path& file : files) {
        diagnostics out;
        const auto s = load_scenario_text(slurp(file), file.filename().string(), out);
        INFO(file.filename().string());
        CHECK(s.has_value());
        CHECK(out.count() == 0);
        CHECK(out.warnings() > 0);
        fs::path expected = file;
        expected.replace_extension(".expected");
        CHECK(out.format() == slurp(expected));
    }
}

TEST_CASE("meshsim validate prints warnings and still exits 0", "[harness][scenario][cli][warnings]") {
    const std::string bin = MESHSIM_BINARY;
    const std::string file = std::string(MESHSIM_SOURCE_DIR) + "/tests/harness/warn_scenarios/unretried_calls.json";
    const std::string err = "/tmp/meshsim_validate_warnings.err";
    CHECK(WEXITSTATUS(std::system((bin + " validate " + file + " > /dev/null 2> " + err).c_str())) == 0);
    const std::string printed = slurp(err);
    CHECK(printed.find("unretried_calls.json:16:") != std::string::npos);
    CHECK(printed.find(": warning: edge \"front\" -> \"back\" retries (max_attempts 4)") != std::string::npos);
    CHECK(printed.find("(at /edges/0/retry)") != std::string::npos);
    std::remove(err.c_str());
}

TEST_CASE("meshsim validate exits 2 on a broken file and 0 on a good one", "[harness][scenario][cli]") {
    const std::string bin = MESHSIM_BINARY;
    const std::string bad = std::string(MESHSIM_SOURCE_DIR) + "/tests/harness/bad_scenarios/ranges.json";
    const std::string good = std::string(MESHSIM_SOURCE_DIR) + "/scenarios/basic.json";
    CHECK(WEXITSTATUS(std::system((bin + " validate " + bad + " > /dev/null 2>&1").c_str())) == 2);
    CHECK(WEXITSTATUS(std::system((bin + " validate " + good + " > /dev/null 2>&1").c_str())) == 0);
    CHECK(WEXITSTATUS(std::system((bin + " list > /dev/null 2>&1").c_str())) == 0);
}

TEST_CASE("every example scenario validates and runs to its expected verdict", "[harness][scenario][examples]") {
    const fs::path dir = fs::path(MESHSIM_SOURCE_DIR) / "scenarios";
    for (const fs::path& file : json_files(dir)) {
        if (file.filename().string().starts_with("mesh_100")) continue;  // the benchmark: run by hand
        if (file.filename() == "pairs.json") continue;                   // the catalogue of pairs, not a scenario
        INFO(file.filename().string());
        diagnostics out;
        auto s = load_scenario_file(file, out);
        INFO(out.format());
        REQUIRE(s);
        // Examples named *_fails.json demonstrate a failing expectation.
        const bool should_pass = file.filename().string().find("_fails") == std::string::npos;
        run_options options;
        options.keep_events = false;
        const run_result r = run_scenario(std::move(*s), options);
        REQUIRE(r.setup_errors.empty());
        INFO(r.summary["checks"].dump(2));
        CHECK(r.passed == should_pass);
    }
}

TEST_CASE("the same scenario and seed give the same trace hash", "[harness][scenario][determinism]") {
    const auto run_once = [] {
        diagnostics out;
        auto s = load_scenario_text(flagship_scenario_text(), "flagship", out);
        REQUIRE(s);
        run_options options;
        options.keep_events = false;
        return run_scenario(std::move(*s), options).summary;
    };
    const auto a = run_once();
    const auto b = run_once();
    CHECK(a["trace_hash"] == b["trace_hash"]);
    CHECK(a["workloads"] == b["workloads"]);
}

TEST_CASE("the built-in flagship is scenarios/flagship.json", "[harness][scenario]") {
    CHECK(std::string(flagship_scenario_text()) == slurp(fs::path(MESHSIM_SOURCE_DIR) / "scenarios/flagship.json"));
}
