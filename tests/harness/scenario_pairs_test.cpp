// The paired scenario catalogue (scenarios/pairs.json, issue 13): every entry's file
// with the practice passes and its file without it fails, in every seed of 1..5, and
// the figure the pair is about (read from summary.json) differs by the entry's margin
// in every one of them. Every *_fails.json of scenarios/ has its partner and an entry,
// so no pair is skipped; a malformed entry (a missing file, a pointer summary.json
// does not have) is an error that names it, never a pass.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim::harness;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// What a pair is about: one number of summary.json, the ratio of two, or the largest
// `field` over an array (a series).
struct figure_spec {
    std::string label;
    std::string pointer;      // "pointer", or the numerator of "ratio", or the array of "max_of"
    std::string denominator;  // "ratio" only
    std::string field;        // "max_of" only
    enum class kind { pointer, ratio, max_of } how = kind::pointer;
};

struct pair_entry {
    std::string name;
    std::string practice;
    std::string with;     // file name in scenarios/
    std::string without;  // file name in scenarios/, always *_fails.json
    figure_spec figure;
    bool lower_with = true;  // direction: the figure is lower with the practice
    bool margin_is_ratio = false;
    double margin = 0;
};

constexpr int first_seed = 1;
constexpr int last_seed = 5;

// A plain file name of dir: no path, no traversal, and the file exists.
bool names_a_file(const std::string& name, const fs::path& dir) {
    if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos) return false;
    if (name == "." || name == "..") return false;
    return fs::is_regular_file(dir / name);
}

bool valid_pointer(const std::string& text) {
    if (text.empty() || text.front() != '/') return false;
    try {
        (void)json::json_pointer(text);
        return true;
    } catch (const json::exception&) {
        return false;
    }
}

