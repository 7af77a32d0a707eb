// Running the built `meshsim` binary from a test: its exit code (or the signal that
// ended it), stdout and stderr; scratch directories that clean up after themselves.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness/terminal_text.hpp"

namespace meshsim::testing {

namespace fs = std::filesystem;

inline std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_text(const fs::path& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }

// A fresh directory under /tmp, removed with everything in it at the end.
class scratch_dir {
public:
    scratch_dir() {
        std::string pattern = (fs::temp_directory_path() / "meshsim-cli-test-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& name) const { return path_ / name; }

private:
    fs::path path_;
};

struct cli_result {
    int exit_code = -1;  // -1: ended by a signal
    int signal = 0;
    std::string out;
    std::string err;

    std::size_t err_lines() const {
        std::size_t n = 0;
        for (const char c : err) n += c == '\n';
        return n;
    }
};

// AddressSanitizer warns once on stderr when an exception unwinds a fiber's stack
// ("==PID==WARNING: ASan is ignoring requested __asan_handle_no_return", then two
// lines about false positives); no ASan option silences it. It is the sanitizer's
// text, not meshsim's, so tests that compare stderr exactly drop exactly that block.
inline std::string without_asan_fiber_warning(const std::string& err) {
    std::istringstream in(err);
    std::string out;
    std::string line;
    bool skip = false;
    while (std::getline(in, line)) {
        if (line.rfind("==", 0) == 0 &&
            line.find("WARNING: ASan is ignoring requested __asan_handle_no_return") != std::string::npos) {
            skip = true;
            continue;
        }
        if (skip && (line == "False positive error reports may follow" ||
                     line == "For details see https://github.com/google/sanitizers/issues/189")) {
            continue;
        }
        skip = false;
        out += line;
        if (!in.eof()) out += '\n';
    }
    return out;
}

// Runs the shell command COMMAND (sh -c) in CWD with stdout and stderr captured.
// The command should `exec` the program so a signal that ends it is seen here.
inline cli_result run_shell(const std::string& command, const fs::path& cwd) {
    const scratch_dir capture;
    const std::string full = "cd " + harness::shell_quote(cwd.string()) + " && { " + command + "\n} > " +
                             harness::shell_quote((capture / "out").string()) + " 2> " +
                             harness::shell_quote((capture / "err").string());
    const int status = std::system(full.c_str());
    cli_result r;
    if (WIFEXITED(status)) {
        r.exit_code = WEXITSTATUS(status);
        // sh reports a child killed by signal N as 128 + N
        if (r.exit_code > 128 && r.exit_code < 128 + 65) r.signal = r.exit_code - 128;
    } else if (WIFSIGNALED(status)) {
        r.exit_code = -1;
        r.signal = WTERMSIG(status);
    }
    r.out = read_text(capture / "out");
    r.err = without_asan_fiber_warning(read_text(capture / "err"));
    return r;
}

inline std::string meshsim_command(const std::vector<std::string>& args) {
    std::string cmd = harness::shell_quote(MESHSIM_BINARY);
    for (const std::string& a : args) cmd += " " + harness::shell_quote(a);
    return cmd;
}

// meshsim ARGS in CWD; stdin from /dev/null.
inline cli_result run_meshsim(const std::vector<std::string>& args, const fs::path& cwd = fs::temp_directory_path()) {
    return run_shell("exec " + meshsim_command(args) + " < /dev/null", cwd);
}

inline fs::path source_path(const std::string& relative) { return fs::path(MESHSIM_SOURCE_DIR) / relative; }

}  // namespace meshsim::testing
