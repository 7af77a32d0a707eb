#include "harness/scenario/reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "harness/scenario/duration.hpp"
#include "harness/terminal_text.hpp"

namespace meshsim::harness {

namespace {

// Wide enough for every int64 and uint64, so bounds of any integer type compare exactly.
__extension__ typedef __int128 wide_int;

std::string to_text(wide_int value) {
    if (value == 0) return "0";
    const bool negative = value < 0;
    std::string digits;
    while (value != 0) {
        const int digit = static_cast<int>(value % 10);
        digits += static_cast<char>('0' + (negative ? -digit : digit));
        value /= 10;
    }
    if (negative) digits += '-';
    std::reverse(digits.begin(), digits.end());
    return digits;
}

std::string to_text(double value) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

// What a JSON value is, for "expected a number, got a string".
std::string kind_of(const nlohmann::json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::object: return "an object";
        case nlohmann::json::value_t::array: return "an array";
        case nlohmann::json::value_t::string: return "a string";
        case nlohmann::json::value_t::boolean: return "a boolean";
        case nlohmann::json::value_t::null: return "null";
        default: return "a number";
    }
}

// "in [0, 1]", "> 0", "<= 10": the allowed range, as it would appear in a message.
template <class T>
std::string describe_range(const std::optional<T>& min, bool min_exclusive, const std::optional<T>& max,
                           bool max_exclusive, std::string (*text)(T)) {
    if (min && max) {
        return std::string("in ") + (min_exclusive ? "(" : "[") + text(*min) + ", " + text(*max) +
               (max_exclusive ? ")" : "]");
    }
    if (min) return (min_exclusive ? "> " : ">= ") + text(*min);
    if (max) return (max_exclusive ? "< " : "<= ") + text(*max);
    return "valid";
}

std::string wide_text(wide_int value) { return to_text(value); }
std::string double_text(double value) { return to_text(value); }
std::string duration_text(sim::duration value) { return sim::format_duration(value); }

std::string subject(const std::string& label) { return label.empty() ? "the value" : label; }

// The first character of text that must not appear in a scenario string, described
// ("control character U+001B"), or "" when there is none. Names end up in terminal
// output and reports: a line break or an escape sequence could forge a line or drive
// the terminal, and a bidirectional override could make a name read as another.
// Free text (a description) may break lines and use tabs. The parser has checked UTF-8.
std::string first_unprintable(std::string_view text, bool free_text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto b0 = static_cast<unsigned char>(text[i]);
        // Continuation bytes belong to the character before: 0x80 to 0x9F there is not C1.
        if ((b0 & 0xC0u) == 0x80u) continue;
        // Only 2- and 3-byte sequences can encode what is refused; 4-byte ones pass.
        std::uint32_t code_point = b0;
        if (b0 >= 0xC2 && b0 <= 0xDF && i + 1 < text.size()) {
            code_point = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
        } else if (b0 >= 0xE0 && b0 <= 0xEF && i + 2 < text.size()) {
            code_point = ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(text[i + 1]) & 0x3Fu) << 6) |
                         (static_cast<unsigned char>(text[i + 2]) & 0x3Fu);
        }
        std::string_view kind = unsafe_code_point_kind(code_point);
        // Free text may break lines and use tabs.
        if (free_text && (code_point == '\n' || code_point == '\t' || kind == "line separator")) kind = {};
        if (!kind.empty()) {
            char buffer[16];
            std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(code_point));
            return std::string(kind) + " " + buffer;
        }
    }
    return "";
}

}  // namespace

// --- document_reader ------------------------------------------------------------------

void document_reader::report(const std::string& pointer, bool at_key, std::string message) const {
    std::optional<source_position> at;
    if (at_key) at = source_.key_position(pointer);
    if (!at) at = source_.value_position(pointer);
    out_.error(source_.file(), at.value_or(source_position{}), pointer, std::move(message));
}

value_reader document_reader::root_value() const { return value_reader(this, &source_.value(), "", ""); }

object_reader document_reader::root() const { return root_value().object(); }

