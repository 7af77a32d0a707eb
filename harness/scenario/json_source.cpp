#include "harness/scenario/json_source.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
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
bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

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

// What nlohmann reads: a pointer into the text that publishes how far the lexer has
// read, so each SAX event knows the offset just past its token (past one byte more
// after a number, which the lexer must see to know the number ended).
class counting_iterator {
public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    counting_iterator(const char* at, const char** read_up_to) : at_(at), read_up_to_(read_up_to) {}
    reference operator*() const { return *at_; }
    counting_iterator& operator++() {
        *read_up_to_ = ++at_;
        return *this;
    }
    counting_iterator operator++(int) {
        counting_iterator before = *this;
        ++*this;
        return before;
    }
    bool operator==(const counting_iterator& other) const { return at_ == other.at_; }

private:
    const char* at_;
    const char** read_up_to_;
};

// Line and column (in characters: UTF-8 continuation bytes do not count) of byte
// offsets, asked for in increasing order, so each byte is looked at once.
class position_counter {
public:
    position_counter(std::string_view text, std::size_t start) : text_(text), offset_(start), line_start_(start) {}

    source_position at(std::size_t offset) {
        for (; offset_ < offset; ++offset_) {
            const char c = text_[offset_];
            if (c == '\n' || c == '\r') {
                if (c == '\r' || offset_ == 0 || text_[offset_ - 1] != '\r') ++line_;  // CRLF is one line break
                line_start_ = offset_ + 1;
                continuation_bytes_ = 0;
            } else if ((static_cast<unsigned char>(c) & 0xC0) == 0x80) {
                ++continuation_bytes_;
            }
        }
        return {line_, static_cast<int>(offset - line_start_ - continuation_bytes_ + 1), offset};
    }

private:
    std::string_view text_;
    std::size_t offset_;
    int line_ = 1;
    std::size_t line_start_;
    std::size_t continuation_bytes_ = 0;
};

}  // namespace

// nlohmann::json's parser does the reading (grammar, strings, escapes, UTF-8, numbers);
// this class is its SAX handler. It builds the value, records where each value and key
// starts (the first byte after the previous token that is not whitespace or a
// separator), refuses duplicate keys and enforces the limits. When nlohmann reports a
// syntax error, it says what is wrong in the project's words by looking at the text
// from the last event on, where the error must be.
class json_parser {
public:
    json_parser(std::string_view text, std::string file, diagnostics& out, const json_limits& limits)
        : text_(text), file_(std::move(file)), out_(out), limits_(limits), positions_(text, bom_size()) {}

    std::optional<json_source> parse();

    // --- nlohmann's SAX interface ----------------------------------------------------
    bool null() { return scalar(nullptr); }
    bool boolean(bool value) { return scalar(value); }
    bool number_integer(std::int64_t value) { return scalar(value); }
    bool number_unsigned(std::uint64_t value) {
        if (value <= static_cast<std::uint64_t>(INT64_MAX)) return scalar(static_cast<std::int64_t>(value));
        return scalar(value);
    }
    bool number_float(double value, const std::string& /*text*/) { return scalar(value); }
    bool string(std::string& value) { return scalar(std::move(value)); }
    bool binary(nlohmann::json::binary_t& /*value*/) { return false; }  // not in JSON text
    bool start_object(std::size_t /*unknown*/) { return open(true); }
    bool start_array(std::size_t /*unknown*/) { return open(false); }
    bool key(std::string& key);
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                     const nlohmann::json::exception& error) {
        library_message_ = error.what();
        return false;
    }

