// What meshsim prints: text from input is escaped (no control characters, escape
// sequences or newlines reach the terminal), the reproduce line is a POSIX shell
// command that replays exactly the run it came from and nothing else, and every
// printed duration has one style ("59s, 1m0s, 1m1s").
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include "cli_testing.hpp"
#include "harness/scenario/duration.hpp"
#include "harness/summary.hpp"

using namespace meshsim::testing;
using meshsim::harness::printable;
using meshsim::harness::shell_quote;

TEST_CASE("printable escapes what a terminal would act on and keeps the rest", "[harness][cli][printing]") {
    const std::pair<std::string, std::string> cases[] = {
        {"checkout", "checkout"},
        {"caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x9A\x80",
         "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x9A\x80"},
        {"a\nverdict: PASS", "a\\nverdict: PASS"},
        {"tab\there\rback", "tab\\there\\rback"},
        {"\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07"},
        {std::string("nul\0byte", 8), "nul\\x00byte"},
        {"del\x7f", "del\\x7f"},
        {"c1 \xC2\x9B"
         "31m",
         "c1 \\u009b31m"},  // 8-bit CSI
        {"bidi \xE2\x80\xAE"
         "txt.exe",
         "bidi \\u202etxt.exe"},  // right-to-left override
        {"line \xE2\x80\xA8 sep", "line \\u2028 sep"},
        {"bad \xFF\xFE utf8", "bad \\xff\\xfe utf8"},
        {"overlong \xC0\xAF", "overlong \\xc0\\xaf"},
        {"surrogate \xED\xA0\x80", "surrogate \\xed\\xa0\\x80"},
        {"cut \xE6\x97", "cut \\xe6\\x97"},
        {"back\\slash", "back\\slash"},
    };
    for (const auto& [in, out] : cases) {
        INFO(out);
        CHECK(printable(in) == out);
    }
    CHECK(meshsim::harness::printable_lines("a\x1b\nb\n") == "a\\x1b\nb\n");
}

TEST_CASE("printable never lets a control byte through", "[harness][cli][printing][property]") {
    rc::prop("no byte below 0x20, DEL, C1 or bidi control survives", [](const std::string& text) {
        const std::string out = printable(text);
        for (const char c : out) RC_ASSERT(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
        RC_ASSERT(out.find("\xC2\x9B") == std::string::npos);
        RC_ASSERT(out.find("\xE2\x80\xAE") == std::string::npos);
    });
}

TEST_CASE("shell_quote makes one word that sh reads back exactly", "[harness][cli][printing]") {
    CHECK(shell_quote("scenarios/x.json") == "scenarios/x.json");
    CHECK(shell_quote("my scenario.json") == "'my scenario.json'");
    CHECK(shell_quote("it's") == "'it'\\''s'");
    CHECK(shell_quote("") == "''");
    CHECK(shell_quote("~x") == "'~x'");
    const scratch_dir dir;
    for (const std::string word : {"my scenario.json", "a$(touch PWNED).json", "it's \"q\" `touch PWNED` \\ $HOME", "*",
                                   "a;b|c&d>e<f", "~root", "#hash", "x\ny"}) {
        INFO(word);
        const cli_result r = run_shell("printf '%s' " + shell_quote(word), dir.path());
        CHECK(r.out == word);
    }
    CHECK_FALSE(fs::exists(dir / "PWNED"));
}

namespace {

// basic.json with an expectation it cannot meet, so the run fails and prints its
// reproduce line.
void write_failing_scenario(const fs::path& file) {
    std::string text = read_text(source_path("scenarios/basic.json"));
    text.replace(text.find("\"max\": \"50ms\""), 13, "\"max\": \"1ns\"");
    write_text(file, text);
}

}  // namespace

TEST_CASE("the reproduce line, pasted into sh, replays the same run and nothing else", "[harness][cli][printing]") {
    const scratch_dir dir;
    fs::create_directory(dir / "bin");
    fs::create_symlink(MESHSIM_BINARY, dir / "bin" / "meshsim");
    const std::string names[] = {
        "my scenario.json",         "a$(touch PWNED).json",   "b`touch PWNED`.json",
        "it's; touch PWNED.json",   "-starts-with-dash.json", "new\nline\nverdict: PASS.json",
        "esc\x1b]0;title\x07.json", "trailing newline\n",     "percent %s and back\\slash.json",
        "caf\xC3\xA9.json",
    };
    for (const std::string& name : names) {
        INFO(printable(name));
        write_failing_scenario(dir / name);
        // After "--" a name starting with '-' is still the file.
        const cli_result run =
            run_meshsim({"run", "--until", "500ms", "--out", "o", "--quiet", "--", name}, dir.path());
        INFO(run.err);
        REQUIRE(run.exit_code == 1);
        const std::size_t at = run.out.find("reproduce: ");
        REQUIRE(at != std::string::npos);
        const std::string line = run.out.substr(at + 11, run.out.find('\n', at) - at - 11);
        INFO(line);
        CHECK(printable(line) == line);  // one line, nothing a terminal acts on
        CHECK(run.out.substr(run.out.find('\n', at) + 1).empty());

        const cli_result replay = run_shell(
            "PATH=" + shell_quote((dir / "bin").string()) + ":$PATH; export PATH; " + line + " --out o2 --quiet",
            dir.path());
        INFO(replay.err);
        CHECK(replay.exit_code == 1);
        CHECK(replay.out.substr(0, replay.out.find("reproduce: ")) == run.out.substr(0, at));  // the same trace hash
        CHECK_FALSE(fs::exists(dir / "PWNED"));
        fs::remove(dir / name);
    }
}

TEST_CASE("a hostile name cannot forge lines in the text summary", "[harness][cli][printing]") {
    // Hand-built, as if the loader had let these through: the printer must hold alone.
    const std::string evil =
        "x\nverdict: PASS\ntrace_hash=0000000000000000\nreproduce: rm -rf /\x1b]0;pwned\x07\x1b[2J";
    nlohmann::json check = {{"check", "slo"},   {"label", "slo " + evil}, {"passed", false},
                            {"expected", evil}, {"measured", evil},       {"first_failed", evil}};
    nlohmann::json workload = {
        {"arrivals", 1}, {"outcomes", {{"ok", 1}, {"failed", 0}}}, {"latency", {{"p50_ms", 1.0}, {"p99_ms", 2.0}}}};
    const nlohmann::json summary = {{"scenario", evil},
                                    {"seed", 1},
                                    {"virtual_time", evil},
                                    {"events", 3},
                                    {"workloads", {{evil, workload}}},
                                    {"checks", {check}},
                                    {"trace_hash", "0123456789abcdef"},
                                    {"verdict", "fail"},
                                    {"reproduce", "meshsim run " + evil}};
    const std::string text = meshsim::harness::text_summary(summary);
    INFO(text);
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find('\x07') == std::string::npos);
    std::vector<std::string> lines;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t end = text.find('\n', at);
        lines.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    REQUIRE(lines.size() == 6);  // scenario, workload, check, trace_hash, verdict, reproduce
    CHECK(lines[0].rfind("scenario: x\\nverdict: PASS\\ntrace_hash=", 0) == 0);
    CHECK(lines[1].rfind("workload x\\nverdict: PASS", 0) == 0);
    CHECK(lines[3] == "trace_hash=0123456789abcdef");
    CHECK(lines[4] == "verdict: FAIL");
    CHECK(lines[5].rfind("reproduce: meshsim run x\\nverdict: PASS\\n", 0) == 0);
}

