// `--set path=value` on `meshsim run` and `meshsim sweep`: one scenario, many variants,
// no copied files. Each flag changes the scenario's JSON before it is loaded, so the
// result is validated exactly as a file is (errors located, exit 2). Paths are JSON
// pointers (/services/0/timeout) or dotted paths (services.api.timeout), where an
// array element is named by its index or by its "name" key; values are JSON, or a
// string when the text is not JSON. docs/chaos.md has the rules and examples.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/scenario/diagnostics.hpp"
#include "harness/scenario/json_source.hpp"
#include "harness/scenario/loader.hpp"

namespace meshsim::harness {

struct set_flag {
    std::string typed;     // "path=value", as typed
    std::string path;      // before the first '='
    nlohmann::json value;  // after it: parsed as JSON, else the text as a string
};

// nullopt with `error` set when TYPED has no '=' or an empty path.
std::optional<set_flag> parse_set_flag(std::string_view typed, std::string& error);

// The JSON pointer PATH names in VALUE (dotted paths resolved; the last token may be
// a new key of an existing object). nullopt with `error` set when it names nothing
// that can be set: an unknown key or element on the way, a path into a non-object.
std::optional<std::string> resolve_set_path(const nlohmann::json& value, std::string_view path, std::string& error);

// Applies FLAGS in order to SOURCE's value. Each problem is a diagnostic at the
// nearest value the file has; false if there was any.
bool apply_set_flags(json_source& source, const std::vector<set_flag>& flags, diagnostics& out);

// " --set 'path=value'" for each flag, as a POSIX shell reads them (a flag that would
// not print on one line is written in its JSON pointer form with the value as
// escaped JSON, which means the same).
std::string set_flag_words(const std::vector<set_flag>& flags);

// FILE (nullopt: the built-in flagship) with FLAGS applied, loaded and validated;
// problems a flag caused say which flag.
std::optional<scenario> load_scenario_with_sets(const std::optional<std::string>& file,
                                                const std::vector<set_flag>& flags, diagnostics& out,
                                                const load_options& options = {});

}  // namespace meshsim::harness
