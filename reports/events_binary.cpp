#include "reports/events_binary.hpp"

#include <algorithm>
#include <charconv>

namespace meshsim::report {

namespace {

// Record tags beside the event kinds (0 to event_kind_count - 1).
constexpr std::uint8_t name_tag = 0xf0;
constexpr std::uint8_t end_tag = 0xff;
// A token's tag: the low two bits of its first varint.
constexpr std::uint64_t token_slot = 0, token_text = 1, token_hex = 2, token_decimal = 3;

// What a reader accepts at most (a writer never comes near): bounded memory on any input.
constexpr std::uint64_t max_text_bytes = std::uint64_t{16} << 20;      // one token or node name
constexpr std::uint64_t max_detail_bytes = std::uint64_t{64} << 20;    // one event's detail
constexpr std::uint64_t max_hex_bytes = 32;                            // 64 hex digits
constexpr std::uint64_t decimal_limit = 1'000'000'000'000'000'000ull;  // 10^18: 18 digits at most

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out += static_cast<char>((v & 0x7f) | 0x80);
        v >>= 7;
    }
    out += static_cast<char>(v);
}

std::uint64_t zigzag(std::uint64_t v) {
    return (v << 1) ^ (0 - (v >> 63));  // v as a signed difference: small either way
}
std::uint64_t unzigzag(std::uint64_t v) { return (v >> 1) ^ (0 - (v & 1)); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

// Written as a number: 1 to 18 digits, no leading zero (so it reads back the same).
bool is_decimal(std::string_view token) {
    if (token.empty() || token.size() > 18 || (token[0] == '0' && token.size() > 1)) return false;
    for (const char c : token) {
        if (!is_digit(c)) return false;
    }
    return true;
}

// Written as bytes: an even number (2 to 64) of lowercase hex digits (ids, hashes).
bool is_hex(std::string_view token) {
    if (token.empty() || token.size() % 2 != 0 || token.size() > 2 * max_hex_bytes) return false;
    for (const char c : token) {
        if (!is_hex_digit(c)) return false;
    }
    return true;
}

int hex_value(char c) { return is_digit(c) ? c - '0' : c - 'a' + 10; }

}  // namespace

std::size_t event_token_slot(std::string_view token) {
    std::uint32_t h = 2166136261u;  // FNV-1a, 32 bits
    for (const char c : token) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 16777619u;
    }
    return h & (event_token_slots - 1);
}

// ------------------------------------------------------------------ writing

binary_event_writer::binary_event_writer() : slots_(event_token_slots) {}

void binary_event_writer::begin(std::string& out) { out.append(events_binary_magic); }

void binary_event_writer::append(std::string& out, const sim::trace_event& event, const std::string* node_name) {
    const auto known = names_.find(event.node);
    if (node_name != nullptr && (known == names_.end() || known->second != *node_name)) {
        out += static_cast<char>(name_tag);
        put_varint(out, event.node);
        put_varint(out, node_name->size() + 1);
        out.append(*node_name);
        names_[event.node] = *node_name;
    } else if (node_name == nullptr && known != names_.end()) {
        out += static_cast<char>(name_tag);
        put_varint(out, event.node);
        put_varint(out, 0);  // no name from here on
        names_.erase(known);
    }
    const std::int64_t t_ns = event.at.time_since_epoch().count();
    out += static_cast<char>(event.kind);
    put_varint(out, zigzag(static_cast<std::uint64_t>(t_ns) - static_cast<std::uint64_t>(last_t_ns_)));
    put_varint(out, static_cast<sim::node_id>(event.node + 1));  // no_node: 0
    put_varint(out, event.a);
    put_varint(out, event.b);
    append_detail(out, event.detail);
    last_t_ns_ = t_ns;
    ++events_;
}

