#include "harness/chaos/set_flags.hpp"

#include <algorithm>
#include <charconv>

#include "harness/flagship.hpp"
#include "harness/terminal_text.hpp"

namespace meshsim::harness {

namespace {

std::string type_name(const nlohmann::json& v) {
    if (v.is_object()) return "an object";
    if (v.is_array()) return "an array";
    if (v.is_string()) return "a string";
    if (v.is_boolean()) return "a boolean";
    if (v.is_null()) return "null";
    return "a number";
}

std::string shown_pointer(const std::string& pointer) { return pointer.empty() ? "the root" : quote(pointer); }

// The tokens of PATH: RFC 6901 for a JSON pointer, split at '.' for a dotted path.
std::optional<std::vector<std::string>> path_tokens(std::string_view path, std::string& error) {
    std::vector<std::string> tokens;
    if (path.front() == '/') {
        std::string token;
        for (std::size_t i = 1; i <= path.size(); ++i) {
            if (i == path.size() || path[i] == '/') {
                tokens.push_back(std::move(token));
                token.clear();
            } else if (path[i] == '~') {
                if (i + 1 == path.size() || (path[i + 1] != '0' && path[i + 1] != '1')) {
                    error = "'~' in a JSON pointer must be ~0 (for '~') or ~1 (for '/')";
                    return std::nullopt;
                }
                token += path[++i] == '0' ? '~' : '/';
            } else {
                token += path[i];
            }
        }
        return tokens;
    }
    std::size_t start = 0;
    for (;;) {
        const std::size_t dot = std::min(path.find('.', start), path.size());
        if (dot == start) {
            error = "a dotted path has an empty name (a key with '.' in it needs a JSON pointer: /a.b)";
            return std::nullopt;
        }
        tokens.emplace_back(path.substr(start, dot - start));
        if (dot == path.size()) return tokens;
        start = dot + 1;
    }
}

std::optional<std::size_t> array_index(const std::string& token) {
    if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    if (token.size() > 1 && token[0] == '0') return std::nullopt;
    std::size_t index = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
    if (ec != std::errc() || end != token.data() + token.size()) return std::nullopt;
    return index;
}

// resolve_set_path, also saying how far it got (for the diagnostic's position).
std::optional<std::string> resolve(const nlohmann::json& root, std::string_view path, std::string& reached,
                                   std::string& error) {
    reached.clear();
    if (path.empty()) {
        error = "the path is empty";
        return std::nullopt;
    }
    const bool dotted = path.front() != '/';
    const std::optional<std::vector<std::string>> tokens = path_tokens(path, error);
    if (!tokens) return std::nullopt;
    const nlohmann::json* at = &root;
    for (std::size_t i = 0; i < tokens->size(); ++i) {
        const std::string& token = (*tokens)[i];
        const bool last = i + 1 == tokens->size();
        if (at->is_object()) {
            const auto found = at->find(token);
            if (last) return json_pointer_append(reached, token);  // a new key is the loader's to judge
            if (found == at->end()) {
                std::vector<std::string> keys;
                for (const auto& [key, value] : at->items()) keys.push_back(key);
                const std::optional<std::string> near = did_you_mean(token, keys);
                error = "no key " + quote(token) + " in " + shown_pointer(reached) +
                        (near ? " (did you mean " + quote(*near) + "?)" : "");
                return std::nullopt;
            }
            reached = json_pointer_append(reached, token);
            at = &*found;
        } else if (at->is_array()) {
            std::optional<std::size_t> index = array_index(token);
            if (!index && dotted) {
                std::vector<std::string> names;
                for (std::size_t k = 0; k < at->size(); ++k) {
                    const nlohmann::json& e = (*at)[k];
                    if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) continue;
                    names.push_back(e["name"].get<std::string>());
                    if (names.back() != token) continue;
                    if (index) {
                        error = "more than one element of " + shown_pointer(reached) + " is named " + quote(token) +
                                ": use its index";
                        return std::nullopt;
                    }
                    index = k;
                }
                if (!index) {
                    const std::optional<std::string> near = did_you_mean(token, names);
                    error = "no element named " + quote(token) + " in " + shown_pointer(reached) +
                            (near ? " (did you mean " + quote(*near) + "?)" : "");
                    return std::nullopt;
                }
            } else if (!index) {
                error = "expected an element index in " + shown_pointer(reached) + ", got " + quote(token);
                return std::nullopt;
            }
            if (*index >= at->size()) {
                error = shown_pointer(reached) + " has " + std::to_string(at->size()) + " elements, no element " +
                        token + " (--set changes elements, it does not add them)";
                return std::nullopt;
            }
            reached = json_pointer_append(reached, std::to_string(*index));
            at = &(*at)[*index];
        } else {
            error = shown_pointer(reached) + " is " + type_name(*at) + ", not an object or array: nothing in it to set";
            return std::nullopt;
        }
    }
    return reached;  // the last token named an array element
}

// The nearest position the text has for POINTER or one of its parents.
source_position nearest_position(const json_source& source, std::string pointer) {
    for (;;) {
        if (const std::optional<source_position> at = source.value_position(pointer)) return *at;
        if (pointer.empty()) return {};
        pointer.erase(pointer.rfind('/'));
    }
}

bool under(const std::string& pointer, const std::string& set_pointer) {
    return pointer == set_pointer || pointer.rfind(set_pointer + "/", 0) == 0;
}

// Applies FLAGS; the pointer each one set, or nullopt after reporting the problems.
std::optional<std::vector<std::string>> apply(json_source& source, const std::vector<set_flag>& flags,
                                              diagnostics& out) {
    std::vector<std::string> pointers;
    bool ok = true;
    for (const set_flag& flag : flags) {
        std::string reached, error;
        const std::optional<std::string> pointer = resolve(source.value(), flag.path, reached, error);
        if (!pointer) {
            out.error(source.file(), nearest_position(source, reached), reached,
                      "--set " + quote(flag.typed) + ": " + error);
            ok = false;
            continue;
        }
        source.value_to_edit()[nlohmann::json::json_pointer(*pointer)] = flag.value;
        pointers.push_back(*pointer);
    }
    if (!ok) return std::nullopt;
    return pointers;
}

}  // namespace

