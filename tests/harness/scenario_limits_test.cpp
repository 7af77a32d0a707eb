// The limits on what a run may cost (harness/scenario/limits.hpp): each is enforced at
// its boundary, for the file's duration and for --until alike, with a located error
// and exit 2 from `meshsim validate` and `meshsim run`. The goldens in bad_scenarios/
// (limit_*.json) give the exact messages.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness/runner.hpp"
#include "harness/scenario/limits.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim::harness;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace sim = meshsim::sim;

namespace {

scenario load_ok(const std::string& text) {
    diagnostics out;
    auto s = load_scenario_text(text, "limits.json", out);
    INFO(out.format());
    REQUIRE(s);
    return *s;
}

// What the loader says about text: every diagnostic, formatted.
std::string load_errors(const std::string& text) {
    diagnostics out;
    const auto s = load_scenario_text(text, "limits.json", out);
    return s ? "loaded" : out.format();
}

std::string one_service(const std::string& top, const std::string& workload) {
    return R"({"name": "limits", )" + top + R"(,
      "services": [{"name": "api", "endpoints": [{"path": "/a", "calls": [{"service": "db", "endpoint": "/q", "probability": 0.5}]}]},
                   {"name": "db", "endpoints": [{"path": "/q"}]}],
      "workloads": [{"name": "w", "service": "api", "endpoint": "/a", )" +
           workload + "}]}";
}

std::vector<std::string> messages(const std::vector<limit_problem>& problems) {
    std::vector<std::string> out;
    for (const auto& p : problems) out.push_back(p.pointer + ": " + p.message);
    return out;
}

}  // namespace

TEST_CASE("the run length and bucket count limits hold at their boundaries", "[scenario][limits]") {
    // 100000 buckets of 1s: at the limit; and 5 series (2 endpoints, 1 edge, 1 workload, 2 instances) x 100000
    // <= 500000.
    CHECK(load_errors(one_service(R"("duration": "100000s")", R"("open": {"rate_per_s": 1})")) == "loaded");
    CHECK(load_errors(one_service(R"("duration": "100001s")", R"("open": {"rate_per_s": 1})")) ==
          "limits.json:1:32: error: a run of 100001s in buckets of 1s has 100001 time-series buckets; the limit is "
          "100000 (make \"bucket\" at least 2s) (at /duration)\n");
    CHECK(load_errors(one_service(R"("duration": "8760h", "bucket": "1ms")", R"("open": {"rate_per_s": 1})"))
              .find("has 31536000000 time-series buckets; the limit is 100000 (make \"bucket\" at least 316s) (at "
                    "/bucket)") != std::string::npos);
    CHECK(load_errors(one_service(R"("duration": "8761h", "bucket": "1h")", R"("open": {"rate_per_s": 1})")) ==
          "limits.json:1:32: error: duration must be in [1ms, 8760h], got 8761h (at /duration)\n");
}

TEST_CASE("closed-loop users, fault occurrences and open-loop calls are limited", "[scenario][limits]") {
    const scenario users_ok = load_ok(one_service(R"("duration": "1s")", R"("closed": {"users": 5000})"));
    CHECK(check_run_limits(users_ok, users_ok.duration).empty());
    CHECK(load_errors(one_service(R"("duration": "1s")", R"("closed": {"users": 5001})")) ==
          "limits.json:4:91: error: the closed-loop workloads have 5001 users in all; the limit is 5000 (at "
          "/workloads/0/closed/users)\n");

    // 1e7/s for 10s with half a downstream call each: 1.5e8 calls; 6.6s of it is 9.9e7.
    scenario calls = load_ok(one_service(R"("duration": "6600ms")", R"("open": {"rate_per_s": 1e7})"));
    CHECK(check_run_limits(calls, calls.duration).empty());
    CHECK(messages(check_run_limits(calls, 10s)) ==
          std::vector<std::string>{"/workloads/0/open/rate_per_s: the open-loop workloads make up to 150000000 calls "
                                   "in a run of 10s (this one 150000000, downstream calls included); the limit is "
                                   "100000000"});
    // Keeping every event lowers the limit to 2e6 calls.
    CHECK(messages(check_run_limits(calls, 3s, true)) ==
          std::vector<std::string>{"/workloads/0/open/rate_per_s: the open-loop workloads make up to 45000000 calls in "
                                   "a run of 3s (this one 45000000, downstream calls included); the limit is 2000000 "
                                   "when the run keeps its events (about 1 KB of memory each); run with --events "
                                   "none to only hash them, or shorten the run"});
    CHECK(check_run_limits(calls, 3s, false).empty());
    // run_scenario keeps events by default, so it refuses the file's own 6.6s before running it.
    const run_result refused = run_scenario(calls, {});
    CHECK(refused.setup_errors ==
          std::vector<std::string>{"limits.json: the open-loop workloads make up to 99000000 calls in a run of 6600ms "
                                   "(this one 99000000, downstream calls included); the limit is 2000000 when the run "
                                   "keeps its events (about 1 KB of memory each); run with --events none to only hash "
                                   "them, or shorten the run (at /workloads/0/open/rate_per_s)"});
    CHECK(refused.sim == nullptr);

    // The schedule is integrated, not taken at its peak: a 1s spike of 1e7 in an hour at 1/s.
    const scenario spike = load_ok(one_service(R"("duration": "1h", "bucket": "1min")",
                                               R"("open": {"arrivals": "constant", "rate_per_s": 1,
                     "schedule": [{"kind": "spike", "at": "10s", "for": "1s", "rate_per_s": 1e7}]})"));
    CHECK(check_run_limits(spike, spike.duration).empty());
    // A ramp from (almost) 0 to 1e7 over 20s sends 1e8, times 1.5 calls each.
    const scenario ramp = load_ok(one_service(
        R"("duration": "13s")",
        R"("open": {"rate_per_s": 1e-6, "schedule": [{"kind": "ramp", "at": "0s", "for": "20s", "rate_per_s": 1e7}]})"));
    CHECK(messages(check_run_limits(ramp, 20s)) ==
          std::vector<std::string>{"/workloads/0/open/rate_per_s: the open-loop workloads make up to 150000000 calls "
                                   "in a run of 20s (this one 150000000, downstream calls included); the limit is "
                                   "100000000"});
    CHECK(check_run_limits(ramp, ramp.duration).empty());  // 13s of the ramp: 0.4225e8 x 1.5

    // Poisson arrivals are drawn at the peak rate: a 1us spike to 1e7 in 1000s is 1e10 draws, in 1001s too many.
    const scenario thin = load_ok(one_service(
        R"("duration": "1000s")",
        R"("open": {"rate_per_s": 1, "schedule": [{"kind": "spike", "at": "10s", "for": "1us", "rate_per_s": 1e7}]})"));
    CHECK(check_run_limits(thin, thin.duration).empty());
    CHECK(messages(check_run_limits(thin, 1001s)) ==
          std::vector<std::string>{"/workloads/0/open: Poisson arrivals are drawn at the peak rate of the schedule and "
                                   "thinned: up to 10010000000 draws in a run of 1001s (this one 10010000000); the "
                                   "limit is 10000000000 (shorten the run or the peak, or use \"arrivals\": "
                                   "\"constant\")"});

    // A fault every 10us for 1s on both instances: 2 x 100000 occurrences.
    const std::string faults = R"({"name": "f", "duration": "1s",
      "services": [{"name": "api", "instances": 2, "endpoints": [{"path": "/a"}]}],
      "workloads": [{"name": "w", "service": "api", "endpoint": "/a", "open": {"rate_per_s": 1}}],
      "faults": [{"kind": "pause", "service": "api", "at": "0s", "for": "1us", "repeat_every": "EVERY"}]})";
    const auto with_every = [&](const std::string& every) {
        std::string text = faults;
        text.replace(text.find("EVERY"), 5, every);
        return text;
    };
    CHECK(load_errors(with_every("20us")) == "loaded");  // 2 x 50000: at the limit
    CHECK(load_errors(with_every("10us")) ==
          "limits.json:4:96: error: the faults occur up to 200000 times in a run of 1s (this one 200000); the limit "
          "is 100000 (at /faults/0/repeat_every)\n");
}