void binary_event_writer::append_detail(std::string& out, std::string_view detail) {
    if (detail.empty()) {
        put_varint(out, 0);
        return;
    }
    put_varint(out, static_cast<std::uint64_t>(std::count(detail.begin(), detail.end(), ' ')) + 1);
    for (;;) {
        const std::size_t space = detail.find(' ');
        const std::string_view token = detail.substr(0, space);
        if (is_decimal(token)) {
            std::uint64_t value = 0;
            std::from_chars(token.data(), token.data() + token.size(), value);
            put_varint(out, value << 2 | token_decimal);
        } else {
            const std::size_t slot = event_token_slot(token);
            if (slots_[slot] == token) {
                put_varint(out, slot << 2 | token_slot);
            } else {
                if (is_hex(token)) {
                    put_varint(out, (token.size() / 2) << 2 | token_hex);
                    for (std::size_t i = 0; i < token.size(); i += 2) {
                        out += static_cast<char>(hex_value(token[i]) << 4 | hex_value(token[i + 1]));
                    }
                } else {
                    put_varint(out, token.size() << 2 | token_text);
                    out.append(token);
                }
                slots_[slot].assign(token);
            }
        }
        if (space == std::string_view::npos) return;
        detail.remove_prefix(space + 1);
    }
}

void binary_event_writer::end(std::string& out, std::uint64_t trace_hash) {
    out += static_cast<char>(end_tag);
    put_varint(out, events_);
    for (int i = 0; i < 8; ++i) out += static_cast<char>(trace_hash >> (8 * i));
}

// ------------------------------------------------------------------ reading

binary_event_reader::binary_event_reader(std::FILE* in, std::string name)
    : in_(in), name_(std::move(name)), buffer_(std::size_t{1} << 20), slots_(event_token_slots) {}

binary_event_reader::status binary_event_reader::fail(const std::string& why) {
    if (error_.empty()) error_ = name_ + ": " + why;
    return status::error;
}

bool binary_event_reader::fill() {
    if (!error_.empty()) return false;
    size_ = std::fread(buffer_.data(), 1, buffer_.size(), in_);
    at_ = 0;
    if (size_ == 0 && std::ferror(in_)) fail("cannot read");
    return size_ != 0;
}

bool binary_event_reader::byte(std::uint8_t& b) {
    if (at_ == size_ && !fill()) return false;
    b = static_cast<std::uint8_t>(buffer_[at_++]);
    ++offset_;
    return true;
}

bool binary_event_reader::bytes(std::string& out, std::uint64_t n) {
    out.clear();
    while (n > 0) {
        if (at_ == size_ && !fill()) return false;
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, size_ - at_));
        out.append(buffer_.data() + at_, take);
        at_ += take;
        offset_ += take;
        n -= take;
    }
    return true;
}

bool binary_event_reader::varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        std::uint8_t b = 0;
        if (!byte(b)) return false;
        if (shift == 63 && b > 1) break;  // more than 64 bits
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) return true;
    }
    fail("a number at byte " + std::to_string(offset_) + " is longer than 64 bits: corrupt");
    return false;
}

bool binary_event_reader::read_magic() {
    std::string magic;
    if (!bytes(magic, events_binary_magic.size()) || magic != events_binary_magic) {
        if (!error_.empty()) return false;
        if (magic.empty()) {
            fail("is empty: not a meshsim events file");
        } else if (magic[0] == '{') {
            fail("is JSON lines (events.jsonl), not the binary form");
        } else if (magic.size() == events_binary_magic.size() && magic.starts_with("meshsim-events")) {
            fail("is format version " + std::string(1, magic[14]) + "; this meshsim reads version 1");
        } else {
            fail("does not start with \"meshsim-events1\": not a meshsim binary events file");
        }
        return false;
    }
    return true;
}

