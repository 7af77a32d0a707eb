// The --out directory of `meshsim run`. It is checked before the run; every output
// is written to a temporary file beside its final name and renamed into place only
// when complete, so no reader ever sees a half-written output under a final name;
// an output name that is a symlink is replaced, never followed; and the outputs of
// an earlier run are removed first, so what the directory holds is from one run.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace meshsim::harness {

// Every name a run may write into its output directory: its events, its summary, the
// files of reports/report_formats.cpp (a test checks they are all here), and a sweep's.
inline constexpr std::string_view output_names[] = {"events.jsonl", "events.bin", "summary.json", "report.html",
                                                    "trace.json",   "otlp.json",  "sweep.json",   "junit.xml"};

// A prepared output directory.
class output_dir {
public:
    // Creates DIR (and its parents) if needed, refuses anything that is not a
    // directory one can create files in, removes the outputs of an earlier run and
    // the temporary files of a killed one. nullopt with `error` set (one sentence,
    // naming DIR): a bad --out.
    static std::optional<output_dir> prepare(const std::filesystem::path& dir, std::string& error);
    // An existing directory whose outputs are kept (`meshsim report DIR` rewrites some
    // of them): it must be a directory one can create files in; the temporary files
    // of a killed process are removed. `what` names it in the error ("report").
    static std::optional<output_dir> open_existing(const std::filesystem::path& dir, std::string_view what,
                                                   std::string& error);

    const std::filesystem::path& path() const { return path_; }

private:
    explicit output_dir(std::filesystem::path path) : path_(std::move(path)) {}
    std::filesystem::path path_;
};

// One output being written: DIR/.NAME.tmp-PID-N until commit() renames it to DIR/NAME.
// Writes are buffered; the first failure is remembered and reported by commit().
// Destroyed uncommitted (an error, an exception), the temporary file is removed.
class output_file {
public:
    // Creates the temporary file; nullopt with `error` set when it cannot.
    static std::optional<output_file> create(const output_dir& dir, std::string_view name, std::string& error);
    output_file(output_file&& other) noexcept;
    output_file& operator=(output_file&&) = delete;
    output_file(const output_file&) = delete;
    ~output_file();

    void write(std::string_view data);
    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }
    // Flushes, syncs and renames onto the final name. false with error() set on any
    // failure (the temporary file is then removed and the final name stays absent).
    bool commit();

    const std::filesystem::path& final_path() const { return final_path_; }

private:
    output_file(int fd, std::filesystem::path temp, std::filesystem::path final_path, int cleanup_slot);
    void flush();
    void fail(const std::string& what, int error_number);
    void discard();

    int fd_ = -1;
    std::filesystem::path temp_path_;
    std::filesystem::path final_path_;
    int cleanup_slot_ = -1;  // where the signal handler finds temp_path_
    std::string buffer_;
    std::string error_;
    bool committed_ = false;
};

// SIGINT, SIGTERM and SIGHUP remove the temporary files being written before the
// process dies as it would have. The CLI calls this once; SIGKILL cannot be caught,
// so the next run into the same directory removes what a killed run left.
void remove_temporary_outputs_on_signals();

}  // namespace meshsim::harness