private:
    struct open_container {
        nlohmann::json value;
        std::uint32_t node = 0;  // its positions in result_.nodes_
        std::string key;         // objects: key of the member being read
        bool is_object = false;
        // A member or element is being read (its key is known, or its index is
        // value.size()): error pointers go into it.
        bool has_current = false;
    };
    enum class event : std::uint8_t { none, scalar, opened, key, closed };

    std::size_t bom_size() const { return text_.starts_with("\xEF\xBB\xBF") ? 3 : 0; }

    // --- building ----------------------------------------------------------------------
    bool scalar(nlohmann::json value);
    bool open(bool is_object);
    bool close();
    // Records where the value the lexer just read starts, as a new node for an array
    // element (objects made theirs at the key). False past limits_.max_values.
    bool begin_value();
    // Hands a finished value to its container, or makes it the result.
    void complete(nlohmann::json value);
    bool add_node(std::string key, std::optional<source_position> key_at, source_position at);
    std::size_t token_start() const;
    void token_done(event kind) {
        last_event_ = kind;
        search_from_ = static_cast<std::size_t>(read_up_to_ - text_.data());
    }

    // --- errors: the first one ends the parse --------------------------------------------
    bool fail(source_position at, std::string message) {
        out_.error(file_, at, pointer_here(), std::move(message));
        reported_ = true;
        return false;
    }
    bool fail_values_limit(source_position at) {
        return fail(at, "the document has more than " + std::to_string(limits_.max_values) +
                            " values (objects, arrays, strings, numbers, literals), the limit");
    }
    // The JSON pointer of the value being read (of its container between values), built
    // only when an error is reported: keeping one per open container would cost depth
    // times key length.
    std::string pointer_here() const;

    // --- explaining nlohmann's syntax error: a walk over the text from the last event ----
    void explain_syntax_error();
    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }
    char peek_at(std::size_t ahead) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
    source_position here() { return positions_.at(pos_); }
    void skip_whitespace() {
        while (!at_end() && is_space(text_[pos_])) ++pos_;
    }
    bool at_comment() const { return peek() == '/' && (peek_at(1) == '/' || peek_at(1) == '*'); }
    std::string describe_here() const;
    bool fail_unexpected(std::string_view expectation);
    // Each check_ reads one token where pos_ is; false when it reported what is wrong.
    bool check_value();
    bool check_member_key();
    bool check_element();
    bool check_string();
    bool check_escape();
    bool check_number(bool finite_in_range);
    bool check_literal();

    std::string_view text_;
    std::string file_;
    diagnostics& out_;
    json_limits limits_;
    position_counter positions_;
    json_source result_{"", nullptr};
    std::vector<open_container> stack_;
    std::uint32_t current_node_ = 0;  // the node of the value being read

    const char* read_up_to_ = nullptr;  // where nlohmann's lexer has read to
    std::size_t search_from_ = 0;       // just past the token of the last event
    event last_event_ = event::none;
    source_position last_value_at_;
    bool reported_ = false;
    std::string library_message_;
    std::size_t pos_ = 0;  // explaining errors: the byte looked at
};

std::optional<json_source> json_parser::parse() {
    if (text_.size() > limits_.max_size_bytes) {
        fail({}, "file is larger than the limit of " + std::to_string(limits_.max_size_bytes) + " bytes");
        return std::nullopt;
    }
    result_ = json_source(file_, nullptr);
    result_.nodes_.emplace_back();
    read_up_to_ = text_.data();
    // A UTF-8 byte order mark is allowed (RFC 8259 section 8.1) and invisible in editors;
    // nlohmann skips it.
    search_from_ = bom_size();
    const counting_iterator first(text_.data(), &read_up_to_);
    const counting_iterator last(text_.data() + text_.size(), &read_up_to_);
    // nlohmann takes a NUL byte for the end of the text (it reads C strings too), so it
    // accepts "{}\0x"; a NUL anywhere else is an error, to it as to us.
    const bool parsed = nlohmann::json::sax_parse(first, last, this);
    if (parsed && std::memchr(text_.data(), '\0', text_.size()) == nullptr) return std::move(result_);
    if (!reported_) explain_syntax_error();
    return std::nullopt;
}

std::size_t json_parser::token_start() const {
    std::size_t at = search_from_;
    while (at < text_.size() && (is_space(text_[at]) || text_[at] == ',' || text_[at] == ':')) ++at;
    return at;
}

