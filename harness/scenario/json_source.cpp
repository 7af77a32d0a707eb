#include "harness/scenario/json_source.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <vector>

#include "harness/scenario/input_file.hpp"

namespace meshsim::harness {

std::string json_pointer_append(std::string_view base, std::string_view token) {
    std::string out;
    out.reserve(base.size() + token.size() + 1);
    out += base;
    out += '/';
    for (const char c : token) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out += c;
        }
    }
    return out;
}

const json_source::node* json_source::find(std::string_view pointer) const {
    if (nodes_.empty()) return nullptr;
    const node* at = &nodes_[0];
    if (pointer.empty()) return at;
    if (pointer.front() != '/') return nullptr;
    pointer.remove_prefix(1);
    for (;;) {
        const std::size_t slash = std::min(pointer.find('/'), pointer.size());
        const std::string_view escaped = pointer.substr(0, slash);
        std::string token;
        for (std::size_t i = 0; i < escaped.size(); ++i) {
            if (escaped[i] == '~') {
                // RFC 6901: '~' only as "~0" (for '~') or "~1" (for '/').
                if (i + 1 == escaped.size() || (escaped[i + 1] != '0' && escaped[i + 1] != '1')) return nullptr;
                token += escaped[i + 1] == '0' ? '~' : '/';
                ++i;
            } else {
                token += escaped[i];
            }
        }
        std::uint32_t child = 0;
        if (!at->elements.empty()) {
            std::size_t index = 0;
            const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), index);
            if (error != std::errc{} || end != token.data() + token.size() || index >= at->elements.size() ||
                (token.size() > 1 && token[0] == '0')) {
                return nullptr;
            }
            child = at->elements[index];
        } else {
            const auto by_key = [](const auto& member, const std::string& key) { return member.first < key; };
            const auto found = std::lower_bound(at->members.begin(), at->members.end(), token, by_key);
            if (found == at->members.end() || found->first != token) return nullptr;
            child = found->second;
        }
        at = &nodes_[child];
        if (slash == pointer.size()) return at;
        pointer.remove_prefix(slash + 1);
    }
}

std::optional<source_position> json_source::value_position(std::string_view pointer) const {
    const node* found = find(pointer);
    if (found == nullptr) return std::nullopt;
    return found->value;
}

std::optional<source_position> json_source::key_position(std::string_view pointer) const {
    const node* found = find(pointer);
    if (found == nullptr) return std::nullopt;
    return found->key;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word_char(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void append_utf8(std::string& out, std::uint32_t code_point) {
    if (code_point < 0x80) {
        out += static_cast<char>(code_point);
    } else if (code_point < 0x800) {
        out += static_cast<char>(0xC0 | (code_point >> 6));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else if (code_point < 0x10000) {
        out += static_cast<char>(0xE0 | (code_point >> 12));
        out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (code_point >> 18));
        out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    }
}

// Length of the well-formed UTF-8 sequence at the start of text (Unicode table 3-7:
// no overlong forms, no surrogates, nothing above U+10FFFF), or 0 if it is not one.
std::size_t utf8_sequence_length(std::string_view text) {
    if (text.empty()) return 0;
    const auto b0 = static_cast<unsigned char>(text[0]);
    if (b0 < 0x80) return 1;
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        length = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        length = 3;
        if (b0 == 0xE0) low = 0xA0;
        if (b0 == 0xED) high = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        length = 4;
        if (b0 == 0xF0) low = 0x90;
        if (b0 == 0xF4) high = 0x8F;
    } else {
        return 0;
    }
    if (text.size() < length) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        const auto b = static_cast<unsigned char>(text[i]);
        const unsigned char lo = i == 1 ? low : 0x80;
        const unsigned char hi = i == 1 ? high : 0xBF;
        if (b < lo || b > hi) return 0;
    }
    return length;
}

std::uint32_t decode_utf8(std::string_view text, std::size_t length) {
    const auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(text[i])); };
    switch (length) {
        case 1: return b(0);
        case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
        case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
        default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    }
}