// Reads pairs.json; every problem is appended to errors as "pairs[i] (name): what".
std::vector<pair_entry> read_pairs(const json& doc, const fs::path& dir, std::vector<std::string>& errors) {
    std::vector<pair_entry> entries;
    if (!doc.is_object() || !doc.contains("pairs") || !doc["pairs"].is_array() || doc["pairs"].empty()) {
        errors.push_back("pairs.json: needs a non-empty array \"pairs\"");
        return entries;
    }
    for (const auto& [key, value] : doc.items()) {
        if (key != "pairs" && key != "description") errors.push_back("pairs.json: unknown key \"" + key + "\"");
    }
    std::set<std::string> names;
    const json& list = doc["pairs"];
    for (std::size_t i = 0; i < list.size(); ++i) {
        const json& item = list[i];
        std::string where = "pairs[" + std::to_string(i) + "]";
        const auto bad = [&](const std::string& what) { errors.push_back(where + ": " + what); };
        if (!item.is_object()) {
            bad("must be an object");
            continue;
        }
        for (const auto& [key, value] : item.items()) {
            static const std::set<std::string> known{"name",   "practice",  "with",   "without",
                                                     "figure", "direction", "margin", "issue_pair"};
            if (!known.contains(key)) bad("unknown key \"" + key + "\"");
        }
        const auto text = [&](const json& object, const char* key) -> std::optional<std::string> {
            if (!object.contains(key)) return std::nullopt;
            if (!object[key].is_string() || object[key].get<std::string>().empty()) {
                bad(std::string("\"") + key + "\" must be a non-empty string");
                return std::nullopt;
            }
            return object[key].get<std::string>();
        };
        pair_entry e;
        const auto name = text(item, "name");
        if (!name) {
            bad("needs a \"name\"");
            continue;
        }
        e.name = *name;
        where += " (" + e.name + ")";
        if (!std::all_of(e.name.begin(), e.name.end(),
                         [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }))
            bad("name must be lower-case letters, digits and _");
        if (!names.insert(e.name).second) bad("duplicate name");
        e.practice = text(item, "practice").value_or("");
        if (e.practice.empty()) bad("needs a \"practice\"");
        e.with = text(item, "with").value_or(e.name + ".json");
        e.without = text(item, "without").value_or(e.name + "_fails.json");
        for (const std::string* file : {&e.with, &e.without}) {
            if (!names_a_file(*file, dir)) bad("names no file of scenarios/: \"" + *file + "\"");
        }
        if (!e.without.ends_with("_fails.json")) bad("\"without\" must be a *_fails.json file: " + e.without);
        if (e.with.ends_with("_fails.json")) bad("\"with\" must not be a *_fails.json file: " + e.with);
        if (e.with == e.without) bad("\"with\" and \"without\" are the same file");

        const json figure = item.value("figure", json());
        if (!figure.is_object()) {
            bad("needs a \"figure\" object");
        } else {
            e.figure.label = text(figure, "label").value_or("");
            if (e.figure.label.empty()) bad("figure needs a \"label\"");
            const int forms =
                int(figure.contains("pointer")) + int(figure.contains("ratio")) + int(figure.contains("max_of"));
            if (forms != 1) bad("figure needs exactly one of \"pointer\", \"ratio\", \"max_of\"");
            for (const auto& [key, value] : figure.items()) {
                if (key != "label" && key != "pointer" && key != "ratio" && key != "max_of" && key != "field")
                    bad("figure: unknown key \"" + key + "\"");
            }
            if (figure.contains("ratio")) {
                e.figure.how = figure_spec::kind::ratio;
                const json& r = figure["ratio"];
                if (!r.is_array() || r.size() != 2 || !r[0].is_string() || !r[1].is_string()) {
                    bad("figure \"ratio\" must be [numerator pointer, denominator pointer]");
                } else {
                    e.figure.pointer = r[0].get<std::string>();
                    e.figure.denominator = r[1].get<std::string>();
                }
            } else if (figure.contains("max_of")) {
                e.figure.how = figure_spec::kind::max_of;
                e.figure.pointer = text(figure, "max_of").value_or("");
                e.figure.field = text(figure, "field").value_or("");
                if (e.figure.field.empty()) bad("figure \"max_of\" needs a \"field\"");
            } else if (figure.contains("pointer")) {
                e.figure.pointer = text(figure, "pointer").value_or("");
            }
            if (figure.contains("field") && e.figure.how != figure_spec::kind::max_of)
                bad("figure \"field\" goes with \"max_of\" only");
            for (const std::string* p : {&e.figure.pointer, &e.figure.denominator}) {
                if (p == &e.figure.denominator && e.figure.how != figure_spec::kind::ratio) continue;
                if (!valid_pointer(*p)) bad("figure: not a JSON pointer: \"" + *p + "\"");
            }
        }

        const std::string direction = text(item, "direction").value_or("");
        if (direction != "with_lower" && direction != "with_higher")
            bad("\"direction\" must be \"with_lower\" or \"with_higher\"");
        e.lower_with = direction == "with_lower";

        const json margin = item.value("margin", json());
        if (!margin.is_object() || margin.size() != 1 || !(margin.contains("difference") || margin.contains("ratio"))) {
            bad("\"margin\" must be {\"difference\": d} or {\"ratio\": r}");
        } else {
            e.margin_is_ratio = margin.contains("ratio");
            const json& m = margin.begin().value();
            if (!m.is_number() || !std::isfinite(m.get<double>())) {
                bad("margin must be a finite number");
            } else {
                e.margin = m.get<double>();
                // A margin that every pair of values meets would make the test vacuous.
                if (e.margin_is_ratio && !(e.margin > 1)) bad("margin ratio must be above 1");
                if (!e.margin_is_ratio && !(e.margin > 0)) bad("margin difference must be above 0");
            }
        }
        entries.push_back(std::move(e));
    }
    return entries;
}

std::optional<double> number_at(const json& summary, const std::string& pointer, std::string& error) {
    try {
        const json& v = summary.at(json::json_pointer(pointer));
        if (!v.is_number()) {
            error = "summary.json " + pointer + " is not a number: " + v.dump();
            return std::nullopt;
        }
        return v.get<double>();
    } catch (const json::exception&) {
        error = "summary.json has no " + pointer;
        return std::nullopt;
    }
}

