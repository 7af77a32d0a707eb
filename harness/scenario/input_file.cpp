#include "harness/scenario/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace meshsim::harness {

namespace {

input_file_result failure(int error_number) {
    return {std::nullopt, "cannot read file: " + std::generic_category().message(error_number)};
}

input_file_result too_large(std::size_t max_bytes) {
    return {std::nullopt, "file is larger than the limit of " + std::to_string(max_bytes) + " bytes"};
}

}  // namespace

input_file_result read_input_file(const std::filesystem::path& path, std::size_t max_bytes) {
    const bool is_stdin = path == "-";
    const int fd = is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return failure(errno);
    struct closer {
        int fd;
        bool owned;
        ~closer() {
            if (owned) ::close(fd);
        }
    } close_on_exit{fd, !is_stdin};

    struct stat st {};
    if (::fstat(fd, &st) != 0) return failure(errno);
    if (S_ISDIR(st.st_mode)) return failure(EISDIR);
    std::string text;
    if (S_ISREG(st.st_mode)) {
        if (static_cast<std::uintmax_t>(st.st_size) > max_bytes) return too_large(max_bytes);
        text.reserve(static_cast<std::size_t>(st.st_size));
    }
    // Read to the end whatever it is: the size of a pipe or a FIFO is unknown.
    char chunk[65536];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failure(errno);
        if (n == 0) break;
        if (text.size() + static_cast<std::size_t>(n) > max_bytes) return too_large(max_bytes);
        text.append(chunk, static_cast<std::size_t>(n));
    }
    return {std::move(text), ""};
}

}  // namespace meshsim::harness
