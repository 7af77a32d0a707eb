#include "harness/replay/replay.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/chaos/set_flags.hpp"
#include "harness/cli.hpp"
#include "harness/replay/recording.hpp"
#include "harness/runner.hpp"
#include "harness/terminal_text.hpp"
#include "meshsim_version.hpp"
#include "reports/events_jsonl.hpp"

namespace meshsim::harness {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_shown_events = 40;

// What replay reads: the recording, the scenario it names, and events.jsonl if any.
struct replay_input {
    recording rec;
    std::optional<fs::path> scenario;  // nullopt: the built-in flagship
    std::optional<fs::path> events;    // the recording's events.jsonl
    std::string where;                 // the file the recording came from, for messages
};

std::optional<nlohmann::json> read_json(const fs::path& file, std::string& error) {
    std::error_code ec;
    if (fs::is_directory(file, ec)) {
        error = "is a directory";
        return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
        error = "cannot read it";
        return std::nullopt;
    }
    nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
    if (j.is_discarded()) {
        error = "not JSON (truncated or corrupt?)";
        return std::nullopt;
    }
    return j;
}

std::optional<replay_input> read_input(const std::string& target, int& rc) {
    rc = exit_bad_input;
    const auto fail = [&](const std::string& message) {
        bad_input("replay " + target + ": " + message);
        return std::nullopt;
    };
    std::error_code ec;
    fs::path file(target);
    if (!fs::exists(fs::symlink_status(file, ec)) || !fs::exists(file, ec)) return fail("no such file or directory");
    if (fs::is_directory(file, ec)) {
        file /= "summary.json";
        if (!fs::exists(file, ec)) return fail("no summary.json (not the --out directory of a finished run)");
    }
    std::string error;
    const std::optional<nlohmann::json> j = read_json(file, error);
    if (!j) return fail(file.string() + ": " + error);
    if (!j->is_object()) return fail(file.string() + ": not a summary.json, a recording or a scenario file");
    replay_input in;
    in.where = file.string();
    nlohmann::json rec_json;
    fs::path base;  // a relative scenario file is relative to this ("": where meshsim runs)
    const auto schema = j->find("schema");
    if (schema != j->end() && schema->is_string() && schema->get<std::string>().rfind("meshsim.summary/", 0) == 0) {
        if (!j->contains("recording")) {
            return fail(file.string() +
                        " has no \"recording\" (written by an older meshsim, or by --format json): run the scenario "
                        "again with `meshsim run` to record it");
        }
        rec_json = (*j)["recording"];
        const fs::path events =
            file.parent_path().empty() ? fs::path("events.jsonl") : file.parent_path() / "events.jsonl";
        if (fs::is_regular_file(events, ec)) in.events = events;
    } else if (schema != j->end()) {
        if (!schema->is_string() || schema->get<std::string>() != recording_schema) {
            return fail(file.string() + ": schema " +
                        schema->dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) +
                        " is neither a meshsim summary nor a recording (" + std::string(recording_schema) + ")");
        }
        rec_json = *j;
        base = file.parent_path();
    } else {
        // A scenario file: its recording is the sidecar beside it.
        const fs::path sidecar = recording_beside(file);
        if (!fs::exists(sidecar, ec)) {
            return fail("a scenario file with no recording beside it (" + sidecar.string() +
                        "; meshsim chaos writes one beside each chaos-N.json). To record a run: meshsim run FILE "
                        "--out DIR, then meshsim replay DIR");
        }
        const std::optional<nlohmann::json> s = read_json(sidecar, error);
        if (!s) return fail(sidecar.string() + ": " + error);
        rec_json = *s;
        base = sidecar.parent_path();
        in.where = sidecar.string();
    }
    std::optional<recording> rec = recording_from_json(rec_json, error);
    if (!rec) return fail(in.where + ": recording: " + error);
    in.rec = std::move(*rec);
    if (in.rec.events_level && !report::parse_event_level(*in.rec.events_level)) {
        return fail(in.where + ": recording: events_level: expected one of " + std::string(report::event_level_names) +
                    ", got " + shown(*in.rec.events_level));
    }
    if (in.rec.scenario_file == "-")
        return fail("the recorded run read its scenario from standard input: nothing to re-run");
    if (!in.rec.scenario_file.empty()) {
        fs::path scenario(in.rec.scenario_file);
        if (scenario.is_relative() && !base.empty()) scenario = base / scenario;
        if (!fs::exists(scenario, ec)) {
            return fail("the scenario file " + scenario.string() +
                        " no longer exists (a relative name is relative to the directory meshsim ran in)");
        }
        in.scenario = scenario;
    }
    rc = exit_pass;
    return in;
}

