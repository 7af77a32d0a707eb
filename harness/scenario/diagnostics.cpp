#include "harness/scenario/diagnostics.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>

namespace meshsim::harness {

namespace {

// Control characters (from keys, strings or file names in the input) would break the
// one-diagnostic-per-line format; write them as \u00XX.
std::string escape_controls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\u%04x", byte);
            out += buffer;
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string format_diagnostic(const diagnostic& d) {
    std::string out = escape_controls(d.file);
    if (d.line > 0) {
        out += ':' + std::to_string(d.line) + ':' + std::to_string(d.column);
    }
    out += d.severity == severity_level::warning ? ": warning: " : ": error: ";
    out += escape_controls(d.message);
    if (!d.pointer.empty()) {
        out += " (at " + escape_controls(d.pointer) + ')';
    } else if (d.line > 0) {
        out += " (at the root)";  // the JSON pointer "", which would print as nothing
    }
    return out;
}

void diagnostics::add(diagnostic d) {
    const bool is_warning = d.severity == severity_level::warning;
    if (is_warning) ++warnings_;
    if (items_.size() >= max_kept_) {
        if (!is_warning) ++dropped_;  // a dropped warning is only counted in warnings_
        return;
    }
    if (!is_warning) ++errors_;
    items_.push_back(std::move(d));
}

void diagnostics::error(std::string file, source_position at, std::string pointer, std::string message) {
    add(diagnostic{std::move(file), at.line, at.column, std::move(pointer), std::move(message)});
}

void diagnostics::warning(std::string file, source_position at, std::string pointer, std::string message) {
    add(diagnostic{std::move(file), at.line, at.column, std::move(pointer), std::move(message),
                   severity_level::warning});
}

std::vector<diagnostic> diagnostics::sorted() const {
    std::vector<diagnostic> out = items_;
    std::stable_sort(out.begin(), out.end(), [](const diagnostic& a, const diagnostic& b) {
        return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
    });
    return out;
}

std::string diagnostics::format() const {
    std::string out;
    for (const diagnostic& d : sorted()) {
        out += format_diagnostic(d);
        out += '\n';
    }
    if (dropped_ > 0) {
        out += std::to_string(dropped_) + " more error(s) not shown\n";
    }
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Three rolling rows: the swap rule looks two rows back.
    const std::size_t n = b.size();
    std::vector<std::size_t> two_back(n + 1), previous(n + 1), current(n + 1);
    for (std::size_t j = 0; j <= n; ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= n; ++j) {
            const std::size_t substitution = a[i - 1] == b[j - 1] ? 0 : 1;
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + substitution});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                current[j] = std::min(current[j], two_back[j - 2] + 1);
            }
        }
        std::swap(two_back, previous);
        std::swap(previous, current);
    }
    return previous[n];
}

std::optional<std::string> did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
    const std::size_t max_distance = std::max<std::size_t>(2, word.size() / 3);
    std::optional<std::string_view> best;
    std::size_t best_distance = 0;
    for (const std::string_view candidate : candidates) {
        // The distance is at least the difference in length: skip long words cheaply.
        const std::size_t length_gap =
            word.size() > candidate.size() ? word.size() - candidate.size() : candidate.size() - word.size();
        if (length_gap > max_distance) continue;
        const std::size_t distance = edit_distance(word, candidate);
        if (distance > max_distance || distance >= candidate.size()) continue;
        if (!best || distance < best_distance || (distance == best_distance && candidate < *best)) {
            best = candidate;
            best_distance = distance;
        }
    }
    if (!best) return std::nullopt;
    return std::string(*best);
}

std::optional<std::string> did_you_mean(std::string_view word, std::span<const std::string> candidates) {
    const std::vector<std::string_view> views(candidates.begin(), candidates.end());
    return did_you_mean(word, std::span<const std::string_view>(views));
}

std::optional<std::string> did_you_mean(std::string_view word, std::initializer_list<std::string_view> candidates) {
    return did_you_mean(word, std::span<const std::string_view>(candidates.begin(), candidates.size()));
}

std::string quote(std::string_view text, std::size_t max_chars) {
    std::string out = "\"";
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const auto byte = static_cast<unsigned char>(c);
        // Count characters, not bytes, and never cut a UTF-8 sequence in half.
        const bool starts_character = (byte & 0xC0) != 0x80;
        if (starts_character && chars == max_chars) {
            out += "...";
            break;
        }
        if (starts_character) ++chars;
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (byte < 0x20 || byte == 0x7f) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\u%04x", byte);
            out += buffer;
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

}  // namespace meshsim::harness
