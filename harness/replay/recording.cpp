#include "harness/replay/recording.hpp"

#include <charconv>

#include "sim/trace.hpp"

namespace meshsim::harness {

namespace {

std::string got(const nlohmann::json& j) {
    std::string text = j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    if (text.size() > 40) text = text.substr(0, 40) + "...";
    return text;
}

// The field KEY of J, checked by IS; false with `error` set when it is missing or not one.
template <class Check>
bool field(const nlohmann::json& j, const char* key, const char* expected, Check is, std::string& error) {
    const auto it = j.find(key);
    if (it == j.end()) {
        error = std::string(key) + ": missing";
        return false;
    }
    if (!is(*it)) {
        error = std::string(key) + ": expected " + expected + ", got " + got(*it);
        return false;
    }
    return true;
}

bool is_hash(const nlohmann::json& j) { return j.is_string() && parse_hash(j.get<std::string>()).has_value(); }

}  // namespace

std::optional<std::uint64_t> parse_hash(std::string_view text) {
    if (text.size() != 16 || text.find_first_not_of("0123456789abcdef") != std::string_view::npos) return std::nullopt;
    std::uint64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value, 16);
    return value;
}

nlohmann::json to_json(const recording& r) {
    nlohmann::json checkpoints = nlohmann::json::array();
    for (const std::uint64_t h : r.checkpoints) checkpoints.push_back(sim::format_hash(h));
    return {{"schema", recording_schema},
            {"scenario_file", r.scenario_file},
            {"scenario_hash", r.scenario_hash},
            {"seed", r.seed},
            {"until_ns", r.until_ns ? nlohmann::json(*r.until_ns) : nlohmann::json(nullptr)},
            {"set", r.set},
            {"meshsim_version", r.meshsim_version},
            {"trace_hash", r.trace_hash},
            {"events", r.events},
            {"events_level", r.events_level ? nlohmann::json(*r.events_level) : nlohmann::json(nullptr)},
            {"checkpoint_every", r.checkpoint_every},
            {"checkpoints", std::move(checkpoints)}};
}

std::optional<recording> recording_from_json(const nlohmann::json& j, std::string& error) {
    if (!j.is_object()) {
        error = "expected an object, got " + got(j);
        return std::nullopt;
    }
    const auto is_string = [](const nlohmann::json& v) { return v.is_string(); };
    const auto is_count = [](const nlohmann::json& v) { return v.is_number_unsigned(); };
    if (!field(
            j, "schema", ("\"" + std::string(recording_schema) + "\"").c_str(),
            [](const nlohmann::json& v) { return v.is_string() && v.get<std::string>() == recording_schema; }, error) ||
        !field(j, "scenario_file", "a string", is_string, error) ||
        !field(j, "scenario_hash", "16 hex digits", is_hash, error) ||
        !field(j, "seed", "a whole number from 0 to 2^64-1", is_count, error) ||
        !field(
            j, "until_ns", "null or a number of nanoseconds above 0",
            [](const nlohmann::json& v) {
                return v.is_null() || (v.is_number_integer() && !v.is_number_float() && v.get<std::int64_t>() > 0 &&
                                       (v.is_number_unsigned() ? v.get<std::uint64_t>() <= INT64_MAX : true));
            },
            error) ||
        !field(
            j, "set", "an array of \"path=value\" strings",
            [](const nlohmann::json& v) {
                if (!v.is_array()) return false;
                for (const auto& x : v) {
                    if (!x.is_string()) return false;
                }
                return true;
            },
            error) ||
        !field(j, "meshsim_version", "a string", is_string, error) ||
        !field(j, "trace_hash", "16 hex digits", is_hash, error) ||
        !field(j, "events", "a whole number", is_count, error) ||
        !field(
            j, "events_level", "null or an events level",
            [](const nlohmann::json& v) { return v.is_null() || v.is_string(); }, error) ||
        !field(
            j, "checkpoint_every", "a power of two from 1 to 2^40",
            [](const nlohmann::json& v) {
                if (!v.is_number_unsigned()) return false;
                const std::uint64_t k = v.get<std::uint64_t>();
                return k >= 1 && k <= max_checkpoint_every && (k & (k - 1)) == 0;
            },
            error) ||
        !field(
            j, "checkpoints", "an array of 16-hex-digit hashes", [](const nlohmann::json& v) { return v.is_array(); },
            error)) {
        return std::nullopt;
    }
    recording r;
    r.scenario_file = j["scenario_file"].get<std::string>();
    r.scenario_hash = j["scenario_hash"].get<std::string>();
    r.seed = j["seed"].get<std::uint64_t>();
    if (!j["until_ns"].is_null()) r.until_ns = j["until_ns"].get<std::int64_t>();
    for (const auto& s : j["set"]) r.set.push_back(s.get<std::string>());
    r.meshsim_version = j["meshsim_version"].get<std::string>();
    r.trace_hash = j["trace_hash"].get<std::string>();
    r.events = j["events"].get<std::uint64_t>();
    if (!j["events_level"].is_null()) r.events_level = j["events_level"].get<std::string>();
    r.checkpoint_every = j["checkpoint_every"].get<std::uint64_t>();
    const nlohmann::json& cps = j["checkpoints"];
    // One checkpoint per whole interval of the run: a list cut short (or padded) is corrupt.
    if (cps.size() != r.events / r.checkpoint_every) {
        error = "checkpoints: expected " + std::to_string(r.events / r.checkpoint_every) + " (one per " +
                std::to_string(r.checkpoint_every) + " of " + std::to_string(r.events) + " events), got " +
                std::to_string(cps.size()) + " (truncated or edited?)";
        return std::nullopt;
    }
    for (std::size_t i = 0; i < cps.size(); ++i) {
        const std::optional<std::uint64_t> h =
            cps[i].is_string() ? parse_hash(cps[i].get<std::string>()) : std::nullopt;
        if (!h) {
            error = "checkpoints[" + std::to_string(i) + "]: expected 16 hex digits, got " + got(cps[i]);
            return std::nullopt;
        }
        r.checkpoints.push_back(*h);
    }
    return r;
}

}  // namespace meshsim::harness