// --- value_reader ---------------------------------------------------------------------

source_position value_reader::position() const {
    if (doc_ == nullptr) return {};
    return doc_->source().value_position(pointer_).value_or(source_position{});
}

void value_reader::error(std::string message) const {
    if (doc_ != nullptr) doc_->report(pointer_, false, std::move(message));
}

void value_reader::type_error(std::string_view expected) const {
    error("expected " + std::string(expected) + ", got " + kind_of(*value_));
}

std::optional<bool> value_reader::read_bool() const {
    if (!present()) return std::nullopt;
    if (!value_->is_boolean()) {
        type_error("true or false");
        return std::nullopt;
    }
    return value_->get<bool>();
}

std::optional<std::string> value_reader::read_string(const string_rules& rules) const {
    if (!present()) return std::nullopt;
    if (!value_->is_string()) {
        type_error("a string");
        return std::nullopt;
    }
    const auto& text = value_->get_ref<const std::string&>();
    if (rules.non_empty && text.empty()) {
        error(subject(label_) + " must not be empty");
        return std::nullopt;
    }
    if (const std::string found = first_unprintable(text, rules.free_text); !found.empty()) {
        error(subject(label_) + " contains " + found + "; names and other strings in a scenario must be printable" +
              (rules.free_text ? "" : " on one line"));
        return std::nullopt;
    }
    return text;
}

std::optional<double> value_reader::read_double(const number_range& rules) const {
    if (!present()) return std::nullopt;
    if (!value_->is_number()) {
        type_error("a number");
        return std::nullopt;
    }
    const double value = value_->get<double>();
    const bool below = rules.min && (rules.min_exclusive ? value <= *rules.min : value < *rules.min);
    const bool above = rules.max && (rules.max_exclusive ? value >= *rules.max : value > *rules.max);
    if (below || above) {
        error(subject(label_) + " must be " +
              describe_range(rules.min, rules.min_exclusive, rules.max, rules.max_exclusive, &double_text) + ", got " +
              to_text(value));
        return std::nullopt;
    }
    return value;
}

namespace {

// The integer in a JSON number, or nullopt (reported) when it is not one. Integral
// doubles (1e3) are accepted; 1e30 comes back as a value outside every type's range.
struct integer_value {
    wide_int value = 0;
    std::string text;  // as written in messages
};

std::optional<integer_value> integer_of(const nlohmann::json& json) {
    if (json.is_number_integer() && !json.is_number_unsigned()) {
        const auto value = json.get<std::int64_t>();
        return integer_value{value, to_text(wide_int{value})};
    }
    if (json.is_number_unsigned()) {
        const auto value = json.get<std::uint64_t>();
        return integer_value{value, to_text(wide_int{value})};
    }
    const double value = json.get<double>();
    if (!std::isfinite(value) || std::trunc(value) != value) return std::nullopt;
    constexpr double two_to_the_100 = 1267650600228229401496703205376.0;
    const double clamped = std::clamp(value, -two_to_the_100, two_to_the_100);
    return integer_value{static_cast<wide_int>(clamped), to_text(value)};
}

std::optional<wide_int> read_integer(const value_reader& reader, wide_int lowest, wide_int highest,
                                     const integer_range& rules) {
    const nlohmann::json& json = *reader.json();
    if (!json.is_number()) {
        reader.error("expected an integer, got " + kind_of(json));
        return std::nullopt;
    }
    const auto value = integer_of(json);
    if (!value) {
        reader.error("expected an integer, got " + to_text(json.get<double>()));
        return std::nullopt;
    }
    const bool below_type = value->value < lowest;
    const bool above_type = value->value > highest;
    const bool below = below_type || (rules.min && value->value < *rules.min);
    const bool above = above_type || (rules.max && value->value > *rules.max);
    if (below || above) {
        // Name the type's limit only when it is the one broken, or the user gave none.
        std::optional<wide_int> min;
        std::optional<wide_int> max;
        if (rules.min) min = std::max<wide_int>(*rules.min, lowest);
        if (rules.max) max = std::min<wide_int>(*rules.max, highest);
        if (below_type && !min) min = lowest;
        if (above_type && !max) max = highest;
        reader.error(subject(reader.label()) + " must be " + describe_range(min, false, max, false, &wide_text) +
                     ", got " + value->text);
        return std::nullopt;
    }
    return value->value;
}

}  // namespace