// The figure in one run's summary, or nullopt with the reason in error.
std::optional<double> figure_value(const json& summary, const figure_spec& f, std::string& error) {
    switch (f.how) {
        case figure_spec::kind::pointer: return number_at(summary, f.pointer, error);
        case figure_spec::kind::ratio: {
            const auto top = number_at(summary, f.pointer, error);
            const auto bottom = top ? number_at(summary, f.denominator, error) : std::nullopt;
            if (!top || !bottom) return std::nullopt;
            if (*bottom == 0) {
                error = "summary.json " + f.denominator + " is 0 (the ratio's denominator)";
                return std::nullopt;
            }
            return *top / *bottom;
        }
        case figure_spec::kind::max_of: {
            const json* array = nullptr;
            try {
                array = &summary.at(json::json_pointer(f.pointer));
            } catch (const json::exception&) {
                error = "summary.json has no " + f.pointer;
                return std::nullopt;
            }
            if (!array->is_array() || array->empty()) {
                error = "summary.json " + f.pointer + " is not a non-empty array";
                return std::nullopt;
            }
            std::optional<double> best;
            for (std::size_t i = 0; i < array->size(); ++i) {
                const auto v = number_at(summary, f.pointer + "/" + std::to_string(i) + "/" + f.field, error);
                if (!v) return std::nullopt;
                best = best ? std::max(*best, *v) : *v;
            }
            return best;
        }
    }
    return std::nullopt;
}

// Whether the values with and without the practice differ by the entry's margin, the
// right way round.
bool meets_margin(const pair_entry& e, double with, double without) {
    const double better = e.lower_with ? with : without;  // the smaller one, when the entry holds
    const double worse = e.lower_with ? without : with;
    if (e.margin_is_ratio) return better > 0 && worse >= e.margin * better;
    return worse - better >= e.margin;
}

fs::path scenarios_dir() { return fs::path(MESHSIM_SOURCE_DIR) / "scenarios"; }

json read_json(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    return json::parse(in);
}

std::vector<pair_entry> catalogue() {
    std::vector<std::string> errors;
    auto entries = read_pairs(read_json(scenarios_dir() / "pairs.json"), scenarios_dir(), errors);
    INFO([&] {
        std::string all;
        for (const auto& e : errors) all += e + "\n";
        return all;
    }());
    REQUIRE(errors.empty());
    REQUIRE_FALSE(entries.empty());
    return entries;
}

struct one_run {
    json summary;
    bool passed = false;
};

one_run run_file(const std::string& file, int seed) {
    diagnostics out;
    auto s = load_scenario_file(scenarios_dir() / file, out);
    INFO(file << ": " << out.format());
    REQUIRE(s);
    run_options options;
    options.seed = static_cast<std::uint64_t>(seed);
    options.keep_events = false;
    run_result r = run_scenario(std::move(*s), options);
    REQUIRE(r.setup_errors.empty());
    return {std::move(r.summary), r.passed};
}

// Runs the entries [first, last) of the catalogue (split so ctest runs slices side by side).
void check_entries(std::size_t first, std::size_t last) {
    const auto entries = catalogue();
    last = std::min(last, entries.size());
    for (std::size_t i = first; i < last; ++i) {
        const pair_entry& e = entries[i];
        for (int seed = first_seed; seed <= last_seed; ++seed) {
            INFO(e.name << " (" << e.with << " vs " << e.without << "), seed " << seed << ": " << e.figure.label);
            const one_run with = run_file(e.with, seed);
            const one_run without = run_file(e.without, seed);
            INFO("checks with: " << with.summary["checks"].dump());
            INFO("checks without: " << without.summary["checks"].dump());
            CHECK(with.passed);
            CHECK_FALSE(without.passed);
            std::string error;
            const auto a = figure_value(with.summary, e.figure, error);
            INFO(error);
            REQUIRE(a);
            const auto b = figure_value(without.summary, e.figure, error);
            INFO(error);
            REQUIRE(b);
            INFO("figure with " << *a << ", without " << *b << "; margin "
                                << (e.margin_is_ratio ? "ratio " : "difference ") << e.margin
                                << (e.lower_with ? ", lower with the practice" : ", higher with the practice"));
            CHECK(meets_margin(e, *a, *b));
        }
    }
}

