#include "harness/output_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

namespace meshsim::harness {

namespace {

std::string reason(int error_number) { return std::generic_category().message(error_number); }

// The temporary files being written, where a signal handler can find them: fixed
// storage, because a handler may only call async-signal-safe functions.
constexpr int cleanup_slots = 8;
constexpr std::size_t cleanup_path_max = 4096;
char cleanup_paths[cleanup_slots][cleanup_path_max];
std::atomic<bool> cleanup_used[cleanup_slots];
static_assert(std::atomic<bool>::is_always_lock_free);

int register_for_cleanup(const std::string& path) {
    if (path.size() >= cleanup_path_max) return -1;  // still removed on every path but a signal
    for (int i = 0; i < cleanup_slots; ++i) {
        if (cleanup_used[i].load()) continue;
        std::memcpy(cleanup_paths[i], path.c_str(), path.size() + 1);
        cleanup_used[i].store(true);
        return i;
    }
    return -1;
}

void unregister_for_cleanup(int slot) {
    if (slot >= 0) cleanup_used[slot].store(false);
}

extern "C" void remove_temporaries_and_die(int signal_number) {
    for (int i = 0; i < cleanup_slots; ++i) {
        if (cleanup_used[i].load()) ::unlink(cleanup_paths[i]);
    }
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
}

std::string temp_prefix(std::string_view name) { return "." + std::string(name) + ".tmp-"; }

// ".events.jsonl.tmp-PID-N" left by a process that no longer exists.
bool is_abandoned_temporary(const std::string& file) {
    for (const std::string_view name : output_names) {
        const std::string prefix = temp_prefix(name);
        if (file.rfind(prefix, 0) != 0) continue;
        const std::string rest = file.substr(prefix.size());
        const std::size_t dash = rest.find('-');
        if (dash == 0 || dash == std::string::npos) return false;
        pid_t pid = 0;
        for (std::size_t i = 0; i < dash; ++i) {
            if (rest[i] < '0' || rest[i] > '9' || pid > 100'000'000) return false;
            pid = pid * 10 + (rest[i] - '0');
        }
        return ::kill(pid, 0) != 0 && errno == ESRCH;
    }
    return false;
}

bool can_create_files(const std::filesystem::path& dir, std::string_view what, std::string& error) {
    const std::filesystem::path probe = dir / (".meshsim-probe-" + std::to_string(::getpid()));
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = std::string(what) + " " + dir.string() + ": cannot create files in the directory: " + reason(errno);
        return false;
    }
    ::close(fd);
    ::unlink(probe.c_str());
    return true;
}

void remove_abandoned_temporaries(const std::filesystem::path& dir) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (is_abandoned_temporary(entry.path().filename().string())) ::unlink(entry.path().c_str());
    }
}

}  // namespace

std::optional<output_dir> output_dir::prepare(const std::filesystem::path& dir, std::string& error) {
    if (dir.empty()) {
        error = "--out: expected a directory, got \"\"";
        return std::nullopt;
    }
    std::error_code ec;
    const std::filesystem::file_status st = std::filesystem::status(dir, ec);
    if (std::filesystem::exists(st)) {
        if (!std::filesystem::is_directory(st)) {
            error = "--out " + dir.string() + ": exists and is not a directory";
            return std::nullopt;
        }
    } else if (!std::filesystem::create_directories(dir, ec) && ec) {
        error = "--out " + dir.string() + ": cannot create the directory: " + ec.message();
        return std::nullopt;
    }
    // Prove a file can be created here before the run, not after it.
    if (!can_create_files(dir, "--out", error)) return std::nullopt;
    // The outputs of an earlier run go first, so none can be mistaken for this run's;
    // a symlink is removed, not its target.
    for (const std::string_view name : output_names) {
        const std::filesystem::path old = dir / name;
        struct stat old_st {};
        if (::lstat(old.c_str(), &old_st) != 0) continue;
        if (S_ISDIR(old_st.st_mode)) {
            error = "--out " + dir.string() + ": " + std::string(name) + " is a directory";
            return std::nullopt;
        }
        if (::unlink(old.c_str()) != 0) {
            error = "--out " + dir.string() + ": cannot remove the earlier " + std::string(name) + ": " + reason(errno);
            return std::nullopt;
        }
    }
    remove_abandoned_temporaries(dir);
    return output_dir(dir);
}

