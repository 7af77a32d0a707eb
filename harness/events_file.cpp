#include "harness/events_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "harness/cli.hpp"
#include "harness/report_files.hpp"
#include "reports/events_binary.hpp"
#include "reports/events_jsonl.hpp"
#include "sim/trace.hpp"

namespace meshsim::harness {

namespace fs = std::filesystem;

std::optional<events_format> parse_events_format(std::string_view text) {
    if (text == "jsonl") return events_format::jsonl;
    if (text == "binary") return events_format::binary;
    return std::nullopt;
}

std::string_view to_string(events_format format) { return format == events_format::binary ? "binary" : "jsonl"; }

std::string_view events_file_name(events_format format) {
    return format == events_format::binary ? "events.bin" : "events.jsonl";
}

std::optional<events_written> read_events_written(const nlohmann::json& summary, std::string& error) {
    const auto record = summary.find("events_jsonl");
    if (record == summary.end()) return std::nullopt;
    if (!record->is_object() || !record->contains("lines") || !(*record)["lines"].is_number_unsigned()) {
        error = "events_jsonl.lines is not a count";
        return std::nullopt;
    }
    events_written written;
    written.lines = (*record)["lines"].get<std::uint64_t>();
    if (const auto format = record->find("format"); format != record->end()) {
        const std::optional<events_format> known =
            format->is_string() ? parse_events_format(format->get<std::string>()) : std::nullopt;
        if (!known) {
            error = "events_jsonl.format is not one of " + std::string(events_format_names);
            return std::nullopt;
        }
        written.format = *known;
    }
    return written;
}

namespace {

std::string read_failure(const fs::path& file) {
    return file.string() + ": cannot read: " + std::generic_category().message(errno);
}

bool read_jsonl(std::FILE* in, const fs::path& file, const event_line_handler& on_line, events_read& read,
                std::string& error) {
    constexpr std::size_t max_line = std::size_t{16} << 20;
    std::string line;
    std::uint64_t number = 1;
    std::vector<char> chunk(std::size_t{1} << 20);
    bool ok = true;
    while (ok) {
        const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), in);
        if (n == 0) break;
        for (std::size_t at = 0; at < n && ok;) {
            const char* newline = static_cast<const char*>(std::memchr(chunk.data() + at, '\n', n - at));
            const std::size_t stop = newline != nullptr ? static_cast<std::size_t>(newline - chunk.data()) : n;
            line.append(chunk.data() + at, stop - at);
            at = stop + 1;
            if (line.size() > max_line) {
                error = file.string() + " line " + std::to_string(number) + ": longer than 16 MiB: not an event";
                ok = false;
            } else if (newline != nullptr) {
                std::string why;
                if (!on_line(line, why)) {
                    error = file.string() + " line " + std::to_string(number) + ": " + why + " (corrupt?)";
                    ok = false;
                }
                line.clear();
                ++number;
            }
        }
    }
    if (ok && std::ferror(in)) {
        error = read_failure(file);
        ok = false;
    }
    read.lines = number - 1;
    if (ok && !line.empty()) {
        error = file.string() + " ends inside line " + std::to_string(number) + ": truncated";
        ok = false;
    }
    return ok;
}

bool read_binary(std::FILE* in, const fs::path& file, const event_line_handler& on_line, events_read& read,
                 std::string& error) {
    report::binary_event_reader reader(in, file.string());
    sim::trace_event event{};
    const std::string* node_name = nullptr;
    std::string line;
    for (;;) {
        switch (reader.next(event, node_name)) {
            case report::binary_event_reader::status::event: {
                line.clear();
                report::append_event_line(line, event, node_name);
                line.pop_back();  // the '\n'
                std::string why;
                if (!on_line(line, why)) {
                    error = file.string() + " event " + std::to_string(reader.events()) + ": " + why;
                    return false;
                }
                break;
            }
            case report::binary_event_reader::status::end:
                read.lines = reader.events();
                read.trace_hash = reader.trace_hash();
                return true;
            case report::binary_event_reader::status::error:
                read.lines = reader.events();
                error = reader.error();
                return false;
        }
    }
}

}  // namespace

bool read_events(const fs::path& file, events_format format, const event_line_handler& on_line, events_read& read,
                 std::string& error) {
    std::FILE* in = std::fopen(file.c_str(), "rb");
    if (in == nullptr) {
        error = read_failure(file);
        return false;
    }
    const bool ok = format == events_format::binary ? read_binary(in, file, on_line, read, error)
                                                    : read_jsonl(in, file, on_line, read, error);
    std::fclose(in);
    return ok;
}

