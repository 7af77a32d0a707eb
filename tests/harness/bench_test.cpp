// `meshsim bench`: the generated mesh is mesh_100's shape, the new options refuse bad
// input before anything runs, and the JSON shapes hold what docs/performance.md says.
// Nothing here is timed: speeds are only checked to be there.
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_testing.hpp"
#include "harness/bench/bench.hpp"

using namespace meshsim::testing;
namespace bench = meshsim::harness::bench;

TEST_CASE("the mesh workload at its defaults is scenarios/mesh_100.json", "[harness][bench]") {
    std::ifstream in(source_path("scenarios/mesh_100.json"));
    nlohmann::json file = nlohmann::json::parse(in);
    for (const char* key : {"name", "description", "expectations"}) file.erase(key);
    nlohmann::json generated = bench::mesh_scenario({});
    generated.erase("name");
    CHECK(generated == file);
    CHECK(file["services"].size() == 100);  // not vacuous: the whole mesh is compared
}

TEST_CASE("the mesh grows as 1 gateway, about sqrt(services) mid-tier and the rest leaves", "[harness][bench]") {
    CHECK(bench::shape_of(100).mids == 9);
    CHECK(bench::shape_of(100).leaves == 90);
    CHECK(bench::shape_of(1000).mids == 31);
    CHECK(bench::shape_of(1000).leaves == 968);
    CHECK(bench::shape_of(3).mids == 1);
    CHECK(bench::shape_of(3).leaves == 1);
    const nlohmann::json big = bench::mesh_scenario({.services = 1000, .instances = 10});
    CHECK(big["services"].size() == 1000);
    for (const auto& s : big["services"]) CHECK(s["instances"] == 10);
}

TEST_CASE("bench options refuse bad values with exit 2 before running anything", "[harness][cli][bad_input][bench]") {
    struct bad_case {
        std::vector<std::string> args;
        std::string message;
    };
    const bad_case cases[] = {
        {{"--services", "0"}, "--services: Value 0 not in range 3 to 20000"},
        {{"--services", "2"}, "--services: Value 2 not in range"},
        {{"--services", "-1"}, "--services: Value -1 not in range"},
        {{"--services", "20001"}, "--services: Value 20001 not in range"},
        {{"--services", "99999999999999999999"}, "--services"},
        {{"--services", "many"}, "--services"},
        {{"--instances", "0"}, "--instances: Value 0 not in range 1 to 10000"},
        {{"--instances", "-2"}, "--instances"},
        {{"--instances", "10001"}, "--instances"},
        {{"--instances", "ten"}, "--instances"},
        {{"--services", "1000", "--instances", "1000"}, "at most 200000 instances, got 1000000"},
        {{"--rate", "0"}, "--rate: Value 0 not in range 1 to 10000000"},
        {{"--rate", "-5"}, "--rate"},
        {{"--rate", "10000001"}, "--rate"},
        {{"--rate", "fast"}, "--rate"},
        {{"--duration", "0s"}, "--duration: must be longer than 0s"},
        {{"--duration", "-1s"}, "--duration: durations cannot be negative"},
        {{"--duration", ""}, "--duration: expected a duration"},
        {{"--duration", "10"}, "--duration:"},
        {{"--duration", "soon"}, "--duration:"},
        // Valid one by one, too much together: the scenario loader's limit on calls.
        {{"--rate", "10000000", "--duration", "100000h"}, "--workload mesh: "},
        {{"--workload", "meshes"}, "--workload: meshes not in {all,ring,network,mesh}"},
        {{"--idle-fibers", "-1"}, "--idle-fibers"},
        {{"--idle-fibers", "1001"}, "--idle-fibers: Value 1001 not in range 0 to 1000"},
        {{"--idle-fibers", "some"}, "--idle-fibers"},
        {{"--idle-fibers", ""}, "--idle-fibers"},
        {{"--nodes", "100000", "--idle-fibers", "100"}, "at most 10000000 fibers, got 10100000"},
    };
    for (const bad_case& c : cases) {
        std::vector<std::string> args = {"bench", "--workload", "mesh", "--json"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        std::string shown;
        for (const auto& a : args) shown += a + " ";
        INFO("meshsim " << shown);
        const cli_result r = run_meshsim(args);
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.signal == 0);
        CHECK(r.err.find(c.message) != std::string::npos);
        CHECK(r.err.rfind("meshsim: error: ", 0) == 0);
        CHECK(r.out.empty());  // nothing ran
    }
}

TEST_CASE("bench --json: one workload's object, or all three keyed by workload", "[harness][cli][bench]") {
    // The smallest values next to the bad ones run (and keep this test short).
    const std::vector<std::string> small = {"--services", "3",    "--instances", "1",     "--rate", "100",
                                            "--duration", "50ms", "--messages",  "20000", "--json"};
    std::vector<std::string> args = {"bench", "--workload", "mesh", "--no-baseline"};
    args.insert(args.end(), small.begin(), small.end());
    const cli_result one = run_meshsim(args);
    INFO(one.err);
    REQUIRE(one.exit_code == 0);
    const nlohmann::json mesh = nlohmann::json::parse(one.out);
    CHECK(mesh["workload"] == "mesh");
    CHECK(mesh["services"] == 3);
    CHECK(mesh["instances"] == 3);
    CHECK(mesh["events"].get<std::uint64_t>() > 0);
    CHECK(mesh["requests"].get<std::uint64_t>() > 0);
    CHECK(mesh["events_per_s"].get<double>() > 0);
    CHECK(mesh["baseline_msgs_per_s"] == 0.0);  // --no-baseline

    args = {"bench"};
    args.insert(args.end(), small.begin(), small.end());
    const cli_result all = run_meshsim(args);
    INFO(all.err);
    REQUIRE(all.exit_code == 0);
    const nlohmann::json each = nlohmann::json::parse(all.out);
    CHECK(each.size() == 3);
    for (const char* kind : {"ring", "network", "mesh"}) {
        INFO(kind);
        REQUIRE(each.contains(kind));
        CHECK(each[kind]["workload"] == kind);
        CHECK(each[kind]["baseline_msgs_per_s"].get<double>() > 0);
        CHECK(each[kind]["trace_hash"].get<std::string>().size() == 16);
    }
    CHECK(each["mesh"]["ring_msgs_per_s"] == each["ring"]["msgs_per_s"]);  // the same run's ring
    CHECK(each["mesh"]["cost_per_event_vs_ring"].get<double>() > 0);
    CHECK(each["mesh"]["trace_hash"] == mesh["trace_hash"]);  // the same scenario, the same run
}

TEST_CASE("bench --idle-fibers parks more fibers on every ring node, and they cost memory", "[harness][cli][bench]") {
    const auto ring = [](const char* idle) {
        const cli_result r = run_meshsim({"bench", "--workload", "ring", "--nodes", "2000", "--messages", "1",
                                          "--no-baseline", "--json", "--idle-fibers", idle});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return nlohmann::json::parse(r.out);
    };
    const nlohmann::json none = ring("0");
    const nlohmann::json four = ring("4");
    CHECK(none["idle_fibers_per_node"] == 0);
    CHECK(four["idle_fibers_per_node"] == 4);
    // 8,000 parked fibers: each has touched at least a page of its stack.
    CHECK(four["peak_rss_bytes"].get<std::uint64_t>() > none["peak_rss_bytes"].get<std::uint64_t>() + 8000 * 4096);
    CHECK(four["trace_hash"] != none["trace_hash"]);  // their starts are in the trace
}