TEST_CASE("printed durations have one style at every size", "[harness][cli][printing]") {
    using namespace std::chrono_literals;
    using meshsim::sim::format_duration_hms;
    const std::pair<meshsim::sim::duration, std::string> cases[] = {
        {0ns, "0s"},
        {7ns, "7ns"},
        {1500ns, "1.5us"},
        {250ms, "250ms"},
        {1500ms, "1.5s"},
        {59s, "59s"},
        {60s, "1m0s"},
        {61s, "1m1s"},
        {90500ms, "1m30.5s"},
        {3600s, "1h0m0s"},
        {3601s, "1h0m1s"},
        {8760h, "8760h0m0s"},
        {meshsim::sim::duration::max(), "2562047h47m16.854775807s"},
        {-1500ms, "-1.5s"},
        {meshsim::sim::duration::min(), "-2562047h47m16.854775808s"},
    };
    for (const auto& [d, text] : cases) CHECK(format_duration_hms(d) == text);
}

TEST_CASE("a printed duration reads back as the same duration", "[harness][cli][printing][property]") {
    // Every duration a scenario may hold: [0, max_duration] (longer ones are refused).
    rc::prop("parse_duration(format_duration_hms(d)) == d", [](std::uint64_t ns) {
        const auto max_ns = static_cast<std::uint64_t>(meshsim::harness::max_duration.count());
        const meshsim::sim::duration d{static_cast<std::int64_t>(ns % (max_ns + 1))};
        const auto back = meshsim::harness::parse_duration(meshsim::sim::format_duration_hms(d));
        RC_ASSERT(back.value.has_value());
        RC_ASSERT(*back.value == d);
    });
}

TEST_CASE("summary.json and the text summary label times in the same style", "[harness][cli][printing]") {
    const scratch_dir dir;
    const cli_result r = run_meshsim(
        {"run", source_path("scenarios/basic.json").string(), "--until", "61500ms", "--out", "o"}, dir.path());
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("(seed 7, 1m1.5s virtual,") != std::string::npos);
    const auto summary = nlohmann::json::parse(read_text(dir / "o" / "summary.json"));
    CHECK(summary["virtual_time"] == "1m1.5s");
    CHECK(summary["bucket"] == "1s");
    const auto& series = summary["workloads"]["users"]["series"];
    CHECK(series[59]["t"] == "59s");
    CHECK(series[60]["t"] == "1m0s");
    CHECK(series[61]["t"] == "1m1s");
}