bool events_match_summary(const nlohmann::json& summary, const events_written& written, const events_read& read,
                          std::string_view file_name, std::string& error) {
    const std::string name(file_name);
    if (read.trace_hash) {
        const auto hash = summary.find("trace_hash");
        const std::string file_hash = sim::format_hash(*read.trace_hash);
        if (hash != summary.end() && hash->is_string() && hash->get<std::string>() != file_hash) {
            error = name + " is from the run with trace hash " + file_hash + " but summary.json's run has " +
                    hash->get<std::string>() + ": they are not from the same run";
            return false;
        }
    }
    if (written.lines != read.lines) {
        error = name + " has " + std::to_string(read.lines) + (read.trace_hash ? " events" : " lines") +
                " but summary.json's run wrote " + std::to_string(written.lines) +
                ": they are not from the same run (or " + name + " was cut short)";
        return false;
    }
    return true;
}

namespace {

// The summary.json of DIR, if it has one; false (exit 2) when it is there but unusable.
bool read_summary_beside(const fs::path& dir, const std::string& target, std::optional<nlohmann::json>& summary,
                         std::string& error) {
    const fs::path file = dir / "summary.json";
    std::error_code ec;
    if (!fs::exists(file, ec)) return true;
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in || fs::is_directory(file, ec)) {
        error = "events " + target + ": cannot read summary.json";
        return false;
    }
    summary = parse_summary(text.str(), error);
    if (!summary) error = "events " + file.string() + " " + error;
    return summary.has_value();
}

// A file given by name: events.bin when it is named *.bin or starts as one does, else JSON lines.
events_format sniff_format(const fs::path& file) {
    if (file.extension() == ".bin") return events_format::binary;
    std::FILE* in = std::fopen(file.c_str(), "rb");
    if (in == nullptr) return events_format::jsonl;  // read_events says why it cannot be read
    char head[14] = {};
    const std::size_t n = std::fread(head, 1, sizeof head, in);
    std::fclose(in);
    return std::string_view(head, n) == report::events_binary_magic.substr(0, sizeof head) ? events_format::binary
                                                                                           : events_format::jsonl;
}

}  // namespace

int events_command(const std::string& target) {
    if (target.empty()) return bad_input("events: expected a run's --out directory or an events file, got \"\"");
    const fs::path path(target);
    std::error_code ec;
    if (!fs::exists(path, ec)) return bad_input("events " + target + ": no such file or directory");
    std::string error;
    std::optional<nlohmann::json> summary;
    std::optional<events_written> written;
    fs::path file = path;
    events_format format = events_format::jsonl;
    if (fs::is_directory(path, ec)) {
        if (!read_summary_beside(path, target, summary, error)) return bad_input(error);
        if (summary) {
            written = read_events_written(*summary, error);
            if (!error.empty()) return bad_input("events " + (path / "summary.json").string() + ": " + error);
            if (written && (*summary)["events_jsonl"].value("level", "") == "none") {
                return bad_input("events " + target + ": its run wrote no events (--events none)");
            }
        }
        if (written) {
            format = written->format;
        } else if (fs::exists(path / "events.bin", ec)) {
            format = events_format::binary;
        } else if (!fs::exists(path / "events.jsonl", ec)) {
            return bad_input("events " + target + ": no events.bin or events.jsonl");
        }
        file = path / events_file_name(format);
        if (!fs::exists(file, ec)) {
            return bad_input("events " + target + ": no " + std::string(events_file_name(format)) +
                             (written ? " (summary.json's run wrote one)" : ""));
        }
    } else {
        format = sniff_format(path);
    }
    // Written in big blocks; the lines before a damaged part are printed, then exit 2.
    std::string out;
    bool write_failed = false;
    const auto flush = [&out, &write_failed] {
        if (!out.empty() && std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) write_failed = true;
        out.clear();
    };
    const event_line_handler print = [&](std::string_view line, std::string& why) {
        out.append(line);
        out += '\n';
        if (out.size() >= (std::size_t{1} << 20)) flush();
        if (write_failed) why = "cannot write to standard output";
        return !write_failed;
    };
    events_read read;
    const bool ok = read_events(file, format, print, read, error);
    flush();
    if (write_failed) return exit_internal;  // the CLI says stdout could not be written
    if (!ok) return bad_input("events: " + error);
    if (written && !events_match_summary(*summary, *written, read, events_file_name(format), error)) {
        return bad_input("events " + target + ": " + error);
    }
    return exit_pass;
}

}  // namespace meshsim::harness