TEST_CASE("run_scenario holds --until to the limits of the file's duration: a setup error before anything runs",
          "[scenario][limits][runner]") {
    const scenario s = load_ok(one_service(R"("duration": "10s")", R"("open": {"rate_per_s": 1})"));
    struct until_case {
        sim::duration until;
        std::vector<std::string> errors;
    };
    const std::vector<until_case> table = {
        {1'000'000h, {"--until 1000000h: the run is 1000000h long; the limit is 8760h"}},
        {8761h, {"--until 8761h: the run is 8761h long; the limit is 8760h"}},
        {100h,
         {"--until 100h: a run of 100h in buckets of 1s has 360000 time-series buckets; the limit is 100000 (make "
          "\"bucket\" at least 4s)"}},
        {2s, {}},
    };
    for (const until_case& c : table) {
        INFO(sim::format_duration(c.until));
        CHECK(until_problems(s, c.until, true) == c.errors);
        if (c.errors.empty()) continue;
        run_options options;
        options.until = c.until;
        const run_result r = run_scenario(s, options);
        CHECK(r.setup_errors == c.errors);
        CHECK(r.sim == nullptr);
    }
    run_options short_run;
    short_run.until = 2s;
    short_run.keep_events = false;
    const run_result r = run_scenario(s, short_run);
    CHECK(r.setup_errors.empty());
    CHECK(r.sim != nullptr);
}

