// Typed, validating reads over a parsed JSON file, for the scenario loader. A read
// never throws on bad input: it reports a diagnostic (file, line, column, JSON pointer)
// and returns a fallback, so one pass over a document reports every problem at once.
//
//   document_reader doc(source, diags);
//   object_reader root = doc.root();
//   auto seed = root.optional<std::uint64_t>("seed", 1);
//   for (const value_reader& item : root.array("services", {.min_items = 1})) {
//       object_reader service = item.object();
//       auto name = service.required<std::string>("name", {.non_empty = true});
//       auto replicas = service.optional<int>("replicas", 1, {.min = 1, .max = 1000});
//       auto timeout = service.optional<sim::duration>("timeout", 1s, {.min = 1ms});
//       auto jitter = service.choice("jitter", {{"none", jitter::none}, {"full", jitter::full}}, jitter::full);
//       service.finish();  // every key not read: "unknown key "retires" (did you mean "retries"?)"
//   }
//   root.finish();
//   if (!diags.empty()) -> print diags.format(), do not build the world
//
// Readers are cheap handles into the document_reader (and its json_source), which must
// outlive them. Copies of an object_reader share which keys were read.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/scenario/diagnostics.hpp"
#include "harness/scenario/json_source.hpp"
#include "sim/time.hpp"

namespace meshsim::harness {

// --- what a value must satisfy, one struct per kind; unset fields do not constrain ---

struct number_range {
    std::optional<double> min = {};
    bool min_exclusive = false;
    std::optional<double> max = {};
    bool max_exclusive = false;
};
// Also bounded by the C++ type read into: optional<int> rejects 3000000000.
struct integer_range {
    std::optional<std::int64_t> min = {};
    std::optional<std::int64_t> max = {};
};
struct duration_range {
    std::optional<sim::duration> min = {};
    std::optional<sim::duration> max = {};
};
// Every string read must be printable: no control characters (C0, DEL, C1), no
// bidirectional controls, and unless free_text no line breaks, tabs or line separators.
struct string_rules {
    bool non_empty = false;
    bool free_text = false;  // descriptions: line breaks and tabs allowed
};
struct bool_rules {};
struct array_limits {
    std::size_t min_items = 0;                  // > 0 also makes the key required
    std::optional<std::size_t> max_items = {};  // more: reported, and no element is read
};

namespace detail {
template <class T>
struct rules_of {};  // no `type`: not a type a reader can read
template <>
struct rules_of<bool> {
    using type = bool_rules;
};
template <>
struct rules_of<std::string> {
    using type = string_rules;
};
template <>
struct rules_of<double> {
    using type = number_range;
};
template <>
struct rules_of<sim::duration> {
    using type = duration_range;
};
template <class T>
requires(std::integral<T> && !std::same_as<T, bool>) struct rules_of<T> {
    using type = integer_range;
};
}  // namespace detail

// bool, std::string, double, sim::duration (from "250ms"), and integer types.
template <class T>
concept readable = requires {
    typename detail::rules_of<T>::type;
};
template <class T>
using rules_for = typename detail::rules_of<T>::type;

class value_reader;
class object_reader;
class array_reader;

// The document being validated and the diagnostics it reports to.
class document_reader {
public:
    document_reader(const json_source& source, diagnostics& out) : source_(source), out_(out) {}
    document_reader(const document_reader&) = delete;
    document_reader& operator=(const document_reader&) = delete;

    // The root, which must be an object (reported if it is not).
    object_reader root() const;
    value_reader root_value() const;

    const json_source& source() const { return source_; }
    diagnostics& out() const { return out_; }
    // Reports at the value at pointer, or at its key when at_key and it has one.
    void report(const std::string& pointer, bool at_key, std::string message) const;

private:
    const json_source& source_;
    diagnostics& out_;
};

// One value in the document, or a missing one (present() == false), or one inside a
// value already reported as wrong (reads return nothing and report nothing more).
class value_reader {
public:
    value_reader() = default;

    bool present() const { return value_ != nullptr; }
    bool is_object() const { return present() && value_->is_object(); }
    bool is_array() const { return present() && value_->is_array(); }
    bool is_string() const { return present() && value_->is_string(); }
    bool is_number() const { return present() && value_->is_number(); }
    const std::string& pointer() const { return pointer_; }
    // How messages name it: "replicas", "services[2]".
    const std::string& label() const { return label_; }
    source_position position() const;
    // The raw value, for the rare shape the typed reads do not cover; null if missing.
    const nlohmann::json* json() const { return value_; }