struct replayed_event {
    std::uint64_t number;  // in the trace, from 1
    sim::event_kind kind;
    std::string line;  // as events.jsonl has it, without the newline
};

// The events numbered FIRST..LAST of another run of S, and how many events of the kinds
// LEVEL writes came before FIRST.
std::vector<replayed_event> events_of_interval(const scenario& s, run_options options, std::uint64_t first,
                                               std::uint64_t last, std::optional<report::event_level> level,
                                               std::uint64_t& written_before) {
    std::vector<replayed_event> out;
    std::uint64_t number = 0;
    written_before = 0;
    options.checkpoint_every = 0;
    options.on_event = [&](const sim::trace_event& e, const std::string* node) {
        ++number;
        if (number < first) {
            if (level && report::is_written(e.kind, *level)) ++written_before;
        } else if (number <= last) {
            std::string line = report::event_line(e, node);
            line.pop_back();
            out.push_back({number, e.kind, std::move(line)});
        }
    };
    options.event_kinds = sim::every_event_kind;
    options.stop_requested = [&] { return number > last; };
    run_scenario(s, options);
    return out;
}

std::string keys_that_differ(const std::string& a, const std::string& b) {
    const nlohmann::json x = nlohmann::json::parse(a, nullptr, false);
    const nlohmann::json y = nlohmann::json::parse(b, nullptr, false);
    if (!x.is_object() || !y.is_object()) return "";
    std::string keys;
    for (const auto& [k, v] : x.items()) {
        if (!y.contains(k) || y[k] != v) keys += (keys.empty() ? "" : ", ") + k;
    }
    for (const auto& [k, v] : y.items()) {
        if (!x.contains(k)) keys += (keys.empty() ? "" : ", ") + k;
    }
    return keys;
}

std::string describe(const std::string& line) {
    const nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
    if (!e.is_object()) return "";
    const auto text = [&](const char* key) {
        return e.contains(key) ? (e[key].is_string() ? e[key].get<std::string>() : e[key].dump()) : std::string("?");
    };
    return "t=" + text("t") + " (t_ns=" + text("t_ns") + ") " + text("kind") + " on " + text("node");
}

void print_events(const std::vector<replayed_event>& events) {
    for (std::size_t i = 0; i < events.size() && i < max_shown_events; ++i) {
        std::printf("  #%llu %s\n", static_cast<unsigned long long>(events[i].number),
                    printable(events[i].line).c_str());
    }
    if (events.size() > max_shown_events) std::printf("  ... %zu more\n", events.size() - max_shown_events);
}