std::optional<std::int64_t> value_reader::read_signed(std::int64_t lowest, std::int64_t highest,
                                                      const integer_range& rules) const {
    if (!present()) return std::nullopt;
    const auto value = read_integer(*this, lowest, highest, rules);
    if (!value) return std::nullopt;
    return static_cast<std::int64_t>(*value);
}

std::optional<std::uint64_t> value_reader::read_unsigned(std::uint64_t highest, const integer_range& rules) const {
    if (!present()) return std::nullopt;
    const auto value = read_integer(*this, 0, highest, rules);
    if (!value) return std::nullopt;
    return static_cast<std::uint64_t>(*value);
}

std::optional<sim::duration> value_reader::read_duration(const duration_range& rules) const {
    if (!present()) return std::nullopt;
    if (value_->is_number()) {
        error("durations need a unit, e.g. \"250ms\" (and are written as strings); got " + value_->dump());
        return std::nullopt;
    }
    if (!value_->is_string()) {
        type_error("a duration like \"250ms\"");
        return std::nullopt;
    }
    const auto parsed = parse_duration(value_->get_ref<const std::string&>());
    if (!parsed.value) {
        error(parsed.error);
        return std::nullopt;
    }
    const sim::duration value = *parsed.value;
    if ((rules.min && value < *rules.min) || (rules.max && value > *rules.max)) {
        error(subject(label_) + " must be " + describe_range(rules.min, false, rules.max, false, &duration_text) +
              ", got " + sim::format_duration(value));
        return std::nullopt;
    }
    return value;
}

std::optional<std::size_t> value_reader::pick(std::span<const std::string_view> names) const {
    if (!present()) return std::nullopt;
    if (!value_->is_string()) {
        type_error("a string");
        return std::nullopt;
    }
    const auto& text = value_->get_ref<const std::string&>();
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == text) return i;
    }
    std::string message = subject(label_) + " must be one of ";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) message += i + 1 == names.size() ? " or " : ", ";
        message += quote(names[i]);
    }
    message += ", got " + quote(text);
    if (const auto suggestion = did_you_mean(text, names)) message += " (did you mean " + quote(*suggestion) + "?)";
    error(std::move(message));
    return std::nullopt;
}

object_reader value_reader::object() const {
    auto s = std::make_shared<object_reader::state>();
    s->doc = doc_;
    s->pointer = pointer_;
    s->label = label_;
    if (present()) {
        if (value_->is_object()) {
            s->object = value_;
        } else {
            type_error("an object");
        }
    }
    return object_reader(std::move(s));
}

array_reader value_reader::array(const array_limits& limits) const {
    if (!present()) return {};
    if (!value_->is_array()) {
        type_error("an array");
        return {};
    }
    const std::size_t size = value_->size();
    if (size < limits.min_items) {
        error(limits.min_items == 1 ? subject(label_) + " must not be empty"
                                    : subject(label_) + " must have at least " + std::to_string(limits.min_items) +
                                          " items, got " + std::to_string(size));
    } else if (limits.max_items && size > *limits.max_items) {
        error(subject(label_) + " must have at most " + std::to_string(*limits.max_items) + " items, got " +
              std::to_string(size));
        return {};  // the limit bounds what is read, too
    }
    return array_reader(doc_, value_, pointer_, label_);
}

// --- array_reader ---------------------------------------------------------------------

value_reader array_reader::operator[](std::size_t index) const {
    if (index >= size()) return {};
    return value_reader(doc_, &(*array_)[index], pointer_ + '/' + std::to_string(index),
                        (label_.empty() ? std::string("element") : label_) + '[' + std::to_string(index) + ']');
}

// --- object_reader --------------------------------------------------------------------

