// The events file of a run's --out directory, in either form: events.jsonl (JSON
// lines) or events.bin (the compact form, reports/events_binary.hpp). What
// summary.json says was written, reading a file back as JSON lines in bounded memory
// (`meshsim report`, `meshsim events`), and the checks that it is whole and from
// the run of the summary beside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace meshsim::harness {

enum class events_format : std::uint8_t { jsonl, binary };
inline constexpr std::string_view events_format_names = "jsonl, binary";
std::optional<events_format> parse_events_format(std::string_view text);
std::string_view to_string(events_format format);
// events.jsonl or events.bin.
std::string_view events_file_name(events_format format);

// summary.json's "events_jsonl": which file its run wrote and how many events it holds.
struct events_written {
    events_format format = events_format::jsonl;  // older summaries: always JSON lines
    std::uint64_t lines = 0;
};
// nullopt and no error: the summary records none (an older one, or not `meshsim run`'s);
// nullopt with `error` set: the record is malformed.
std::optional<events_written> read_events_written(const nlohmann::json& summary, std::string& error);

// What reading a file found.
struct events_read {
    std::uint64_t lines = 0;
    std::optional<std::uint64_t> trace_hash;  // events.bin's end record
};

// FILE's events, each as its JSON line without the '\n', handed to on_line (false:
// stop, with `why` the reason). false with `error` set on anything malformed: a line
// that is not an event (on_line's why), a cut, a bad record, a read that fails. A binary
// file is read whole to its end record before this returns true.
using event_line_handler = std::function<bool(std::string_view line, std::string& why)>;
bool read_events(const std::filesystem::path& file, events_format format, const event_line_handler& on_line,
                 events_read& read, std::string& error);

// The file's events are those summary.json's run wrote: the same count (and, for
// events.bin, the same trace hash). false with `error` naming what differs.
bool events_match_summary(const nlohmann::json& summary, const events_written& written, const events_read& read,
                          std::string_view file_name, std::string& error);

// `meshsim events DIR_OR_FILE`: the events as JSON lines on stdout.
int events_command(const std::string& target);

}  // namespace meshsim::harness
