// The meshsim command line against bad input: every case exits 2 with a message
// that says what is wrong, in one line where the input is one value; and the
// inputs that look odd but are fine (a FIFO, a pipe, "-") are read.
#include <sys/stat.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "cli_testing.hpp"

using namespace meshsim::testing;

namespace {

struct bad_case {
    std::vector<std::string> args;
    std::string message;    // stderr must contain it
    std::size_t max_lines;  // stderr lines at most
};

}  // namespace

TEST_CASE("bad command-line values are exit 2 with a one-line error", "[harness][cli][bad_input]") {
    const scratch_dir dir;
    const std::string basic = source_path("scenarios/basic.json").string();
    const std::string out = (dir / "out").string();
    const std::string max = "18446744073709551615";
    const bad_case cases[] = {
        {{"run", basic, "--seed", "-1"}, "--seed: expected a whole number from 0 to " + max + ", got \"-1\"", 1},
        {{"run", basic, "--seed", "18446744073709551616"}, "got \"18446744073709551616\"", 1},
        {{"run", basic, "--seed", std::string(5000, '7')}, "(5000 bytes)", 1},
        {{"run", basic, "--seed", ""}, "--seed: expected a whole number", 1},
        {{"run", basic, "--seed", "+7"}, "got \"+7\"", 1},
        {{"run", basic, "--seed", " 7"}, "got \" 7\"", 1},
        {{"run", basic, "--seed", "0x10"}, "got \"0x10\"", 1},
        {{"run", basic, "--seed", "7s"}, "got \"7s\"", 1},
        {{"run", basic, "--until", ""}, "--until: expected a duration like \"250ms\", got \"\"", 1},
        {{"run", basic, "--until", "0s"}, "--until: must be longer than 0s", 1},
        {{"run", basic, "--until", "-5s"}, "--until: durations cannot be negative", 1},
        {{"run", basic, "--out", ""}, "--out: expected a directory, got \"\"", 1},
        {{"run", basic, "--events", "verbose"},
         "--events: expected one of none, summary, requests, all, got \"verbose\"",
         1},
        {{"run", basic, "--events", ""}, "--events: expected one of none, summary, requests, all, got \"\"", 1},
        {{"run", basic, "--events", "ALL"}, "got \"ALL\"", 1},
        {{"run", basic, "--events", "all "}, "got \"all \"", 1},
        {{"run", basic, "--events", "1"}, "got \"1\"", 1},
        {{"run", basic, "--events", std::string(5000, 'a')}, "--events: expected one of", 1},
        {{"run", basic, "--events", "all\n\x1b[2Jverdict: PASS"}, "got \"all\\n\\x1b[2Jverdict: PASS\"", 1},
        // Contradictory: a format for a file that is not written.
        {{"run", basic, "--events", "none", "--events-format", "binary"},
         "--events-format binary with --events none: no events file is written; drop one of the two",
         1},
        {{"run", basic, "--events-format", "binary", "--events", "none"},
         "--events-format binary with --events none",
         1},
        {{"run", ""}, "run: expected a scenario file, got \"\"", 1},
        {{"validate", ""}, "validate: expected a scenario file, got \"\"", 1},
        {{"frobnicate"}, "unknown command frobnicate; the commands are run, validate, list, bench", 1},
        {{"frobnicate\n\x1b[2Jverdict: PASS"}, "unknown command frobnicate\\n\\x1b[2Jverdict: PASS;", 1},
        // CLI11's own errors: the error, then the usage line of the right command.
        {{"run", "--bogus"}, "Usage: meshsim run [OPTIONS] [file]", 3},
        {{"validate"}, "Usage: meshsim validate [OPTIONS] file", 3},
        {{}, "Usage: meshsim [OPTIONS] SUBCOMMAND", 3},
    };
    for (const bad_case& c : cases) {
        std::string shown;
        for (const auto& a : c.args) shown += meshsim::harness::printable(a.substr(0, 60)) + " ";
        INFO("meshsim " << shown);
        std::vector<std::string> args = c.args;
        if (!args.empty() && args[0] == "run") args.insert(args.end(), {"--out", out});
        if (c.args.size() >= 4 && c.args[2] == "--out") args.resize(4);  // only the --out under test
        const cli_result r = run_meshsim(args, dir.path());
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.signal == 0);
        CHECK(r.err.find(c.message) != std::string::npos);
        CHECK(r.err.rfind("meshsim: error: ", 0) == 0);
        CHECK(r.err_lines() <= c.max_lines);
        CHECK(r.err.find('\x1b') == std::string::npos);
        CHECK(r.out.empty());
        CHECK_FALSE(fs::exists(dir / "out" / "summary.json"));  // nothing ran
    }
}