source_position object_reader::position() const {
    if (state_->doc == nullptr) return {};
    return state_->doc->source().value_position(state_->pointer).value_or(source_position{});
}

value_reader object_reader::member(std::string_view key) {
    if (!valid()) return {};
    state_->known.emplace(key);
    const auto found = state_->object->find(std::string(key));
    const nlohmann::json* value = found == state_->object->end() ? nullptr : &*found;
    return value_reader(state_->doc, value, json_pointer_append(state_->pointer, key), std::string(key));
}

bool object_reader::has(std::string_view key) { return member(key).present(); }

void object_reader::allow(std::initializer_list<std::string_view> keys) {
    for (const std::string_view key : keys) state_->known.emplace(key);
}

void object_reader::missing(std::string_view key) const {
    if (valid()) error("missing required key " + quote(key));
}

std::string object_reader::enumeration(std::string_view key, std::initializer_list<std::string_view> choices) {
    const value_reader value = member(key);
    if (!value.present()) {
        missing(key);
        return {};
    }
    const auto index = value.pick(std::span<const std::string_view>(choices.begin(), choices.size()));
    return index ? std::string(std::data(choices)[*index]) : std::string();
}

std::string object_reader::enumeration(std::string_view key, std::initializer_list<std::string_view> choices,
                                       std::string_view fallback) {
    const value_reader value = member(key);
    if (!value.present()) return std::string(fallback);
    const auto index = value.pick(std::span<const std::string_view>(choices.begin(), choices.size()));
    return std::string(index ? std::data(choices)[*index] : fallback);
}

std::optional<std::size_t> object_reader::pick(std::string_view key, std::span<const std::string_view> names) {
    const value_reader value = member(key);
    if (!value.present()) {
        missing(key);
        return std::nullopt;
    }
    return value.pick(names);
}

object_reader object_reader::object(std::string_view key) {
    const value_reader value = member(key);
    if (!value.present()) missing(key);
    return value.object();
}

std::optional<object_reader> object_reader::maybe_object(std::string_view key) {
    const value_reader value = member(key);
    if (!value.present()) return std::nullopt;
    object_reader result = value.object();
    if (!result.valid()) return std::nullopt;
    return result;
}

array_reader object_reader::array(std::string_view key, const array_limits& limits) {
    const value_reader value = member(key);
    if (!value.present()) {
        if (limits.min_items > 0) missing(key);
        return {};
    }
    return value.array(limits);
}

std::vector<std::pair<std::string, value_reader>> object_reader::entries() {
    std::vector<std::pair<std::string, value_reader>> result;
    if (!valid()) return result;
    for (const auto& [key, value] : state_->object->items()) {
        state_->known.insert(key);
        result.emplace_back(key, value_reader(state_->doc, &value, json_pointer_append(state_->pointer, key), key));
    }
    // nlohmann keeps keys sorted; the loader wants them as the file has them.
    std::stable_sort(result.begin(), result.end(), [](const auto& a, const auto& b) {
        return a.second.position().offset < b.second.position().offset;
    });
    return result;
}

void object_reader::error(std::string message) const {
    if (state_->doc != nullptr) state_->doc->report(state_->pointer, false, std::move(message));
}

void object_reader::error(std::string_view key, std::string message) const {
    if (state_->doc == nullptr) return;
    const std::string member_pointer = json_pointer_append(state_->pointer, key);
    if (valid() && state_->object->contains(std::string(key))) {
        state_->doc->report(member_pointer, false, std::move(message));
    } else {
        error(std::move(message));
    }
}

void object_reader::finish() {
    if (!valid() || state_->finished) return;
    state_->finished = true;
    const std::vector<std::string> known(state_->known.begin(), state_->known.end());
    for (const auto& [key, value] : state_->object->items()) {
        if (state_->known.contains(key)) continue;
        std::string message = "unknown key " + quote(key);
        if (const auto suggestion = did_you_mean(key, known)) message += " (did you mean " + quote(*suggestion) + "?)";
        state_->doc->report(json_pointer_append(state_->pointer, key), true, std::move(message));
    }
}

}  // namespace meshsim::harness