constexpr std::size_t slice = 8;
// The slices cover this many entries; a longer catalogue needs another test case.
constexpr std::size_t max_entries = 99;

}  // namespace

TEST_CASE("catalogue pairs 1-8 hold over seeds 1..5", "[harness][pairs][slow]") { check_entries(0, slice); }
TEST_CASE("catalogue pairs 9-16 hold over seeds 1..5", "[harness][pairs][slow]") { check_entries(slice, 2 * slice); }
TEST_CASE("catalogue pairs 17-24 hold over seeds 1..5", "[harness][pairs][slow]") {
    check_entries(2 * slice, 3 * slice);
}
TEST_CASE("catalogue pairs 25-99 hold over seeds 1..5", "[harness][pairs][slow]") {
    check_entries(3 * slice, max_entries);
}

TEST_CASE("every _fails scenario has its partner and a catalogue entry", "[harness][pairs]") {
    const auto entries = catalogue();
    std::set<std::string> withs, withouts;
    for (const auto& e : entries) {
        withs.insert(e.with);
        withouts.insert(e.without);
    }
    std::size_t fails_files = 0;
    for (const auto& file : fs::directory_iterator(scenarios_dir())) {
        const std::string name = file.path().filename().string();
        if (!name.ends_with("_fails.json")) continue;
        ++fails_files;
        INFO(name);
        CHECK(withouts.contains(name));
        // Its partner: the file of the entry that names it, and that file exists.
        bool partnered = false;
        for (const auto& e : entries) {
            if (e.without == name) partnered = partnered || fs::is_regular_file(scenarios_dir() / e.with);
        }
        CHECK(partnered);
    }
    // Not vacuous: the catalogue has the pairs of issue 13 and more.
    CHECK(fails_files >= 20);
    CHECK(entries.size() >= fails_files);
    CHECK(entries.size() <= max_entries);
    // Nothing in the catalogue is a file without its own *_fails twin's convention.
    for (const auto& w : withs) CHECK_FALSE(w.ends_with("_fails.json"));
}

TEST_CASE("a malformed catalogue entry is an error that names it", "[harness][pairs][bad]") {
    const fs::path dir = scenarios_dir();
    const json good = {{"name", "outbox"},
                       {"practice", "p"},
                       {"figure", {{"label", "l"}, {"pointer", "/workloads/shoppers/outcomes/ok"}}},
                       {"direction", "with_lower"},
                       {"margin", {{"difference", 1}}}};
    const auto with_change = [&](const std::string& key, const json& value) {
        json e = good;
        if (value.is_null())
            e.erase(key);
        else
            e[key] = value;
        return json{{"pairs", json::array({e})}};
    };
    struct bad_case {
        const char* what;
        json doc;
        const char* says;
    };
    const std::vector<bad_case> cases{
        {"not an object", json::array(), "non-empty array \"pairs\""},
        {"no pairs", json::object(), "non-empty array \"pairs\""},
        {"empty pairs", json{{"pairs", json::array()}}, "non-empty array \"pairs\""},
        {"unknown top key", json{{"pairs", json::array({good})}, {"pears", 1}}, "unknown key \"pears\""},
        {"entry not an object", json{{"pairs", json::array({1})}}, "must be an object"},
        {"no name", with_change("name", nullptr), "needs a \"name\""},
        {"name of wrong type", with_change("name", 7), "\"name\" must be a non-empty string"},
        {"hostile name", with_change("name", "x\u001b[2J"), "lower-case letters"},
        {"missing with file", with_change("name", "no_such_pair"),
         "names no file of scenarios/: \"no_such_pair.json\""},
        {"missing without file", with_change("without", "nope_fails.json"), "\"nope_fails.json\""},
        {"path traversal", with_change("with", "../README.md"), "names no file of scenarios/: \"../README.md\""},
        {"without not a _fails file", with_change("without", "outbox.json"), "must be a *_fails.json file"},
        {"no practice", with_change("practice", nullptr), "needs a \"practice\""},
        {"unknown key", with_change("pratice", "x"), "unknown key \"pratice\""},
        {"no figure", with_change("figure", nullptr), "needs a \"figure\" object"},
        {"two figure forms", with_change("figure", {{"label", "l"}, {"pointer", "/a"}, {"max_of", "/b"}}),
         "exactly one of"},
        {"not a pointer", with_change("figure", {{"label", "l"}, {"pointer", "workloads"}}), "not a JSON pointer"},
        {"bad escape", with_change("figure", {{"label", "l"}, {"pointer", "/a~2"}}), "not a JSON pointer"},
        {"ratio of one", with_change("figure", {{"label", "l"}, {"ratio", {"/a"}}}), "[numerator pointer"},
        {"max_of without field", with_change("figure", {{"label", "l"}, {"max_of", "/a"}}), "needs a \"field\""},
        {"no label", with_change("figure", {{"pointer", "/a"}}), "needs a \"label\""},
        {"bad direction", with_change("direction", "better"), "\"direction\" must be"},
        {"margin of zero", with_change("margin", {{"difference", 0}}), "above 0"},
        {"margin ratio of one", with_change("margin", {{"ratio", 1}}), "above 1"},
        {"margin not a number", with_change("margin", {{"ratio", "2"}}), "finite number"},
        {"two margins", with_change("margin", {{"ratio", 2}, {"difference", 1}}), "\"margin\" must be"},
        {"duplicate names", json{{"pairs", json::array({good, good})}}, "duplicate name"},
    };
    for (const auto& c : cases) {
        INFO(c.what << ": " << c.doc.dump());
        std::vector<std::string> errors;
        (void)read_pairs(c.doc, dir, errors);
        std::string all;
        for (const auto& e : errors) all += e + "\n";
        INFO(all);
        CHECK(all.find(c.says) != std::string::npos);
    }
    std::vector<std::string> errors;
    CHECK(read_pairs(json{{"pairs", json::array({good})}}, dir, errors).size() == 1);
    CHECK(errors.empty());
}