TEST_CASE("the values next to the bad ones are accepted", "[harness][cli][bad_input]") {
    // Without these, every bad case above could pass by refusing everything.
    const scratch_dir dir;
    const std::string basic = source_path("scenarios/basic.json").string();
    for (const std::string seed : {"0", "18446744073709551615", "007"}) {
        INFO("--seed " << seed);
        const cli_result r =
            run_meshsim({"run", basic, "--seed", seed, "--until", "200ms", "--out", "o", "--quiet"}, dir.path());
        INFO(r.err);
        CHECK((r.exit_code == 0 || r.exit_code == 1));
        CHECK(r.out.find("verdict: ") != std::string::npos);
        const std::string summary = read_text(dir / "o" / "summary.json");
        CHECK(summary.find("\"seed\": " + std::string(seed == "007" ? "7" : seed)) != std::string::npos);
    }
    // The default format named with no events file: harmless, accepted, no file.
    const cli_result none = run_meshsim(
        {"run", basic, "--until", "200ms", "--out", "n", "--quiet", "--events", "none", "--events-format", "jsonl"},
        dir.path());
    INFO(none.err);
    CHECK((none.exit_code == 0 || none.exit_code == 1));
    CHECK(std::filesystem::exists(dir / "n" / "summary.json"));
    CHECK_FALSE(std::filesystem::exists(dir / "n" / "events.jsonl"));
    CHECK_FALSE(std::filesystem::exists(dir / "n" / "events.bin"));
    const cli_result r = run_meshsim({"validate", basic});
    CHECK(r.exit_code == 0);
}

TEST_CASE("an unreadable scenario file says why", "[harness][cli][bad_input]") {
    const scratch_dir dir;
    write_text(dir / "plain.json", "{}");
    fs::create_directory(dir / "folder.json");
    struct file_case {
        std::string path;
        std::string reason;
    };
    const file_case cases[] = {
        {(dir / "missing.json").string(), "cannot read file: No such file or directory"},
        {(dir / "folder.json").string(), "cannot read file: Is a directory"},
        {(dir / "plain.json" / "x.json").string(), "cannot read file: Not a directory"},
    };
    for (const file_case& c : cases) {
        INFO(c.path);
        const cli_result v = run_meshsim({"validate", c.path}, dir.path());
        CHECK(v.exit_code == 2);
        CHECK(v.err == c.path + ": error: " + c.reason + "\n");
        const cli_result r = run_meshsim({"run", c.path, "--out", (dir / "out").string()}, dir.path());
        CHECK(r.exit_code == 2);
        CHECK(r.err == c.path + ": error: " + c.reason + "\n");
    }
}

TEST_CASE("a scenario file without read permission says so", "[harness][cli][bad_input]") {
    const scratch_dir dir;
    fs::permissions(dir.path(), fs::perms::all);  // an unprivileged user may enter
    const fs::path file = dir / "secret.json";
    fs::copy_file(source_path("scenarios/basic.json"), file);
    fs::permissions(file, fs::perms::none);
    std::string command = "exec " + meshsim_command({"validate", file.string()});
    if (::geteuid() == 0) {
        // Root reads any file: drop to an unprivileged user for this one command.
        if (std::system("command -v setpriv > /dev/null 2>&1") != 0) {
            WARN("skipped: running as root without setpriv(1), so no process here lacks read permission");
            return;
        }
        command =
            "exec setpriv --reuid=65534 --regid=65534 --clear-groups " + meshsim_command({"validate", file.string()});
    }
    const cli_result r = run_shell(command, "/");
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err == file.string() + ": error: cannot read file: Permission denied\n");
}