// Compares the replayed events of the interval with the recording's events.jsonl; prints
// the first that differs. false when the lines of the interval all agree.
bool print_first_difference(const fs::path& file, report::event_level level, std::uint64_t written_before,
                            const std::vector<replayed_event>& events) {
    std::ifstream in(file, std::ios::binary);
    std::string line;
    std::uint64_t line_number = 0;
    while (line_number < written_before && std::getline(in, line)) ++line_number;
    for (const replayed_event& e : events) {
        if (!report::is_written(e.kind, level)) continue;
        const bool have = static_cast<bool>(std::getline(in, line));
        ++line_number;
        if (have && line == e.line) continue;
        std::printf("first divergent event: #%llu of the replay (line %llu of %s): %s\n",
                    static_cast<unsigned long long>(e.number), static_cast<unsigned long long>(line_number),
                    printable(file.string()).c_str(), printable(describe(e.line)).c_str());
        if (have) {
            const std::string keys = keys_that_differ(line, e.line);
            if (!keys.empty()) std::printf("  fields that differ: %s\n", printable(keys).c_str());
        }
        std::printf("  recorded: %s\n", have ? printable(line).c_str() : "(none: events.jsonl ends here)");
        std::printf("  replayed: %s\n", printable(e.line).c_str());
        return true;
    }
    if (std::getline(in, line) && events.size() > 0) {
        // The replay's interval ended (the run did) where the recording goes on.
        std::printf("first divergent event: line %llu of %s: %s\n", static_cast<unsigned long long>(line_number + 1),
                    printable(file.string()).c_str(), printable(describe(line)).c_str());
        std::printf("  recorded: %s\n  replayed: (none: the replay has no more events)\n", printable(line).c_str());
        return true;
    }
    return false;
}

}  // namespace

fs::path recording_beside(const fs::path& scenario_file) {
    fs::path p = scenario_file;
    p.replace_extension();
    return p.string() + ".replay.json";
}

std::optional<recording> record_run(const fs::path& file, std::uint64_t seed, std::string& error) {
    diagnostics diags;
    const std::optional<scenario> s = load_scenario_file(file, diags);
    if (!s) {
        error = file.string() + ": does not load: " + diags.format();
        return std::nullopt;
    }
    run_options options;
    options.seed = seed;
    options.keep_events = false;
    options.checkpoint_every = default_checkpoint_every;
    const run_result r = run_scenario(*s, options);
    if (!r.setup_errors.empty() || !r.summary.contains("recording")) {
        error = file.string() + ": does not run: " + (r.setup_errors.empty() ? "" : r.setup_errors.front());
        return std::nullopt;
    }
    std::optional<recording> rec = recording_from_json(r.summary["recording"], error);
    if (rec) rec->scenario_file = file.filename().string();
    return rec;
}