TEST_CASE("meshsim validate and meshsim run exit 2 with a located error on every limit", "[scenario][limits][cli]") {
    const std::string bin = MESHSIM_BINARY;
    const fs::path dir = fs::path(MESHSIM_SOURCE_DIR) / "tests/harness/bad_scenarios";
    const fs::path out = fs::temp_directory_path() / "meshsim-limits-test";
    const fs::path err = fs::temp_directory_path() / "meshsim-limits-test.err";
    const auto run = [&](const std::string& args) {
        const int status = std::system((bin + " " + args + " > /dev/null 2> " + err.string()).c_str());
        std::ifstream in(err);
        std::stringstream text;
        text << in.rdbuf();
        return std::pair{WEXITSTATUS(status), text.str()};
    };
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("limit_") && name.ends_with(".json")) files.push_back(entry.path());
    }
    REQUIRE(files.size() >= 6);
    for (const fs::path& file : files) {
        INFO(file.filename().string());
        for (const std::string& command : std::vector<std::string>{"validate ", "run --out " + out.string() + " "}) {
            const auto [code, text] = run(command + file.string());
            CHECK(code == 2);
            CHECK(text.find(file.string() + ":") == 0);
            CHECK(text.find(": error: ") != std::string::npos);
            CHECK(text.find(" (at /") != std::string::npos);
        }
    }
    const std::string basic = std::string(MESHSIM_SOURCE_DIR) + "/scenarios/basic.json";
    const auto [code, text] = run("run " + basic + " --out " + out.string() + " --until 9000h");
    CHECK(code == 2);
    CHECK(text == "meshsim: error: --until 9000h: the run is 9000h long; the limit is 8760h\n");
    const auto [code_100h, text_100h] = run("run " + basic + " --out " + out.string() + " --until 100h");
    CHECK(code_100h == 2);
    CHECK(text_100h.find("meshsim: error: --until 100h: a run of 100h in buckets of 1s has 360000 time-series") == 0);
    // Past the maximum of any duration, --until is refused as it is parsed.
    CHECK(run("run " + basic + " --out " + out.string() + " --until 1000000h").first == 2);
    fs::remove_all(out);
    fs::remove(err);
}

TEST_CASE("a list longer than its limit is one located error, and its items are not read", "[scenario][limits]") {
    const auto services = [](int n) {
        std::string list;
        for (int i = 0; i < n; ++i) {
            list += (i == 0 ? "" : ",") + std::string(R"({"name": "s)") + std::to_string(i) +
                    R"(", "endpoints": [{"path": "/a"}], "instances": 0})";
        }
        return R"({"name": "many", "duration": "1s", "services": [)" + list +
               R"(], "workloads": [{"name": "w", "service": "s0", "endpoint": "/a", "open": {"rate_per_s": 1}}]})";
    };
    // 1000 services: each is read (and its bad "instances" reported); 1001: only the list is.
    const std::string at_limit = load_errors(services(1000));
    CHECK(std::count(at_limit.begin(), at_limit.end(), '\n') == 1000);
    CHECK(load_errors(services(1001)) ==
          "limits.json:1:48: error: services must have at most 1000 items, got 1001 (at /services)\n"
          "limits.json:1:64045: error: no service named \"s0\" (at /workloads/0/service)\n");
}

TEST_CASE("names may use any printable character, in any script", "[scenario][limits][names]") {
    // Continuation bytes 0x80 to 0x9F (in e.g. U+20AC, U+65E5) are not C1 controls.
    for (const std::string name : {"caf\xc3\xa9", "\xe2\x82\xac-billing", "\xe6\x97\xa5\xe6\x9c\xac",
                                   "\xf0\x9f\x98\x80 smile", "a b", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"}) {
        INFO(name);
        CHECK(load_errors(R"({"name": ")" + name + R"(", "duration": "1s",
            "services": [{"name": ")" +
                          name + R"(", "endpoints": [{"path": "/)" + name + R"("}]}],
            "workloads": [{"name": "w", "service": ")" +
                          name + R"(", "endpoint": "/)" + name + R"(", "open": {"rate_per_s": 1}}]})") == "loaded");
    }
    CHECK(load_errors(R"({"name": "a\u0085b", "duration": "1s",
        "services": [{"name": "s", "endpoints": [{"path": "/a"}]}],
        "workloads": [{"name": "w", "service": "s", "endpoint": "/a", "open": {"rate_per_s": 1}}]})") ==
          "limits.json:1:10: error: name contains control character U+0085; names and other strings in a scenario "
          "must be printable on one line (at /name)\n");
}
