// Reading a scenario file's bytes: a regular file, a FIFO, a terminal or pipe
// behind /dev/stdin, or standard input itself for "-", all read to the end, with a
// size limit that holds for streams too, and an error that says why a file cannot
// be read (no such file, permission, a directory).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace meshsim::harness {

struct input_file_result {
    std::optional<std::string> text;  // the whole file, set exactly when error is empty
    std::string error;                // e.g. "cannot read file: Permission denied"
};

// "-" is standard input. More than max_bytes is an error, not a truncation.
input_file_result read_input_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace meshsim::harness