std::string format_code_point(std::uint32_t code_point) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(code_point));
    return buffer;
}

}  // namespace

// The parser proper. Iterative: open containers live on an explicit stack, so depth is
// bounded by json_limits::max_depth and never by the machine stack.
class json_parser {
public:
    json_parser(std::string_view text, std::string file, diagnostics& out, const json_limits& limits)
        : text_(text), file_(std::move(file)), out_(out), limits_(limits) {}

    std::optional<json_source> parse();

private:
    struct open_container {
        nlohmann::json value;
        std::uint32_t node = 0;  // its positions in result_.nodes_
        std::string key;         // objects: key of the member being read
        bool is_object = false;
        // A member or element is being read (its key is known, or its index is
        // value.size()): error pointers go into it.
        bool has_current = false;
        source_position opened_at;
    };

    // --- input -------------------------------------------------------------------
    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }
    char peek_at(std::size_t ahead) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
    source_position here() const {
        return {line_, static_cast<int>(pos_ - line_start_ - continuation_bytes_ + 1), pos_};
    }
    void skip_whitespace();

    // --- errors: the first one ends the parse --------------------------------------
    bool fail(source_position at, std::string message) {
        out_.error(file_, at, pointer_here(), std::move(message));
        return false;
    }
    // The JSON pointer of the value being read (of its container between values), built
    // only when an error is reported: keeping one per open container would cost depth
    // times key length.
    std::string pointer_here() const;
    std::string describe_here() const;
    bool fail_unexpected(std::string_view expectation);
    bool fail_bad_value();

    // --- pieces ------------------------------------------------------------------------
    bool parse_scalar(nlohmann::json& value);
    bool parse_string(std::string& value);
    bool parse_escape(std::string& value);
    bool parse_number(nlohmann::json& value);
    bool parse_literal(nlohmann::json& value);
    bool begin_member(open_container& object);
    // A new position node, the child of the container on top of the stack (as member
    // key, or the next element), made the current node. False past limits_.max_values.
    bool add_node(std::string key, std::optional<source_position> key_at);

    std::string_view text_;
    std::string file_;
    diagnostics& out_;
    json_limits limits_;
    json_source result_{"", nullptr};
    std::vector<open_container> stack_;

    std::size_t pos_ = 0;
    int line_ = 1;
    std::size_t line_start_ = 0;
    // UTF-8 continuation bytes seen on this line: columns count characters, not bytes.
    std::size_t continuation_bytes_ = 0;
    std::uint32_t current_node_ = 0;  // the node of the value about to be read
};

bool json_parser::add_node(std::string key, std::optional<source_position> key_at) {
    open_container& parent = stack_.back();
    parent.has_current = true;
    if (result_.nodes_.size() >= limits_.max_values) {
        return fail(key_at.value_or(here()), "the document has more than " + std::to_string(limits_.max_values) +
                                                 " values (objects, arrays, strings, numbers, literals), the limit");
    }
    const auto index = static_cast<std::uint32_t>(result_.nodes_.size());
    result_.nodes_.emplace_back();
    result_.nodes_.back().key = key_at;
    if (key_at) {
        result_.nodes_[parent.node].members.emplace_back(std::move(key), index);
    } else {
        result_.nodes_[parent.node].elements.push_back(index);
    }
    current_node_ = index;
    return true;
}

std::string json_parser::pointer_here() const {
    std::string pointer;
    for (const open_container& c : stack_) {
        if (!c.has_current) break;
        const std::string index = c.is_object ? std::string() : std::to_string(c.value.size());
        pointer += '/';
        for (const char ch : c.is_object ? std::string_view(c.key) : std::string_view(index)) {
            if (ch == '~') {
                pointer += "~0";
            } else if (ch == '/') {
                pointer += "~1";
            } else {
                pointer += ch;
            }
        }
    }
    return pointer;
}