    // The value as T, checked against rules; nullopt if missing or reported as wrong.
    template <readable T>
    std::optional<T> read(const rules_for<T>& rules = {}) const;
    // read(), or T{} when missing or wrong.
    template <readable T>
    T as(const rules_for<T>& rules = {}) const {
        return read<T>(rules).value_or(T{});
    }
    // Index of the string value among names; a value not among them is reported with
    // the list and a "did you mean".
    std::optional<std::size_t> pick(std::span<const std::string_view> names) const;

    object_reader object() const;  // reports if present and not an object
    array_reader array(const array_limits& limits = {}) const;

    // Reports message at this value, e.g. for cross-references checked later:
    // "no service named "paymnts" (did you mean "payments"?)".
    void error(std::string message) const;

private:
    friend class document_reader;
    friend class object_reader;
    friend class array_reader;
    value_reader(const document_reader* doc, const nlohmann::json* value, std::string pointer, std::string label)
        : doc_(doc), value_(value), pointer_(std::move(pointer)), label_(std::move(label)) {}

    std::optional<bool> read_bool() const;
    std::optional<std::string> read_string(const string_rules& rules) const;
    std::optional<double> read_double(const number_range& rules) const;
    std::optional<sim::duration> read_duration(const duration_range& rules) const;
    // Integers of any C++ type go through one path; the type's limits come as lowest/highest.
    std::optional<std::int64_t> read_signed(std::int64_t lowest, std::int64_t highest,
                                            const integer_range& rules) const;
    std::optional<std::uint64_t> read_unsigned(std::uint64_t highest, const integer_range& rules) const;
    void type_error(std::string_view expected) const;

    const document_reader* doc_ = nullptr;
    const nlohmann::json* value_ = nullptr;
    std::string pointer_;
    std::string label_;
};

// An object whose members are read by key. Every key read (or asked about, or
// allowed) is known; finish() reports each member whose key is not.
class object_reader {
public:
    // True when this is an object; false when it is missing or was reported as wrong,
    // and then every read returns its fallback and reports nothing.
    bool valid() const { return state_->object != nullptr; }
    const std::string& pointer() const { return state_->pointer; }
    source_position position() const;

    // The member at key, present or not; marks key as known.
    value_reader member(std::string_view key);
    bool has(std::string_view key);
    // Keys that are allowed but not read (e.g. "description").
    void allow(std::initializer_list<std::string_view> keys);

    // Missing: reported at this object ("missing required key "name""), returns T{}.
    template <readable T>
    T required(std::string_view key, const rules_for<T>& rules = {});
    // Missing: fallback, silently. Wrong: reported, fallback.
    template <readable T>
    T optional(std::string_view key, std::type_identity_t<T> fallback, const rules_for<T>& rules = {});
    // Missing or wrong: nullopt (wrong is reported). For values with no natural default.
    template <readable T>
    std::optional<T> maybe(std::string_view key, const rules_for<T>& rules = {});

    // A string that must be one of choices.
    std::string enumeration(std::string_view key, std::initializer_list<std::string_view> choices);
    std::string enumeration(std::string_view key, std::initializer_list<std::string_view> choices,
                            std::string_view fallback);
    // The same, mapped to a value, usually an enum: choice("jitter", {{"none", jitter::none}, ...}, jitter::full).
    template <class E>
    E choice(std::string_view key, std::initializer_list<std::pair<std::string_view, std::type_identity_t<E>>> choices);
    template <class E>
    E choice(std::string_view key, std::initializer_list<std::pair<std::string_view, std::type_identity_t<E>>> choices,
             E fallback);

    // The index of the required string at key among names, for lists only known at
    // run time (a registry's); nullopt when missing (reported) or not among them.
    std::optional<std::size_t> pick(std::string_view key, std::span<const std::string_view> names);

    object_reader object(std::string_view key);  // required
    std::optional<object_reader> maybe_object(std::string_view key);
    // Missing: empty, and reported only if limits.min_items > 0.
    array_reader array(std::string_view key, const array_limits& limits = {});
    // Every member, in document order, all marked known: for maps keyed by name.
    std::vector<std::pair<std::string, value_reader>> entries();

    void error(std::string message) const;                        // at this object
    void error(std::string_view key, std::string message) const;  // at the member (or this object if missing)