std::optional<output_dir> output_dir::open_existing(const std::filesystem::path& dir, std::string_view what,
                                                    std::string& error) {
    std::error_code ec;
    const std::filesystem::file_status st = std::filesystem::status(dir, ec);
    if (!std::filesystem::exists(st)) {
        error = std::string(what) + " " + dir.string() + ": no such directory";
        return std::nullopt;
    }
    if (!std::filesystem::is_directory(st)) {
        error = std::string(what) + " " + dir.string() + ": not a directory";
        return std::nullopt;
    }
    if (!can_create_files(dir, what, error)) return std::nullopt;
    remove_abandoned_temporaries(dir);
    return output_dir(dir);
}

std::optional<output_file> output_file::create(const output_dir& dir, std::string_view name, std::string& error) {
    static unsigned counter = 0;
    const std::filesystem::path final_path = dir.path() / name;
    for (int attempt = 0; attempt < 100; ++attempt) {
        const std::filesystem::path temp =
            dir.path() / (temp_prefix(name) + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        // O_EXCL: a new file, never whatever (or wherever) a planted name points to.
        const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) return output_file(fd, temp, final_path, register_for_cleanup(temp.string()));
        if (errno != EEXIST) {
            error = "cannot create " + final_path.string() + ": " + reason(errno);
            return std::nullopt;
        }
    }
    error = "cannot create " + final_path.string() + ": too many temporary files named like it";
    return std::nullopt;
}

output_file::output_file(int fd, std::filesystem::path temp, std::filesystem::path final_path, int cleanup_slot)
    : fd_(fd), temp_path_(std::move(temp)), final_path_(std::move(final_path)), cleanup_slot_(cleanup_slot) {}

output_file::output_file(output_file&& other) noexcept
    : fd_(other.fd_),
      temp_path_(std::move(other.temp_path_)),
      final_path_(std::move(other.final_path_)),
      cleanup_slot_(other.cleanup_slot_),
      buffer_(std::move(other.buffer_)),
      error_(std::move(other.error_)),
      committed_(other.committed_) {
    other.fd_ = -1;
    other.cleanup_slot_ = -1;
    other.committed_ = true;  // nothing left for it to clean up
}

output_file::~output_file() {
    if (!committed_) discard();
}

void output_file::discard() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
    unregister_for_cleanup(cleanup_slot_);
    cleanup_slot_ = -1;
    committed_ = true;
}

void output_file::fail(const std::string& what, int error_number) {
    if (error_.empty()) error_ = what + " " + final_path_.string() + ": " + reason(error_number);
    buffer_.clear();
}

void output_file::write(std::string_view data) {
    if (failed()) return;
    buffer_.append(data);
    if (buffer_.size() >= (std::size_t{1} << 20)) flush();
}

void output_file::flush() {
    std::size_t done = 0;
    while (!failed() && done < buffer_.size()) {
        const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            fail("cannot write", n < 0 ? errno : EIO);
            return;
        }
        done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
}

bool output_file::commit() {
    if (committed_) return !failed();
    flush();
    if (!failed() && ::fsync(fd_) != 0 && errno != EINVAL) fail("cannot write", errno);
    if (::close(fd_) != 0 && !failed()) fail("cannot write", errno);
    fd_ = -1;
    if (!failed() && ::rename(temp_path_.c_str(), final_path_.c_str()) != 0) fail("cannot rename into", errno);
    if (failed()) {
        discard();
        return false;
    }
    unregister_for_cleanup(cleanup_slot_);
    cleanup_slot_ = -1;
    committed_ = true;
    return true;
}

void remove_temporary_outputs_on_signals() {
    for (const int s : {SIGINT, SIGTERM, SIGHUP}) {
        // A signal ignored at start stays ignored (a background job's SIGINT, nohup's SIGHUP).
        struct sigaction current {};
        if (::sigaction(s, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) continue;
        struct sigaction action {};
        action.sa_handler = remove_temporaries_and_die;
        sigemptyset(&action.sa_mask);
        ::sigaction(s, &action, nullptr);
    }
}

}  // namespace meshsim::harness