void json_parser::skip_whitespace() {
    while (!at_end()) {
        const char c = text_[pos_];
        if (c == ' ' || c == '\t') {
            ++pos_;
        } else if (c == '\n' || c == '\r') {
            ++pos_;
            if (c == '\r' && peek() == '\n') ++pos_;  // CRLF is one line break
            ++line_;
            line_start_ = pos_;
            continuation_bytes_ = 0;
        } else {
            return;
        }
    }
}

std::string json_parser::describe_here() const {
    if (at_end()) return "end of input";
    const char c = peek();
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x21 && byte < 0x7f) return std::string("'") + c + "'";
    if (byte >= 0x80) {
        const std::size_t length = utf8_sequence_length(text_.substr(pos_));
        if (length == 0) {
            char buffer[32];
            std::snprintf(buffer, sizeof buffer, "byte 0x%02X (not UTF-8)", byte);
            return buffer;
        }
        return "character " + format_code_point(decode_utf8(text_.substr(pos_), length));
    }
    return "character " + format_code_point(byte);
}

bool json_parser::fail_unexpected(std::string_view expectation) {
    if (peek() == '/' && (peek_at(1) == '/' || peek_at(1) == '*')) {
        return fail(here(), "comments are not allowed in JSON");
    }
    if (at_end()) return fail(here(), "unexpected end of input; " + std::string(expectation));
    return fail(here(), std::string(expectation));
}

std::optional<json_source> json_parser::parse() {
    result_ = json_source(file_, nullptr);
    if (text_.size() > limits_.max_size_bytes) {
        fail({}, "file is larger than the limit of " + std::to_string(limits_.max_size_bytes) + " bytes");
        return std::nullopt;
    }
    // A UTF-8 byte order mark is allowed (RFC 8259 section 8.1) and invisible in editors.
    if (text_.starts_with("\xEF\xBB\xBF")) {
        pos_ = 3;
        line_start_ = 3;
    }

    std::vector<open_container>& stack = stack_;
    stack.clear();
    nlohmann::json completed;
    result_.nodes_.emplace_back();
    current_node_ = 0;
    skip_whitespace();
    for (;;) {
        // A value starts here.
        result_.nodes_[current_node_].value = here();
        const char c = peek();
        bool value_done = true;
        if (c == '{' || c == '[') {
            if (stack.size() >= limits_.max_depth) {
                fail(here(), "nesting is deeper than the limit of " + std::to_string(limits_.max_depth) + " levels");
                return std::nullopt;
            }
            open_container container;
            container.is_object = c == '{';
            container.value = container.is_object ? nlohmann::json::object() : nlohmann::json::array();
            container.node = current_node_;
            container.opened_at = here();
            ++pos_;
            skip_whitespace();
            const char close = container.is_object ? '}' : ']';
            if (peek() == close) {
                ++pos_;
                completed = std::move(container.value);
            } else {
                stack.push_back(std::move(container));
                value_done = false;
                if (stack.back().is_object) {
                    if (!begin_member(stack.back())) return std::nullopt;
                } else if (!add_node({}, std::nullopt)) {
                    return std::nullopt;
                }
            }
        } else if (!parse_scalar(completed)) {
            return std::nullopt;
        }
        if (!value_done) continue;

        // Hand completed values to their containers until one expects another value.
        for (;;) {
            if (stack.empty()) {
                skip_whitespace();
                if (!at_end()) {
                    if (peek() == '/' && (peek_at(1) == '/' || peek_at(1) == '*')) {
                        fail(here(), "comments are not allowed in JSON");
                    } else {
                        fail(here(), "unexpected " + describe_here() + " after the end of the JSON value");
                    }
                    return std::nullopt;
                }
                result_.value_ = std::move(completed);
                return std::move(result_);
            }
            open_container& top = stack.back();
            skip_whitespace();
            if (top.is_object) {
                top.value[top.key] = std::move(completed);
            } else {
                top.value.push_back(std::move(completed));
            }
            top.has_current = false;
            const char close = top.is_object ? '}' : ']';
            if (peek() == ',') {
                ++pos_;
                skip_whitespace();
                if (peek() == close) {
                    fail(here(), std::string("trailing comma before '") + close + "'");
                    return std::nullopt;
                }
                if (top.is_object) {
                    if (!begin_member(top)) return std::nullopt;
                } else if (!add_node({}, std::nullopt)) {
                    return std::nullopt;
                }
                break;
            }
            if (peek() == close) {
                ++pos_;
                completed = std::move(top.value);
                auto& members = result_.nodes_[top.node].members;
                std::sort(members.begin(), members.end());  // keys are unique: duplicates were refused
                stack.pop_back();
                continue;
            }
            fail_unexpected(top.is_object ? "expected ',' or '}' after object member"
                                          : "expected ',' or ']' after array element");
            return std::nullopt;
        }
    }
}