TEST_CASE("a FIFO, /dev/stdin on a pipe and - are read as the scenario", "[harness][cli][bad_input]") {
    const scratch_dir dir;
    const std::string basic = meshsim::harness::shell_quote(source_path("scenarios/basic.json").string());
    REQUIRE(::mkfifo((dir / "fifo.json").c_str(), 0600) == 0);
    struct read_case {
        std::string command;
        std::string out;  // stdout starts with it
    };
    const std::string meshsim = meshsim_command({});
    const read_case cases[] = {
        {"cat " + basic + " > fifo.json & exec " + meshsim + " validate fifo.json", "fifo.json: ok ("},
        {"cat " + basic + " | exec " + meshsim + " validate /dev/stdin", "/dev/stdin: ok ("},
        {"exec " + meshsim + " validate - < " + basic, "-: ok ("},
        {"cat " + basic + " | exec " + meshsim + " validate -", "-: ok ("},
        {"cat " + basic + " > fifo.json & exec " + meshsim + " run fifo.json --until 200ms --out o --quiet",
         "trace_hash="},
        {"cat " + basic + " | exec " + meshsim + " run - --until 200ms --out o --quiet", "trace_hash="},
    };
    for (const read_case& c : cases) {
        INFO(c.command);
        const cli_result r = run_shell(c.command, dir.path());
        INFO(r.err);
        CHECK((r.exit_code == 0 || r.exit_code == 1));
        CHECK(r.out.rfind(c.out, 0) == 0);
    }
    // The same scenario through a pipe and from its file: the same run.
    const cli_result piped =
        run_shell("exec " + meshsim + " run - --until 200ms --out p --quiet < " + basic, dir.path());
    const cli_result direct =
        run_shell("exec " + meshsim + " run " + basic + " --until 200ms --out d --quiet", dir.path());
    CHECK(piped.out == direct.out);
    CHECK(read_text(dir / "p" / "summary.json").find("\"scenario_file\": \"-\"") != std::string::npos);
}

TEST_CASE("a bad scenario on standard input is located in <stdin>, a stream over the limit is refused",
          "[harness][cli][bad_input]") {
    const scratch_dir dir;
    const std::string meshsim = meshsim_command({});
    const cli_result bad = run_shell("printf '{\\n  \"name\": 7\\n}' | exec " + meshsim + " validate -", dir.path());
    INFO(bad.err);
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("\n<stdin>:2:11: error: expected a string, got a number (at /name)\n") != std::string::npos);
    // 65 MiB of spaces through a pipe: the limit holds without a size to look at.
    const cli_result big =
        run_shell("head -c 68157440 /dev/zero | tr '\\0' ' ' | exec " + meshsim + " validate -", dir.path());
    CHECK(big.exit_code == 2);
    CHECK(big.err == "<stdin>: error: file is larger than the limit of 67108864 bytes\n");
}

TEST_CASE("usage and help name the command as it is typed", "[harness][cli][bad_input]") {
    for (const std::string command : {"run", "validate", "list", "bench"}) {
        const cli_result r = run_meshsim({command, "--help"});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("Usage: meshsim " + command + " ") != std::string::npos);
    }
    const cli_result top = run_meshsim({"--help"});
    CHECK(top.out.find("Usage: meshsim [OPTIONS] SUBCOMMAND") != std::string::npos);
}

TEST_CASE("run with --until is judged as the run that will happen: what falls after it is bad input, located",
          "[harness][cli][bad_input]") {
    const scratch_dir dir;
    const std::string out = (dir / "out").string();
    // Rollout steps at 10s, 20s and 30s: with --until 5s none would happen and the run would
    // pass without ever switching the flag.
    const std::string flags = source_path("scenarios/feature_flag.json").string();
    const cli_result r = run_meshsim({"run", flags, "--until", "5s", "--out", out, "--quiet"}, dir.path());
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("feature_flag.json:20:25: error: rollout step at 10s is not before the end of the run (5s)") !=
          std::string::npos);
    CHECK(r.err.find("(judged as run with --until 5s, not the file's duration)") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "out" / "summary.json"));
    // The same --until on a file with nothing after it runs.
    const std::string basic = source_path("scenarios/basic.json").string();
    CHECK(run_meshsim({"run", basic, "--until", "5s", "--out", out, "--quiet"}, dir.path()).exit_code == 0);
}