bool json_parser::add_node(std::string key, std::optional<source_position> key_at, source_position at) {
    open_container& parent = stack_.back();
    parent.has_current = true;
    if (result_.nodes_.size() >= limits_.max_values) return fail_values_limit(key_at.value_or(at));
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

bool json_parser::begin_value() {
    last_value_at_ = positions_.at(token_start());
    if (stack_.empty()) {
        current_node_ = 0;
    } else if (!stack_.back().is_object && !add_node({}, std::nullopt, last_value_at_)) {
        return false;
    }
    result_.nodes_[current_node_].value = last_value_at_;
    return true;
}

void json_parser::complete(nlohmann::json value) {
    if (stack_.empty()) {
        result_.value_ = std::move(value);
        return;
    }
    open_container& top = stack_.back();
    if (top.is_object) {
        top.value[top.key] = std::move(value);
    } else {
        top.value.push_back(std::move(value));
    }
    top.has_current = false;
}

bool json_parser::scalar(nlohmann::json value) {
    if (!begin_value()) return false;
    token_done(event::scalar);
    complete(std::move(value));
    return true;
}

bool json_parser::open(bool is_object) {
    if (!begin_value()) return false;
    if (stack_.size() >= limits_.max_depth) {
        return fail(last_value_at_,
                    "nesting is deeper than the limit of " + std::to_string(limits_.max_depth) + " levels");
    }
    open_container container;
    container.is_object = is_object;
    container.value = is_object ? nlohmann::json::object() : nlohmann::json::array();
    container.node = current_node_;
    stack_.push_back(std::move(container));
    token_done(event::opened);
    return true;
}

bool json_parser::close() {
    open_container& top = stack_.back();
    auto& members = result_.nodes_[top.node].members;
    std::sort(members.begin(), members.end());  // keys are unique: duplicates were refused
    nlohmann::json value = std::move(top.value);
    stack_.pop_back();
    token_done(event::closed);
    complete(std::move(value));
    return true;
}

bool json_parser::key(std::string& key) {
    open_container& object = stack_.back();
    const source_position key_at = positions_.at(token_start());
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
    if (!add_node(std::move(key), key_at, key_at)) return false;
    token_done(event::key);
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

// nlohmann stopped at a syntax error after the last event (or in the number or literal
// of the last event, which it read shorter than this parser's tokens: "01" as 0 then 1).
void json_parser::explain_syntax_error() {
    pos_ = search_from_;
    switch (last_event_) {
        case event::none:
            skip_whitespace();
            if (check_value()) break;
            return;
        case event::opened:
            skip_whitespace();
            if (stack_.back().is_object ? check_member_key() : check_element()) break;
            return;
        case event::key:
            skip_whitespace();
            if (peek() != ':') {
                fail_unexpected("expected ':' after object key");
                return;
            }
            ++pos_;
            skip_whitespace();
            if (check_value()) break;
            return;
        case event::scalar:
        case event::closed: {
            const char first = text_[last_value_at_.offset];
            if (last_event_ == event::scalar && first != '"') {
                // Read the number or literal again, as the member or element being read.
                pos_ = last_value_at_.offset;
                const bool in_array = !stack_.empty() && !stack_.back().is_object;
                if (!stack_.empty()) stack_.back().has_current = true;
                if (in_array) stack_.back().value.erase(stack_.back().value.size() - 1);
                if (!(first == '-' || is_digit(first) ? check_number(true) : check_literal())) return;
                if (in_array) stack_.back().value.push_back(nullptr);
                if (!stack_.empty()) stack_.back().has_current = false;
            }
            skip_whitespace();
            if (stack_.empty()) {
                if (at_comment()) {
                    fail(here(), "comments are not allowed in JSON");
                } else {
                    fail(here(), "unexpected " + describe_here() + " after the end of the JSON value");
                }
                return;
            }
            const open_container& top = stack_.back();
            const char close = top.is_object ? '}' : ']';
            if (peek() == ',') {
                ++pos_;
                skip_whitespace();
                if (peek() == close) {
                    fail(here(), std::string("trailing comma before '") + close + "'");
                    return;
                }
                if (top.is_object ? check_member_key() : check_element()) break;
                return;
            }
            fail_unexpected(top.is_object ? "expected ',' or '}' after object member"
                                          : "expected ',' or ']' after array element");
            return;
        }
    }
    // This walk found nothing wrong where nlohmann did: say what nlohmann said.
    fail(here(), library_message_);
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
    if (at_comment()) return fail(here(), "comments are not allowed in JSON");
    if (at_end()) return fail(here(), "unexpected end of input; " + std::string(expectation));
    return fail(here(), std::string(expectation));
}

bool json_parser::check_element() {
    if (result_.nodes_.size() >= limits_.max_values) return fail_values_limit(here());
    stack_.back().has_current = true;
    return check_value();
}

bool json_parser::check_member_key() {
    const source_position key_at = here();
    if (peek() == '"') return check_string();
    if (peek() == '\'') return fail(key_at, "object keys must be in double quotes, not single quotes");
    if (is_word_char(peek())) return fail(key_at, "object keys must be strings in double quotes");
    return fail_unexpected("expected a string key in double quotes");
}

bool json_parser::check_value() {
    const char c = peek();
    if (c == '"') return check_string();
    if (c == '-' || is_digit(c)) return check_number(false);
    if (is_word_char(c)) return check_literal();
    if (c == '{' || c == '[') return true;
    switch (c) {
        case '\'': return fail(here(), "strings must be in double quotes, not single quotes");
        case '+': return fail(here(), "numbers must not start with '+'");
        case '.': return fail(here(), "numbers must start with a digit, e.g. 0.5");
        default: break;
    }
    if (at_end()) return fail(here(), "unexpected end of input; expected a value");
    if (at_comment()) return fail(here(), "comments are not allowed in JSON");
    return fail(here(), "expected a value, got " + describe_here());
}

bool json_parser::check_literal() {
    const source_position start = here();
    std::size_t end = pos_;
    while (end < text_.size() && is_word_char(text_[end])) ++end;
    const std::string_view word = text_.substr(pos_, end - pos_);
    if (word == "true" || word == "false" || word == "null") {
        pos_ = end;
        return true;
    }
    if (word == "NaN" || word == "Infinity") return fail(start, "NaN and Infinity are not allowed in JSON");
    if (const auto suggestion = did_you_mean(word, {"true", "false", "null"})) {
        return fail(start, "unknown literal " + quote(word, 32) + " (did you mean " + *suggestion + "?)");
    }
    return fail(start, "expected a value, got " + quote(word, 32) + " (strings must be in double quotes)");
}

// finite_in_range: nlohmann read this number as a value. If it did not and the number
// is well-formed, it was too large for a double.
bool json_parser::check_number(bool finite_in_range) {
    const source_position start = here();
    if (peek() == '-') {
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
    if (peek() == '.') {
        ++pos_;
        if (!is_digit(peek())) return fail(here(), "expected a digit after the decimal point");
        while (is_digit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
        ++pos_;
        if (peek() == '+' || peek() == '-') ++pos_;
        if (!is_digit(peek())) return fail(here(), "expected a digit in the exponent");
        while (is_digit(peek())) ++pos_;
    }
    if (is_word_char(peek()) || peek() == '.') return fail(here(), "unexpected " + describe_here() + " in number");
    if (!finite_in_range) return fail(start, "number is too large");
    return true;
}

bool json_parser::check_string() {
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
            if (!check_escape()) return false;
            continue;
        }
        if (c == '\n' || c == '\r') {
            return fail(start, "unterminated string (a string cannot span lines; write \\n for a line break)");
        }
        if (byte < 0x20) {
            return fail(here(), "control character " + format_code_point(byte) + " must be escaped in a string");
        }
        const std::size_t length = utf8_sequence_length(text_.substr(pos_));
        if (length == 0) return fail(here(), "invalid UTF-8 in string");
        pos_ += length;
    }
}

bool json_parser::check_escape() {
    const source_position backslash = here();
    ++pos_;
    if (at_end()) return fail(backslash, "unterminated string");
    const char c = text_[pos_];
    if (std::string_view("\"\\/bfnrt").find(c) != std::string_view::npos) {
        ++pos_;
        return true;
    }
    if (c != 'u') {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x21 && byte < 0x7f) {
            return fail(backslash, std::string("invalid escape sequence '\\") + c + "' in string");
        }
        return fail(backslash, "invalid escape sequence in string");
    }
    const auto read_hex4 = [this](std::size_t at) -> int {
        if (at + 4 > text_.size() || !std::all_of(&text_[at], &text_[at] + 4, is_hex_digit)) return -1;
        int unit = 0;
        (void)std::from_chars(&text_[at], &text_[at] + 4, unit, 16);
        return unit;
    };
    const int unit = read_hex4(pos_ + 1);
    if (unit < 0) return fail(backslash, "\\u must be followed by four hexadecimal digits");
    pos_ += 5;
    const bool high = unit >= 0xD800 && unit <= 0xDBFF;
    const int low = high && peek() == '\\' && peek_at(1) == 'u' ? read_hex4(pos_ + 2) : -1;
    if ((unit >= 0xDC00 && unit <= 0xDFFF) || (high && (low < 0xDC00 || low > 0xDFFF))) {
        return fail(backslash, "unpaired UTF-16 surrogate " + format_code_point(static_cast<std::uint32_t>(unit)) +
                                   " in \\u escape");
    }
    if (high) pos_ += 6;
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