// At the key of an object member: reads `"key" :` and makes the member the current node.
bool json_parser::begin_member(open_container& object) {
    const source_position key_at = here();
    if (peek() != '"') {
        if (peek() == '\'') return fail(key_at, "object keys must be in double quotes, not single quotes");
        if (is_word_char(peek())) return fail(key_at, "object keys must be strings in double quotes");
        return fail_unexpected("expected a string key in double quotes");
    }
    std::string key;
    if (!parse_string(key)) return false;
    if (object.value.contains(key)) {
        object.key = key;
        object.has_current = true;
        std::string message = "duplicate key " + quote(key);
        for (const auto& [earlier, index] : result_.nodes_[object.node].members) {
            if (earlier != key) continue;
            const source_position first = result_.nodes_[index].key.value_or(source_position{});
            message += " (first defined at line " + std::to_string(first.line) + ", column " +
                       std::to_string(first.column) + ")";
        }
        return fail(key_at, std::move(message));
    }
    object.key = key;
    if (!add_node(std::move(key), key_at)) return false;
    skip_whitespace();
    if (peek() != ':') return fail_unexpected("expected ':' after object key");
    ++pos_;
    skip_whitespace();
    return true;
}

bool json_parser::parse_scalar(nlohmann::json& value) {
    const char c = peek();
    if (c == '"') {
        std::string text;
        if (!parse_string(text)) return false;
        value = std::move(text);
        return true;
    }
    if (c == '-' || is_digit(c)) return parse_number(value);
    if (is_word_char(c)) return parse_literal(value);
    return fail_bad_value();
}

bool json_parser::fail_bad_value() {
    switch (peek()) {
        case '\'': return fail(here(), "strings must be in double quotes, not single quotes");
        case '+': return fail(here(), "numbers must not start with '+'");
        case '.': return fail(here(), "numbers must start with a digit, e.g. 0.5");
        default: break;
    }
    if (at_end()) return fail(here(), "unexpected end of input; expected a value");
    if (peek() == '/' && (peek_at(1) == '/' || peek_at(1) == '*')) {
        return fail(here(), "comments are not allowed in JSON");
    }
    return fail(here(), "expected a value, got " + describe_here());
}

bool json_parser::parse_literal(nlohmann::json& value) {
    const source_position start = here();
    std::size_t end = pos_;
    while (end < text_.size() && is_word_char(text_[end])) ++end;
    const std::string_view word = text_.substr(pos_, end - pos_);
    if (word == "true" || word == "false" || word == "null") {
        pos_ = end;
        value = word == "null" ? nlohmann::json(nullptr) : nlohmann::json(word == "true");
        return true;
    }
    if (word == "NaN" || word == "Infinity") return fail(start, "NaN and Infinity are not allowed in JSON");
    if (const auto suggestion = did_you_mean(word, {"true", "false", "null"})) {
        return fail(start, "unknown literal " + quote(word, 32) + " (did you mean " + *suggestion + "?)");
    }
    return fail(start, "expected a value, got " + quote(word, 32) + " (strings must be in double quotes)");
}

