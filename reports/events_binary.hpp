// events.bin: the compact form of events.jsonl (`meshsim run --events-format binary`).
// It holds the trace events in their canonical form (time, kind, node, a, b, detail)
// and the names of their nodes, which is all events.jsonl is made from: a reader
// decodes each record and writes it with append_event_line(), so the JSON lines it
// prints are the ones the same run writes as events.jsonl, byte for byte.
// docs/outputs.md ("events.bin") documents the format for readers in other languages.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/trace.hpp"

namespace meshsim::report {

// The first 16 bytes of every events.bin.
inline constexpr std::string_view events_binary_magic{"meshsim-events1\n", 16};

// Tokens seen recently, by slot (docs/outputs.md): the writer refers to a token by its
// slot when the slot holds it; the reader keeps the same table.
inline constexpr std::size_t event_token_slots = 4096;
std::size_t event_token_slot(std::string_view token);

// Appends the file's records to a buffer the caller writes out: the magic, then one
// record per event (and a name record before an event whose node's name is new),
// then the end record.
class binary_event_writer {
public:
    binary_event_writer();
    void begin(std::string& out);
    void append(std::string& out, const sim::trace_event& event, const std::string* node_name);
    // The end record: the number of events and the hash of the run they are from.
    void end(std::string& out, std::uint64_t trace_hash);
    std::uint64_t events() const { return events_; }

private:
    void append_detail(std::string& out, std::string_view detail);

    std::int64_t last_t_ns_ = 0;
    std::uint64_t events_ = 0;
    std::map<sim::node_id, std::string> names_;  // each node's name as the reader has it
    std::vector<std::string> slots_;
};

// Reads events.bin record by record in bounded memory; every malformed input (wrong
// magic, a cut, a bad record, bytes after the end) is an error naming the byte offset.
class binary_event_reader {
public:
    enum class status : std::uint8_t { event, end, error };

    // `in` stays the caller's; `name` names the file in errors.
    binary_event_reader(std::FILE* in, std::string name);

    // The next event, with its node's name (nullptr: none; valid until the next call),
    // or the end record (then trace_hash() and events() are the file's), or an error.
    status next(sim::trace_event& event, const std::string*& node_name);

    std::uint64_t trace_hash() const { return trace_hash_; }
    std::uint64_t events() const { return events_; }
    const std::string& error() const { return error_; }

private:
    bool fill();
    bool byte(std::uint8_t& b);
    bool bytes(std::string& out, std::uint64_t n);
    bool varint(std::uint64_t& v);
    bool read_magic();
    bool read_detail(std::string& detail);
    status fail(const std::string& why);

    std::FILE* in_;
    std::string name_;
    std::vector<char> buffer_;
    std::size_t at_ = 0, size_ = 0;
    std::uint64_t offset_ = 0;  // of the next byte, in the file
    bool started_ = false;
    bool ended_ = false;
    std::int64_t last_t_ns_ = 0;
    std::uint64_t events_ = 0;
    std::uint64_t trace_hash_ = 0;
    std::map<sim::node_id, std::string> names_;
    std::vector<std::string> slots_;
    std::string error_;
};

}  // namespace meshsim::report