std::optional<set_flag> parse_set_flag(std::string_view typed, std::string& error) {
    const std::size_t eq = typed.find('=');
    if (eq == std::string_view::npos) {
        error = "--set: expected path=value, got " + quote(typed) + " (no '=')";
        return std::nullopt;
    }
    if (eq == 0) {
        error = "--set: expected path=value, got " + quote(typed) + " (no path before '=')";
        return std::nullopt;
    }
    set_flag flag;
    flag.typed = std::string(typed);
    flag.path = std::string(typed.substr(0, eq));
    const std::string_view text = typed.substr(eq + 1);
    flag.value = nlohmann::json::parse(text, nullptr, false);
    if (flag.value.is_discarded()) flag.value = std::string(text);
    return flag;
}

std::optional<std::string> resolve_set_path(const nlohmann::json& value, std::string_view path, std::string& error) {
    std::string reached;
    return resolve(value, path, reached, error);
}

bool apply_set_flags(json_source& source, const std::vector<set_flag>& flags, diagnostics& out) {
    return apply(source, flags, out).has_value();
}

std::string set_flag_words(const std::vector<set_flag>& flags) {
    std::string out;
    for (const set_flag& flag : flags) {
        std::string word = flag.typed;
        if (needs_printf_word(word)) {
            // Same value, escaped as JSON in ASCII (a string value stays a string).
            word = flag.path + "=" + flag.value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
        }
        out += " --set " + shell_quote(word);
    }
    return out;
}

std::optional<scenario> load_scenario_with_sets(const std::optional<std::string>& file,
                                                const std::vector<set_flag>& flags, diagnostics& out,
                                                const load_options& options) {
    std::optional<json_source> source =
        file ? load_json_file(*file, out) : parse_json(flagship_scenario_text(), "flagship", out);
    if (!source) return std::nullopt;
    if (flags.empty()) return load_scenario_source(*source, out, options);
    const std::optional<std::vector<std::string>> pointers = apply(*source, flags, out);
    if (!pointers) return std::nullopt;
    diagnostics loaded;
    std::optional<scenario> s = load_scenario_source(*source, loaded, options);
    // Say which flag made each problem, and place a problem in a new key at its parent.
    for (diagnostic d : loaded.sorted()) {
        for (std::size_t i = 0; i < flags.size(); ++i) {
            if (!under(d.pointer, (*pointers)[i])) continue;
            d.message += " (set by --set " + quote(flags[i].typed) + ")";
            break;
        }
        if (d.line == 0 && !d.pointer.empty()) {
            const source_position at = nearest_position(*source, d.pointer);
            d.line = at.line;
            d.column = at.column;
        }
        out.add(std::move(d));
    }
    return s;
}

}  // namespace meshsim::harness