bool json_parser::parse_number(nlohmann::json& value) {
    const source_position start = here();
    const std::size_t begin = pos_;
    const bool negative = peek() == '-';
    if (negative) {
        ++pos_;
        if (peek() == 'I' || peek() == 'N') return fail(start, "NaN and Infinity are not allowed in JSON");
        if (!is_digit(peek())) return fail(here(), "expected a digit after '-'");
    }
    if (peek() == '0') {
        ++pos_;
        if (is_digit(peek())) return fail(start, "leading zeros are not allowed in numbers");
    } else {
        while (is_digit(peek())) ++pos_;
    }
    bool integral = true;
    if (peek() == '.') {
        ++pos_;
        if (!is_digit(peek())) return fail(here(), "expected a digit after the decimal point");
        while (is_digit(peek())) ++pos_;
        integral = false;
    }
    if (peek() == 'e' || peek() == 'E') {
        ++pos_;
        if (peek() == '+' || peek() == '-') ++pos_;
        if (!is_digit(peek())) return fail(here(), "expected a digit in the exponent");
        while (is_digit(peek())) ++pos_;
        integral = false;
    }
    if (is_word_char(peek()) || peek() == '.') {
        return fail(here(), "unexpected " + describe_here() + " in number");
    }
    const char* const first = text_.data() + begin;
    const char* const last = text_.data() + pos_;
    if (integral) {
        std::int64_t signed_value = 0;
        if (std::from_chars(first, last, signed_value).ec == std::errc{}) {
            value = signed_value;
            return true;
        }
        std::uint64_t unsigned_value = 0;
        if (!negative && std::from_chars(first, last, unsigned_value).ec == std::errc{}) {
            value = unsigned_value;
            return true;
        }
    }
    double floating = 0;
    const auto [end, error] = std::from_chars(first, last, floating);
    if (error == std::errc::result_out_of_range) {
        // Too large, or too small: find the decimal exponent of the first significant
        // digit. Too small rounds to zero, as every JSON reader does.
        const std::string_view number = text_.substr(begin, pos_ - begin);
        const std::size_t mantissa_begin = negative ? 1 : 0;
        const std::size_t exponent_at = std::min(number.find_first_of("eE"), number.size());
        const std::string_view mantissa = number.substr(mantissa_begin, exponent_at - mantissa_begin);
        const std::size_t point = std::min(mantissa.find('.'), mantissa.size());
        long long magnitude = 0;
        const std::size_t first_significant = mantissa.find_first_of("123456789");
        if (first_significant < point) {
            magnitude = static_cast<long long>(point - first_significant) - 1;
        } else if (first_significant != std::string_view::npos) {
            magnitude = -static_cast<long long>(first_significant - point);
        }
        long long exponent = 0;
        if (exponent_at < number.size()) {
            std::string_view digits = number.substr(exponent_at + 1);
            const bool exponent_negative = digits.starts_with('-');
            if (digits.starts_with('-') || digits.starts_with('+')) digits.remove_prefix(1);
            for (const char d : digits) {
                exponent = std::min(exponent * 10 + (d - '0'), 1'000'000'000'000LL);  // saturate
            }
            if (exponent_negative) exponent = -exponent;
        }
        if (first_significant != std::string_view::npos && magnitude + exponent > 0) {
            return fail(start, "number is too large");
        }
        floating = negative ? -0.0 : 0.0;
    } else if (error != std::errc{} || end != last) {
        return fail(start, "invalid number");  // unreachable for text matching the grammar
    }
    value = floating;
    return true;
}