TEST_CASE("a figure summary.json does not have fails loudly instead of passing", "[harness][pairs][bad]") {
    const one_run r = run_file("basic.json", 1);
    std::string error;
    figure_spec f;
    f.label = "l";
    f.pointer = "/workloads/nobody/outcomes/ok";
    CHECK_FALSE(figure_value(r.summary, f, error));
    CHECK(error == "summary.json has no /workloads/nobody/outcomes/ok");
    f.pointer = "/scenario";  // a string, not a number
    CHECK_FALSE(figure_value(r.summary, f, error));
    CHECK(error.find("is not a number") != std::string::npos);
    f.how = figure_spec::kind::ratio;
    f.pointer = "/services/api/queue_depth_max";  // a number; the denominator is missing
    f.denominator = "/workloads/nobody/outcomes/total";
    CHECK_FALSE(figure_value(r.summary, f, error));
    CHECK(error == "summary.json has no /workloads/nobody/outcomes/total");
    f.how = figure_spec::kind::max_of;
    f.pointer = "/edges";
    f.field = "arrivals";
    error.clear();
    const auto edges = figure_value(r.summary, f, error);
    CHECK_FALSE(edges);  // basic.json has no call edges: an empty array is no figure
    CHECK(error.find("not a non-empty array") != std::string::npos);
    // And a figure that exists is read exactly.
    f.how = figure_spec::kind::pointer;
    f.pointer = "/seed";
    error.clear();
    CHECK(figure_value(r.summary, f, error) == 1.0);
    // The margin is one-sided: the right difference the wrong way round fails.
    pair_entry e;
    e.lower_with = true;
    e.margin = 0.1;
    CHECK(meets_margin(e, 0.0, 0.1));
    CHECK_FALSE(meets_margin(e, 0.1, 0.0));
    CHECK_FALSE(meets_margin(e, 0.0, 0.05));
    e.margin_is_ratio = true;
    e.margin = 3;
    CHECK(meets_margin(e, 10, 30));
    CHECK_FALSE(meets_margin(e, 0, 30));  // a ratio to zero proves nothing
    CHECK_FALSE(meets_margin(e, 30, 10));
    e.lower_with = false;
    CHECK(meets_margin(e, 30, 10));
}
