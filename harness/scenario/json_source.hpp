// A strict JSON (RFC 8259) reader that remembers where every value and every object
// key came from, so later validation can point at line and column. nlohmann::json reads
// the text (through its SAX interface) and holds the values; this file adds positions,
// duplicate keys, limits and the wording of syntax errors. Syntax errors give one
// diagnostic and no value. Safe on hostile input: bounded depth and size, no recursion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/scenario/diagnostics.hpp"

namespace meshsim::harness {

// Together these bound the parser's memory: the text, plus at most max_values values
// (about 200 bytes each with their positions, measured: docs/scenario-format.md, Limits).
struct json_limits {
    std::size_t max_depth = 256;             // nested objects and arrays
    std::size_t max_size_bytes = 64u << 20;  // the whole text
    std::size_t max_values = 1'000'000;      // objects, arrays, strings, numbers and literals
};

// A parsed JSON text: the value, plus the position of each value and key by JSON pointer.
// Numbers become int64 when integral and in range, else uint64 when integral,
// non-negative and in range, else double.
class json_source {
public:
    json_source(std::string file, nlohmann::json value) : file_(std::move(file)), value_(std::move(value)) {}

    const std::string& file() const { return file_; }
    const nlohmann::json& value() const { return value_; }
    // The value to change before loading (`--set`). Positions stay those of the text:
    // a changed value keeps the position of the one it replaced, a new one has none.
    nlohmann::json& value_to_edit() { return value_; }

    // Where the value at pointer ("" is the root, "/services/0/name") starts.
    std::optional<source_position> value_position(std::string_view pointer) const;
    // Where the key of the object member at pointer starts (its opening quote);
    // nullopt for the root and array elements.
    std::optional<source_position> key_position(std::string_view pointer) const;

private:
    friend class json_parser;
    // Positions mirror the value as a tree (not a map from pointer strings, whose total
    // size can grow with depth times key length: a memory bomb in a small file).
    struct node {
        source_position value;
        std::optional<source_position> key;
        std::vector<std::pair<std::string, std::uint32_t>> members;  // objects: sorted by key
        std::vector<std::uint32_t> elements;                         // arrays
    };
    const node* find(std::string_view pointer) const;

    std::string file_;
    nlohmann::json value_;
    std::vector<node> nodes_;  // nodes_[0] is the root
};

// Parses text (file names it in diagnostics). On any syntax error or limit reached,
// reports exactly one diagnostic to out, with the JSON pointer of the value (or of the
// container, between values) where it happened, and returns nullopt.
std::optional<json_source> parse_json(std::string_view text, std::string file, diagnostics& out,
                                      const json_limits& limits = {});

// Reads and parses a file (a FIFO or pipe too; "-" is standard input); a file that
// cannot be read or is too large is one diagnostic.
std::optional<json_source> load_json_file(const std::filesystem::path& path, diagnostics& out,
                                          const json_limits& limits = {});

// base + "/" + token, with '~' and '/' in token escaped as RFC 6901 says.
std::string json_pointer_append(std::string_view base, std::string_view token);

}  // namespace meshsim::harness