bool binary_event_reader::read_detail(std::string& detail) {
    detail.clear();
    std::uint64_t tokens = 0;
    if (!varint(tokens)) return false;
    std::string text;
    for (std::uint64_t i = 0; i < tokens; ++i) {
        if (i != 0) detail += ' ';
        std::uint64_t head = 0;
        if (!varint(head)) return false;
        const std::uint64_t payload = head >> 2;
        switch (head & 3) {
            case token_slot:
                if (payload >= event_token_slots) {
                    fail("token slot " + std::to_string(payload) + " at byte " + std::to_string(offset_) +
                         " is out of range: corrupt");
                    return false;
                }
                detail += slots_[payload];
                break;
            case token_text:
                if (payload > max_text_bytes) {
                    fail("a token of " + std::to_string(payload) + " bytes at byte " + std::to_string(offset_) +
                         ": corrupt");
                    return false;
                }
                if (!bytes(text, payload)) return false;
                detail += text;
                slots_[event_token_slot(text)] = text;
                break;
            case token_hex: {
                if (payload == 0 || payload > max_hex_bytes) {
                    fail("a hex token of " + std::to_string(payload) + " bytes at byte " + std::to_string(offset_) +
                         ": corrupt");
                    return false;
                }
                std::string raw;
                if (!bytes(raw, payload)) return false;
                constexpr char hex[] = "0123456789abcdef";
                text.clear();
                for (const char c : raw) {
                    text += hex[static_cast<std::uint8_t>(c) >> 4];
                    text += hex[static_cast<std::uint8_t>(c) & 0xf];
                }
                detail += text;
                slots_[event_token_slot(text)] = text;
                break;
            }
            default: {
                if (payload >= decimal_limit) {
                    fail("a number token at byte " + std::to_string(offset_) + " has more than 18 digits: corrupt");
                    return false;
                }
                char digits[24];
                const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, payload);
                detail.append(digits, static_cast<std::size_t>(end - digits));
                break;
            }
        }
        if (detail.size() > max_detail_bytes) {
            fail("an event detail longer than 64 MiB at byte " + std::to_string(offset_) + ": corrupt");
            return false;
        }
    }
    return true;
}

binary_event_reader::status binary_event_reader::next(sim::trace_event& event, const std::string*& node_name) {
    if (!error_.empty()) return status::error;
    if (ended_) return status::end;
    if (!started_) {
        started_ = true;
        if (!read_magic()) return status::error;
    }
    const auto truncated = [this](std::uint64_t record_at) {
        return fail("ends inside the record at byte " + std::to_string(record_at) + ": truncated (a copy cut short?)");
    };
    for (;;) {
        const std::uint64_t record_at = offset_;
        std::uint8_t tag = 0;
        if (!byte(tag)) {
            return fail("ends after " + std::to_string(events_) +
                        " events without its end record: truncated (a copy cut short?)");
        }
        if (tag == name_tag) {
            std::uint64_t node = 0, size = 0;
            std::string name;
            if (!varint(node) || !varint(size)) return truncated(record_at);
            if (node > sim::no_node || size > max_text_bytes + 1) {
                return fail("the node name record at byte " + std::to_string(record_at) + " is malformed: corrupt");
            }
            if (size == 0) {
                names_.erase(static_cast<sim::node_id>(node));
                continue;
            }
            if (!bytes(name, size - 1)) return truncated(record_at);
            names_[static_cast<sim::node_id>(node)] = std::move(name);
            continue;
        }
        if (tag == end_tag) {
            std::uint64_t count = 0;
            std::string hash;
            if (!varint(count) || !bytes(hash, 8)) return truncated(record_at);
            if (count != events_) {
                return fail("its end record counts " + std::to_string(count) + " events but it holds " +
                            std::to_string(events_) + ": corrupt");
            }
            trace_hash_ = 0;
            for (int i = 7; i >= 0; --i) trace_hash_ = trace_hash_ << 8 | static_cast<std::uint8_t>(hash[i]);
            std::uint8_t extra = 0;
            if (byte(extra))
                return fail("has bytes after its end record (at byte " + std::to_string(offset_ - 1) + ")");
            if (!error_.empty()) return status::error;
            ended_ = true;
            return status::end;
        }
        if (tag >= sim::event_kind_count) {
            return fail("unknown record tag " + std::to_string(tag) + " at byte " + std::to_string(record_at) +
                        ": corrupt");
        }
        std::uint64_t dt = 0, node = 0;
        if (!varint(dt) || !varint(node) || !varint(event.a) || !varint(event.b) || !read_detail(event.detail)) {
            return error_.empty() ? truncated(record_at) : status::error;
        }
        if (node > sim::no_node) {
            return fail("the event at byte " + std::to_string(record_at) + " names node " + std::to_string(node) +
                        ": corrupt");
        }
        last_t_ns_ = static_cast<std::int64_t>(static_cast<std::uint64_t>(last_t_ns_) + unzigzag(dt));
        event.at = sim::time_point(sim::duration(last_t_ns_));
        event.kind = static_cast<sim::event_kind>(tag);
        event.node = static_cast<sim::node_id>(node) - 1;  // 0: no_node
        const auto name = names_.find(event.node);
        node_name = name == names_.end() ? nullptr : &name->second;
        ++events_;
        return status::event;
    }
}

}  // namespace meshsim::report
