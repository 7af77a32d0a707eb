// The output directory of `meshsim run`: a bad --out is exit 2 before the run; any
// write that fails is exit 3 and leaves no partial file under a final name; files
// are renamed into place whole; an earlier run's files never mix with this run's;
// a symlink under an output name is replaced, never followed; an interrupted run
// leaves nothing half-written; and running out of memory is exit 3, not a signal.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_testing.hpp"

using namespace meshsim::testing;

namespace {

std::set<std::string> entries(const fs::path& dir) {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) names.insert(e.path().filename().string());
    return names;
}

// basic.json made to run long: 2,000 requests/s for 10 minutes of virtual time.
fs::path write_long_scenario(const scratch_dir& dir) {
    std::string text = read_text(source_path("scenarios/basic.json"));
    text.replace(text.find("\"5s\""), 4, "\"600s\"");
    text.replace(text.find("500}"), 3, "2000");
    write_text(dir / "long.json", text);
    return dir / "long.json";
}

// Every line of events.jsonl is a whole JSON object; summary.json is whole JSON.
// all_events: the run wrote --events all, so every recorded event has its line.
void check_outputs_whole(const fs::path& out, bool with_events, bool all_events = false) {
    const auto summary = nlohmann::json::parse(read_text(out / "summary.json"));
    CHECK(summary["schema"] == "meshsim.summary/2");
    if (!with_events) return;
    const std::string events = read_text(out / "events.jsonl");
    REQUIRE(!events.empty());
    CHECK(events.back() == '\n');
    std::size_t lines = 0;
    for (std::size_t at = 0; at < events.size(); ++lines) {
        const std::size_t end = events.find('\n', at);
        CHECK(nlohmann::json::parse(events.substr(at, end - at)).contains("t_ns"));
        at = end + 1;
    }
    // The events recorded until the end (the hash's), then the fibers' unwinding.
    if (all_events) CHECK(lines >= summary["events"].get<std::size_t>());
}

// Whether this process may make a private mount namespace with its own tmpfs.
bool can_mount_tmpfs(std::string& why_not) {
    const int status = std::system(
        "unshare -m sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" && umount \"$d\"; "
        "s=$?; rmdir \"$d\"; exit $s' > /dev/null 2>&1");
    if (status == 0) return true;
    why_not = "unshare -m with a tmpfs mount is not permitted here (needs root or CAP_SYS_ADMIN)";
    return false;
}

pid_t spawn_meshsim(const std::vector<std::string>& args, const fs::path& cwd) {
    std::vector<std::string> argv_text = {MESHSIM_BINARY};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    // Whatever this process ignores, the child starts with the default actions.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, s);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
    const fs::path before = fs::current_path();
    fs::current_path(cwd);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, MESHSIM_BINARY, &actions, &attributes, argv.data(), environ);
    fs::current_path(before);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return rc == 0 ? pid : -1;
}