bool json_parser::parse_string(std::string& value) {
    const source_position start = here();
    ++pos_;  // the opening quote
    for (;;) {
        if (at_end()) return fail(start, "unterminated string");
        const char c = text_[pos_];
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"') {
            ++pos_;
            return true;
        }
        if (c == '\\') {
            if (!parse_escape(value)) return false;
            continue;
        }
        if (c == '\n' || c == '\r') {
            return fail(start, "unterminated string (a string cannot span lines; write \\n for a line break)");
        }
        if (byte < 0x20) {
            return fail(here(), "control character " + format_code_point(byte) + " must be escaped in a string");
        }
        if (byte < 0x80) {
            // Copy the run of plain ASCII at once.
            std::size_t end = pos_ + 1;
            while (end < text_.size()) {
                const auto b = static_cast<unsigned char>(text_[end]);
                if (b < 0x20 || b >= 0x80 || b == '"' || b == '\\') break;
                ++end;
            }
            value.append(text_.substr(pos_, end - pos_));
            pos_ = end;
            continue;
        }
        const std::size_t length = utf8_sequence_length(text_.substr(pos_));
        if (length == 0) return fail(here(), "invalid UTF-8 in string");
        value.append(text_.substr(pos_, length));
        pos_ += length;
        continuation_bytes_ += length - 1;
    }
}

bool json_parser::parse_escape(std::string& value) {
    const source_position backslash = here();
    ++pos_;
    if (at_end()) return fail(backslash, "unterminated string");
    const char c = text_[pos_];
    switch (c) {
        case '"': value += '"'; break;
        case '\\': value += '\\'; break;
        case '/': value += '/'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'n': value += '\n'; break;
        case 'r': value += '\r'; break;
        case 't': value += '\t'; break;
        case 'u': {
            const auto read_hex4 = [this](std::size_t at) -> int {
                if (at + 4 > text_.size()) return -1;
                int result = 0;
                for (std::size_t i = 0; i < 4; ++i) {
                    const int digit = hex_value(text_[at + i]);
                    if (digit < 0) return -1;
                    result = result * 16 + digit;
                }
                return result;
            };
            const int unit = read_hex4(pos_ + 1);
            if (unit < 0) return fail(backslash, "\\u must be followed by four hexadecimal digits");
            pos_ += 5;
            std::uint32_t code_point = static_cast<std::uint32_t>(unit);
            if (unit >= 0xDC00 && unit <= 0xDFFF) {
                return fail(backslash, "unpaired UTF-16 surrogate " + format_code_point(code_point) + " in \\u escape");
            }
            if (unit >= 0xD800 && unit <= 0xDBFF) {
                const int low = peek() == '\\' && peek_at(1) == 'u' ? read_hex4(pos_ + 2) : -1;
                if (low < 0xDC00 || low > 0xDFFF) {
                    return fail(backslash,
                                "unpaired UTF-16 surrogate " + format_code_point(code_point) + " in \\u escape");
                }
                pos_ += 6;
                code_point = 0x10000 + ((code_point - 0xD800) << 10) + (static_cast<std::uint32_t>(low) - 0xDC00);
            }
            append_utf8(value, code_point);
            return true;
        }
        default: {
            const auto byte = static_cast<unsigned char>(c);
            if (byte >= 0x21 && byte < 0x7f) {
                return fail(backslash, std::string("invalid escape sequence '\\") + c + "' in string");
            }
            return fail(backslash, "invalid escape sequence in string");
        }
    }
    ++pos_;
    return true;
}

std::optional<json_source> parse_json(std::string_view text, std::string file, diagnostics& out,
                                      const json_limits& limits) {
    try {
        return json_parser(text, std::move(file), out, limits).parse();
    } catch (const std::bad_alloc&) {
        out.error("", {}, "", "out of memory while parsing");
        return std::nullopt;
    }
}

std::optional<json_source> load_json_file(const std::filesystem::path& path, diagnostics& out,
                                          const json_limits& limits) {
    const std::string file = path == "-" ? "<stdin>" : path.string();
    input_file_result input = read_input_file(path, limits.max_size_bytes);
    if (!input.text) {
        out.error(file, {}, "", input.error);
        return std::nullopt;
    }
    return parse_json(*input.text, file, out, limits);
}

}  // namespace meshsim::harness
