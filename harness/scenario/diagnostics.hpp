// Problems found in an input file, each with where it is (file, line, column, JSON
// pointer) and what is wrong. Collected, not thrown, so one pass reports them all;
// printed sorted by position, one per line. An error makes the file unusable; a
// warning says the file does something a user likely did not mean, and is printed
// but does not stop it. Also the "did you mean" helper.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace meshsim::harness {

// Where something is in a text. line and column are 1-based; column counts Unicode
// characters (code points), not bytes. line == 0 means "the file as a whole".
struct source_position {
    int line = 0;
    int column = 0;
    std::size_t offset = 0;  // bytes from the start of the text
};

enum class severity_level : std::uint8_t { error, warning };

struct diagnostic {
    std::string file;
    int line = 0;         // 0: about the whole file (it cannot be read, it is too large)
    int column = 0;       // in characters, 1-based
    std::string pointer;  // RFC 6901 JSON pointer of the value (of its container between values); "" the root
    std::string message;
    severity_level severity = severity_level::error;
};

// "file:line:column: error: message (at /json/pointer)" ("warning:" for a warning),
// "(at the root)" for the pointer "" (a diagnostic with line 0 is about the file and has
// none). Control characters that came from the input are escaped, so one diagnostic is
// always one line.
std::string format_diagnostic(const diagnostic& d);

class diagnostics {
public:
    // A hostile file could produce millions of errors; past max_kept they are counted only.
    static constexpr std::size_t default_max_kept = 1000;
    explicit diagnostics(std::size_t max_kept = default_max_kept) : max_kept_(max_kept) {}

    void add(diagnostic d);
    void error(std::string file, source_position at, std::string pointer, std::string message);
    void warning(std::string file, source_position at, std::string pointer, std::string message);

    // Nothing reported at all, neither errors nor warnings.
    bool empty() const { return items_.empty() && dropped_ == 0 && warnings_ == 0; }
    // Every error reported, including those not kept (warnings are not errors).
    std::size_t count() const { return errors_ + dropped_; }
    // Every warning reported.
    std::size_t warnings() const { return warnings_; }
    // Kept diagnostics ordered by file, line, column; equal positions keep report order.
    std::vector<diagnostic> sorted() const;
    // sorted(), formatted one per line (each ending in '\n'), plus a line saying how
    // many were not kept, if any.
    std::string format() const;

private:
    std::vector<diagnostic> items_;
    std::size_t max_kept_;
    std::size_t errors_ = 0;    // kept
    std::size_t dropped_ = 0;   // errors not kept
    std::size_t warnings_ = 0;  // kept or not
};

// Restricted Damerau-Levenshtein (optimal string alignment) distance: insertions,
// deletions, substitutions and swaps of adjacent characters, over bytes.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to word, if it is close enough to be a plausible typo:
// distance <= max(2, word.size() / 3) and smaller than the candidate's length (so
// "x" never suggests "y"). Ties go to the alphabetically first candidate.
std::optional<std::string> did_you_mean(std::string_view word, std::span<const std::string_view> candidates);
std::optional<std::string> did_you_mean(std::string_view word, std::span<const std::string> candidates);
std::optional<std::string> did_you_mean(std::string_view word, std::initializer_list<std::string_view> candidates);

// text as a double-quoted string for a message: quotes, backslashes and control
// characters escaped, cut to about max_chars characters with "..." when longer.
std::string quote(std::string_view text, std::size_t max_chars = 64);

}  // namespace meshsim::harness