// Waits until DIR holds a temporary events file (NAME) with data in it: the run is writing.
bool wait_for_partial_events(const fs::path& dir, const std::string& events_name = "events.jsonl") {
    for (int i = 0; i < 1200; ++i) {
        for (const std::string& name : entries(dir)) {
            std::error_code ec;
            if (name.rfind("." + events_name + ".tmp-", 0) == 0 && fs::file_size(dir / name, ec) > 0) return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace

TEST_CASE("a run writes its outputs whole, and only its own", "[harness][cli][outputs]") {
    const scratch_dir dir;
    const std::string basic = source_path("scenarios/basic.json").string();
    const cli_result first = run_meshsim({"run", basic, "--until", "1s", "--out", "o", "--events", "all"}, dir.path());
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    CHECK(entries(dir / "o") ==
          std::set<std::string>{"events.jsonl", "summary.json", "report.html", "trace.json", "otlp.json"});
    check_outputs_whole(dir / "o", true, true);

    // --events none: the earlier events.jsonl must not sit beside this run's summary.
    const cli_result second =
        run_meshsim({"run", basic, "--until", "1s", "--out", "o", "--events", "none"}, dir.path());
    REQUIRE(second.exit_code == 0);
    CHECK(entries(dir / "o") == std::set<std::string>{"summary.json", "report.html", "trace.json", "otlp.json"});
    check_outputs_whole(dir / "o", false);

    // --report none: nor the earlier reports.
    const cli_result third =
        run_meshsim({"run", basic, "--until", "1s", "--out", "o", "--events", "none", "--report", "none"}, dir.path());
    REQUIRE(third.exit_code == 0);
    CHECK(entries(dir / "o") == std::set<std::string>{"summary.json"});
}

TEST_CASE("a symlink under an output name is replaced, its target untouched", "[harness][cli][outputs]") {
    const scratch_dir dir;
    fs::create_directory(dir / "o");
    write_text(dir / "victim", "precious\n");
    write_text(dir / "victim2", "precious too\n");
    fs::create_symlink(dir / "victim", dir / "o" / "summary.json");
    fs::create_symlink(dir / "victim2", dir / "o" / "events.jsonl");
    fs::create_symlink(dir / "missing-target", dir / "o" / "dangling");  // not ours: left alone
    const cli_result r =
        run_meshsim({"run", source_path("scenarios/basic.json").string(), "--until", "1s", "--out", "o"}, dir.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(read_text(dir / "victim") == "precious\n");
    CHECK(read_text(dir / "victim2") == "precious too\n");
    CHECK(fs::is_regular_file(fs::symlink_status(dir / "o" / "summary.json")));
    CHECK(fs::is_regular_file(fs::symlink_status(dir / "o" / "events.jsonl")));
    CHECK(fs::is_symlink(fs::symlink_status(dir / "o" / "dangling")));
    check_outputs_whole(dir / "o", true);
}

TEST_CASE("temporary files of a killed run are removed, a live run's are not", "[harness][cli][outputs]") {
    const scratch_dir dir;
    fs::create_directory(dir / "o");
    // No process has a number this large (the kernel's limit is 2^22).
    write_text(dir / "o" / ".events.jsonl.tmp-99999999-0", "half a line");
    write_text(dir / "o" / ".trace.json.tmp-99999999-0", "half a trace");
    const std::string live = ".summary.json.tmp-" + std::to_string(::getpid()) + "-0";
    write_text(dir / "o" / live, "");
    const cli_result r = run_meshsim({"run", source_path("scenarios/basic.json").string(), "--until", "1s", "--out",
                                      "o", "--events", "none", "--report", "none"},
                                     dir.path());
    REQUIRE(r.exit_code == 0);
    CHECK(entries(dir / "o") == std::set<std::string>{live, "summary.json"});
}

TEST_CASE("a bad --out is exit 2 before the run starts", "[harness][cli][outputs]") {
    const scratch_dir dir;
    const fs::path scenario = write_long_scenario(dir);  // minutes of wall time if it ran
    write_text(dir / "a-file", "not a directory\n");
    fs::create_directories(dir / "taken" / "summary.json");
    struct out_case {
        std::string out;
        std::string message;
    };
    const out_case cases[] = {
        {"/proc/1", "--out /proc/1: cannot create files in the directory: "},
        {"/proc/self/fd/0", "--out /proc/self/fd/0: exists and is not a directory"},
        {"/dev/full", "--out /dev/full: exists and is not a directory"},
        {"a-file", "--out a-file: exists and is not a directory"},
        {"a-file/sub", "--out a-file/sub: cannot create the directory: Not a directory"},
        {"taken", "--out taken: summary.json is a directory"},
    };
    for (const out_case& c : cases) {
        INFO("--out " << c.out);
        const auto start = std::chrono::steady_clock::now();
        const cli_result r = run_meshsim({"run", scenario.string(), "--out", c.out}, dir.path());
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.rfind("meshsim: error: " + c.message, 0) == 0);
        CHECK(r.err_lines() == 1);
        CHECK(r.out.empty());
        CHECK(seconds < 15.0);  // the run takes far longer: it never started
    }
    CHECK(fs::is_directory(dir / "taken" / "summary.json"));  // refused, not removed
}

TEST_CASE("a read-only output directory is exit 2 before the run", "[harness][cli][outputs]") {
    std::string why_not;
    if (!can_mount_tmpfs(why_not)) {
        WARN("skipped: " << why_not);
        return;
    }
    const scratch_dir dir;
    fs::create_directory(dir / "ro");
    // Root ignores permission bits, so the directory is a read-only mount instead.
    const std::string script = "mount -t tmpfs -o ro,size=64k tmpfs ro && exec " +
                               meshsim_command({"run", source_path("scenarios/basic.json").string(), "--out", "ro"});
    const cli_result r = run_shell("exec unshare -m sh -c " + meshsim::harness::shell_quote(script), dir.path());
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "meshsim: error: --out ro: cannot create files in the directory: Read-only file system\n");
    CHECK(r.out.empty());
}

TEST_CASE("a full filesystem is exit 3 and leaves no partial output", "[harness][cli][outputs]") {
    std::string why_not;
    if (!can_mount_tmpfs(why_not)) {
        WARN("skipped: " << why_not);
        return;
    }
    const scratch_dir dir;
    fs::create_directory(dir / "small");
    struct full_case {
        std::string size;    // of the tmpfs
        std::string events;  // all | none
        std::string failed;  // the output that does not fit
    };
    // 64 KiB: events.jsonl (about 3 MB) does not fit, nor events.bin (about 500 KB); 4 KiB:
    // not even summary.json (about 19 KB).
    const full_case cases[] = {
        {"64k", "all", "events.jsonl"}, {"64k", "all", "events.bin"}, {"4k", "none", "summary.json"}};
    for (const full_case& c : cases) {
        INFO(c.size << " --events " << c.events << " " << c.failed);
        const std::string format = c.failed == "events.bin" ? "binary" : "jsonl";
        const std::string script =
            "mount -t tmpfs -o size=" + c.size + " tmpfs small && " +
            meshsim_command({"run", "--out", "small", "--events", c.events, "--events-format", format}) +
            "; echo \"exit $?\" >&2; ls -A small >&2";
        const cli_result r = run_shell("exec unshare -m sh -c " + meshsim::harness::shell_quote(script), dir.path());
        INFO(r.err);
        CHECK(r.err == "meshsim: error: cannot write small/" + c.failed + ": No space left on device\nexit 3\n");
        CHECK(r.out.empty());  // no "report:", no verdict
    }
}

TEST_CASE("stdout that cannot be written is exit 3", "[harness][cli][outputs]") {
    const scratch_dir dir;
    const cli_result r =
        run_shell("{ exec " + meshsim_command({"run", source_path("scenarios/basic.json").string(), "--until", "1s"}) +
                      " > /dev/full; }",
                  dir.path());
    CHECK(r.exit_code == 3);
    CHECK(r.err == "meshsim: error: cannot write to standard output\n");
}

TEST_CASE("an interrupted run leaves no half-written file under a final name", "[harness][cli][outputs]") {
    const scratch_dir dir;
    const fs::path scenario = write_long_scenario(dir);
    const fs::path out = dir / "o";
    const auto complete_run = [&] {
        const cli_result r =
            run_meshsim({"run", scenario.string(), "--until", "1s", "--out", out.string()}, dir.path());
        REQUIRE(r.exit_code == 0);
        REQUIRE(entries(out) ==
                std::set<std::string>{"events.jsonl", "summary.json", "report.html", "trace.json", "otlp.json"});
    };
    for (const auto& [signal_number, format] :
         {std::pair{SIGINT, "jsonl"}, std::pair{SIGTERM, "jsonl"}, std::pair{SIGKILL, "jsonl"},
          std::pair{SIGTERM, "binary"}, std::pair{SIGKILL, "binary"}}) {
        INFO("signal " << signal_number << " --events-format " << format);
        complete_run();  // an earlier run's outputs, which must not mix with the interrupted one's
        const pid_t pid =
            spawn_meshsim({"run", scenario.string(), "--out", out.string(), "--events-format", format}, dir.path());
        REQUIRE(pid > 0);
        const bool writing =
            wait_for_partial_events(out, format == std::string("binary") ? "events.bin" : "events.jsonl");
        ::kill(pid, signal_number);
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE(writing);
        CHECK(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == signal_number);
        const std::set<std::string> left = entries(out);
        CHECK(left.count("events.jsonl") == 0);
        CHECK(left.count("events.bin") == 0);
        CHECK(left.count("summary.json") == 0);
        CHECK(left.count("trace.json") == 0);  // nor an earlier run's reports
        if (signal_number != SIGKILL) {
            CHECK(left.empty());  // the handler removed its temporary files
        } else {
            CHECK(!left.empty());  // SIGKILL cannot be caught: the next run cleans up
        }
    }
    complete_run();  // and the files SIGKILL left are gone
}

TEST_CASE("running out of memory is exit 3 with a message, never a signal", "[harness][cli][memory]") {
#if defined(__SANITIZE_ADDRESS__)
    WARN("skipped: AddressSanitizer reserves terabytes of address space, so it cannot run under RLIMIT_AS");
    return;
#endif
    const scratch_dir dir;
    // A million closed-loop users (the documented maximum) need a fiber each.
    std::string text = read_text(source_path("scenarios/closed_loop.json"));
    text.replace(text.find("\"users\": 20"), 11, "\"users\": 1000000");
    write_text(dir / "users.json", text);
    for (const std::string events : {"all", "none"}) {
        for (const std::string limit : {"1073741824", "2147483648"}) {
            INFO("RLIMIT_AS " << limit << " --events " << events);
            const cli_result r = run_shell(
                "exec prlimit --as=" + limit + " " + meshsim_command({"run", "users.json", "--events", events}),
                dir.path());
            INFO(r.err);
            CHECK(r.signal == 0);
            CHECK((r.exit_code == 2 || r.exit_code == 3));  // 2: refused at load time, as too large
            CHECK(!r.err.empty());
            if (r.exit_code == 3) CHECK(r.err == "meshsim: error: out of memory\n");
            CHECK(entries(dir / "meshsim-out").empty());
        }
    }
}