int replay_command(const replay_args& args) {
    if (args.target.empty()) return bad_input("replay: expected a run's --out directory or a recording, got \"\"");
    int rc = exit_pass;
    const std::optional<replay_input> in = read_input(args.target, rc);
    if (!in) return rc;
    const recording& rec = in->rec;
    const bool other_version = rec.meshsim_version != meshsim::version;
    if (other_version && !args.any_version) {
        return bad_input("replay " + args.target + ": recorded by meshsim " + rec.meshsim_version +
                         ", this is meshsim " + meshsim::version +
                         " (traces may differ between versions; --any-version replays anyway)");
    }
    std::vector<set_flag> sets;
    for (const std::string& typed : rec.set) {
        std::string error;
        const std::optional<set_flag> flag = parse_set_flag(typed, error);
        if (!flag) return bad_input("replay " + in->where + ": recording: set: " + error);
        sets.push_back(*flag);
    }
    run_options options;
    options.seed = rec.seed;
    if (rec.until_ns) options.until = sim::duration(*rec.until_ns);
    options.keep_events = false;
    options.checkpoint_every = rec.checkpoint_every;
    options.set_typed = rec.set;
    diagnostics diags;
    const std::optional<std::string> file =
        in->scenario ? std::optional<std::string>(in->scenario->string()) : std::nullopt;
    const std::optional<scenario> s = load_scenario_with_sets(file, sets, diags, load_options{options.until});
    if (!diags.empty()) std::cerr << printable_lines(diags.format());
    if (!s) {
        return bad_input("replay " + args.target + ": the recorded scenario no longer loads (the file has changed " +
                         "since the recording?)");
    }
    const std::string scenario_hash = sim::format_hash(s->source_hash);
    const bool changed = scenario_hash != rec.scenario_hash;
    run_result r = run_scenario(*s, options);
    if (!r.setup_errors.empty()) {
        for (const auto& e : r.setup_errors) std::cerr << "meshsim: error: " << printable(e) << "\n";
        return exit_bad_input;
    }
    // As the run recorded itself: at its end, before its fibers were unwound.
    std::string error;
    const std::optional<recording> replayed =
        r.summary.contains("recording") ? recording_from_json(r.summary["recording"], error) : std::nullopt;
    if (!replayed) throw std::logic_error("replay: the run did not record itself: " + error);
    const std::string& trace_hash = replayed->trace_hash;
    const std::string notes =
        std::string(changed ? "  the file has changed since the recording: scenario hash recorded " +
                                  rec.scenario_hash + ", now " + scenario_hash + "\n"
                            : "") +
        (other_version
             ? "  recorded by meshsim " + rec.meshsim_version + ", replayed by meshsim " + meshsim::version + "\n"
             : "");
    const std::string name = in->scenario ? in->scenario->string() : std::string("the flagship");
    if (trace_hash == rec.trace_hash && replayed->events == rec.events && replayed->checkpoints == rec.checkpoints) {
        std::printf("replay: same trace: trace_hash=%s, %llu events (%s, seed %llu)\n", trace_hash.c_str(),
                    static_cast<unsigned long long>(rec.events), printable(name).c_str(),
                    static_cast<unsigned long long>(rec.seed));
        if (!notes.empty()) std::cerr << "meshsim: note:\n" << printable_lines(notes);
        return exit_pass;
    }
    std::printf(
        "replay: DIFFERENT trace: recorded trace_hash=%s (%llu events), replayed trace_hash=%s (%llu events) "
        "(%s, seed %llu)\n",
        rec.trace_hash.c_str(), static_cast<unsigned long long>(rec.events), trace_hash.c_str(),
        static_cast<unsigned long long>(replayed->events), printable(name).c_str(),
        static_cast<unsigned long long>(rec.seed));
    std::printf("%s", printable_lines(notes).c_str());
    // The first interval whose checkpoint differs; past the last checkpoint both have, the tail.
    const std::vector<std::uint64_t>& mine = replayed->checkpoints;
    const std::size_t both = std::min(mine.size(), rec.checkpoints.size());
    std::size_t i = 0;
    while (i < both && mine[i] == rec.checkpoints[i]) ++i;
    const std::uint64_t k = rec.checkpoint_every;
    const std::uint64_t first = i * k + 1;
    const std::uint64_t last = i < both ? (i + 1) * k : std::max(replayed->events, rec.events);
    std::printf(
        "first divergent interval: events %llu..%llu (every %llu events a checkpoint; events 1..%llu are the "
        "same)\n",
        static_cast<unsigned long long>(first), static_cast<unsigned long long>(last),
        static_cast<unsigned long long>(k), static_cast<unsigned long long>(first - 1));
    const std::optional<report::event_level> level =
        rec.events_level ? report::parse_event_level(*rec.events_level) : std::nullopt;
    const bool with_events = in->events && level && *level != report::event_level::none;
    std::uint64_t written_before = 0;
    options.on_progress = {};
    const std::vector<replayed_event> events =
        events_of_interval(*s, options, first, last, with_events ? level : std::nullopt, written_before);
    if (with_events && print_first_difference(*in->events, *level, written_before, events)) return exit_fail;
    if (with_events) {
        std::printf(
            "the events.jsonl lines of this interval agree: the difference is in what --events %s does not "
            "write (record with --events all to name the event); the replayed events of the interval:\n",
            printable(*rec.events_level).c_str());
    } else {
        std::printf(
            "the recording has no events.jsonl with this interval (record with --events all to name the "
            "event); the replayed events of the interval:\n");
    }
    print_events(events);
    return exit_fail;
}

}  // namespace meshsim::harness