    // Reports every key not known, at the key, with the closest known key as a
    // suggestion. Call once all keys are read; calling again reports nothing new.
    void finish();

private:
    friend class value_reader;
    friend class document_reader;
    struct state {
        const document_reader* doc = nullptr;
        const nlohmann::json* object = nullptr;
        std::string pointer;
        std::string label;
        std::set<std::string, std::less<>> known;
        bool finished = false;
    };
    explicit object_reader(std::shared_ptr<state> s) : state_(std::move(s)) {}
    void missing(std::string_view key) const;

    std::shared_ptr<state> state_;
};

// The elements of an array, as value_readers: for (const value_reader& item : array).
class array_reader {
public:
    class iterator {
    public:
        using value_type = value_reader;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        const value_reader& operator*() const { return current_; }
        const value_reader* operator->() const { return &current_; }
        iterator& operator++() {
            ++index_;
            load();
            return *this;
        }
        iterator operator++(int) {
            iterator before = *this;
            ++*this;
            return before;
        }
        bool operator==(const iterator& other) const { return index_ == other.index_; }

    private:
        friend class array_reader;
        iterator(const array_reader* array, std::size_t index) : array_(array), index_(index) { load(); }
        void load() {
            if (array_ != nullptr && index_ < array_->size()) current_ = (*array_)[index_];
        }
        const array_reader* array_ = nullptr;
        std::size_t index_ = 0;
        value_reader current_;
    };

    array_reader() = default;
    std::size_t size() const { return array_ == nullptr ? 0 : array_->size(); }
    bool empty() const { return size() == 0; }
    value_reader operator[](std::size_t index) const;
    iterator begin() const { return iterator(this, 0); }
    iterator end() const { return iterator(this, size()); }

private:
    friend class value_reader;
    array_reader(const document_reader* doc, const nlohmann::json* array, std::string pointer, std::string label)
        : doc_(doc), array_(array), pointer_(std::move(pointer)), label_(std::move(label)) {}

    const document_reader* doc_ = nullptr;
    const nlohmann::json* array_ = nullptr;  // null when missing or not an array: no elements
    std::string pointer_;
    std::string label_;
};

// --- templates ------------------------------------------------------------------------

template <readable T>
std::optional<T> value_reader::read(const rules_for<T>& rules) const {
    if constexpr (std::same_as<T, bool>) {
        return read_bool();
    } else if constexpr (std::same_as<T, std::string>) {
        return read_string(rules);
    } else if constexpr (std::same_as<T, double>) {
        return read_double(rules);
    } else if constexpr (std::same_as<T, sim::duration>) {
        return read_duration(rules);
    } else if constexpr (std::is_signed_v<T>) {
        const auto value = read_signed(std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max(), rules);
        if (!value) return std::nullopt;
        return static_cast<T>(*value);
    } else {
        const auto value = read_unsigned(std::numeric_limits<T>::max(), rules);
        if (!value) return std::nullopt;
        return static_cast<T>(*value);
    }
}

template <readable T>
T object_reader::required(std::string_view key, const rules_for<T>& rules) {
    const value_reader value = member(key);
    if (!value.present()) {
        missing(key);
        return T{};
    }
    return value.read<T>(rules).value_or(T{});
}

template <readable T>
T object_reader::optional(std::string_view key, std::type_identity_t<T> fallback, const rules_for<T>& rules) {
    const value_reader value = member(key);
    if (!value.present()) return fallback;
    return value.read<T>(rules).value_or(std::move(fallback));
}

template <readable T>
std::optional<T> object_reader::maybe(std::string_view key, const rules_for<T>& rules) {
    return member(key).read<T>(rules);
}

template <class E>
E object_reader::choice(std::string_view key,
                        std::initializer_list<std::pair<std::string_view, std::type_identity_t<E>>> choices) {
    value_reader value = member(key);
    if (!value.present()) {
        missing(key);
        return E{};
    }
    std::vector<std::string_view> names;
    for (const auto& entry : choices) names.push_back(entry.first);
    const auto index = value.pick(names);
    return index ? std::data(choices)[*index].second : E{};
}

template <class E>
E object_reader::choice(std::string_view key,
                        std::initializer_list<std::pair<std::string_view, std::type_identity_t<E>>> choices,
                        E fallback) {
    value_reader value = member(key);
    if (!value.present()) return fallback;
    std::vector<std::string_view> names;
    for (const auto& entry : choices) names.push_back(entry.first);
    const auto index = value.pick(names);
    return index ? std::data(choices)[*index].second : fallback;
}

}  // namespace meshsim::harness
