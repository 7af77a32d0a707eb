#include "harness/cli.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <new>
#include <optional>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "harness/bench/bench.hpp"
#include "harness/chaos/chaos.hpp"
#include "harness/chaos/commands.hpp"
#include "harness/chaos/set_flags.hpp"
#include "harness/checkers/checker.hpp"
#include "harness/events_file.hpp"
#include "harness/fault_kinds/fault_kind.hpp"
#include "harness/flagship.hpp"
#include "harness/kinds/service_kind.hpp"
#include "harness/memory_reserve.hpp"
#include "harness/output_dir.hpp"
#include "harness/replay/recording.hpp"
#include "harness/replay/replay.hpp"
#include "harness/report_files.hpp"
#include "harness/runner.hpp"
#include "harness/scenario/duration.hpp"
#include "harness/scenario/loader.hpp"
#include "harness/serve.hpp"
#include "harness/summary.hpp"
#include "harness/terminal_text.hpp"
#include "harness/world/actions.hpp"
#include "meshsim_version.hpp"
#include "reports/events_binary.hpp"
#include "reports/events_jsonl.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness {

namespace {

struct run_args {
    std::optional<std::string> file;  // nullopt: the flagship
    std::optional<std::string> seed;  // as typed; parsed strictly by parse_seed
    std::optional<std::string> until;
    std::optional<std::string> pin;  // HASH@VERSION: warn when the scenario or meshsim differs
    std::string out_dir = "meshsim-out";
    std::string format = "text";
    std::vector<std::string> sets;  // --set path=value, as typed
    std::string events = "requests";
    std::string events_format = "jsonl";  // events.jsonl, or binary: events.bin
    std::string report = "all";           // all: the files of reports/report_formats.cpp; none
    bool quiet = false;
};

struct serve_args {
    std::string file;
    std::optional<std::string> base_port;  // as typed
    std::optional<std::string> until;
    std::optional<std::string> data_dir;  // default: OUT/data
    std::string out_dir = "meshsim-serve-out";
    bool no_workloads = false;
    bool no_http = false;
    std::string events = "requests";
};

struct bench_args {
    std::string workload = "all";
    std::uint32_t nodes = 1000;
    std::uint64_t messages = 2'000'000;
    std::size_t stack_kib = 16;
    std::uint32_t idle_fibers = 0;  // ring, network
    std::uint64_t seed = 1;
    std::uint32_t services = 100;            // mesh
    std::optional<std::uint32_t> instances;  // mesh
    std::uint64_t rate = 10'000;             // mesh
    std::string duration = "10s";            // mesh, virtual
    bool json = false;
    bool no_baseline = false;
};

// A seed is a whole number from 0 to 2^64-1, written in decimal digits only: no
// sign, no spaces, nothing clamped.
std::optional<std::uint64_t> parse_seed(const std::string& text, std::string& error) {
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, ec] = std::from_chars(text.data(), end, value);
    const bool digits_only = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    if (digits_only && ec == std::errc() && stop == end) return value;
    error = "--seed: expected a whole number from 0 to 18446744073709551615, got " + shown(text);
    return std::nullopt;
}

// Loads FILE, or the built-in flagship when there is none; prints diagnostics.
// With run_for (--until), the file is judged as the run that will happen.
std::optional<scenario> load(const std::optional<std::string>& file, std::optional<sim::duration> run_for = {},
                             const std::vector<set_flag>& sets = {}) {
    diagnostics diags;
    const load_options options{run_for};
    std::optional<scenario> s = load_scenario_with_sets(file, sets, diags, options);
    if (!diags.empty()) std::cerr << printable_lines(diags.format());  // errors, or warnings beside a usable scenario
    if (!s && run_for) {
        std::cerr << "meshsim: (judged as run with --until " << sim::format_duration_hms(*run_for)
                  << ", not the file's duration)\n";
    }
    if (s && !file) s->source_file.clear();               // reproduce with `meshsim run`, no file
    if (s && file && *file == "-") s->source_file = "-";  // reproduce from stdin again
    return s;
}

// --pin HASH@VERSION (the reproduce command's): a warning on stderr for each that differs
// from the run about to happen; false with `error` set when the text is not of that form.
bool check_pin(const std::string& pin, const scenario& s, std::string& error) {
    const std::size_t at = pin.find('@');
    const std::optional<std::uint64_t> hash = at == std::string::npos ? std::nullopt : parse_hash(pin.substr(0, at));
    if (!hash || at + 1 == pin.size()) {
        error = "--pin: expected HASH@VERSION (16 hex digits, '@', a meshsim version), got " + shown(pin);
        return false;
    }
    const std::string version = pin.substr(at + 1);
    if (*hash != s.source_hash) {
        std::cerr << "meshsim: warning: the file has changed since this command was printed: scenario hash "
                  << sim::format_hash(s.source_hash) << ", pinned " << sim::format_hash(*hash)
                  << " (this run is not the one recorded)\n";
    }
    if (version != meshsim::version) {
        std::cerr << "meshsim: warning: pinned meshsim " << printable(version) << ", this is meshsim "
                  << meshsim::version << " (the trace may differ)\n";
    }
    return true;
}

// A progress line on stderr for long runs, only when a person is watching.
std::function<void(const sim::kernel::simulation&)> progress_printer(sim::duration total, bool quiet) {
    if (quiet || !::isatty(2)) return {};
    // The wall clock is read only for this line on stderr, never by the run itself.
    const auto wall_start = std::chrono::steady_clock::now();  // determinism: allowed
    return [wall_start, total, shown = false](const sim::kernel::simulation& sim) mutable {
        const auto wall_now = std::chrono::steady_clock::now();  // determinism: allowed
        const double wall = std::chrono::duration<double>(wall_now - wall_start).count();
        if (wall < 2.0) return;
        std::fprintf(stderr, "\r%s / %s virtual, %.0f events/s   ", sim::format_time_hms(sim.now()).c_str(),
                     sim::format_duration_hms(total).c_str(), static_cast<double>(sim.trace().count()) / wall);
        shown = true;
        if (sim.now() - sim::time_zero >= total && shown) std::fprintf(stderr, "\n");
    };
}

// The outputs of one run, created (as temporary files) before it starts, so a bad
// --out is found before any simulated time passes.
struct run_outputs {
    output_dir dir;
    std::optional<output_file> events;  // unless --events none
    output_file summary;
    std::optional<report_files> reports;  // with --report all
};

std::optional<run_outputs> prepare_outputs(const run_args& args, report::event_level level, events_format format,
                                           std::string& error) {
    std::optional<output_dir> dir = output_dir::prepare(args.out_dir, error);
    if (!dir) return std::nullopt;
    const bool with_events = level != report::event_level::none;
    std::optional<output_file> events =
        with_events ? output_file::create(*dir, events_file_name(format), error) : std::optional<output_file>();
    if (with_events && !events) return std::nullopt;
    std::optional<output_file> summary = output_file::create(*dir, "summary.json", error);
    if (!summary) return std::nullopt;
    std::optional<report_files> reports;
    if (args.report == "all") reports.emplace();
    return run_outputs{std::move(*dir), std::move(events), std::move(*summary), std::move(reports)};
}

// summary.json's trace_hash as a number (the run just wrote it: 16 hex digits).
std::uint64_t trace_hash_of(const nlohmann::json& summary) {
    const std::string text = summary.value("trace_hash", std::string());
    std::uint64_t hash = 0;
    std::from_chars(text.data(), text.data() + text.size(), hash, 16);
    return hash;
}

std::string json_text(const nlohmann::json& j) {
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// The events file, then summary.json: a summary.json means its run finished and
// everything beside it is from that run.
// Then the reports, from the summary as summary.json has it (what `meshsim report`
// reads back), so that their files are byte-identical.
int commit_outputs(run_outputs& out, const run_result& r) {
    if (out.events && !out.events->commit()) {
        std::cerr << "meshsim: error: " << printable(out.events->error()) << "\n";
        return exit_internal;
    }
    const std::string summary_text = json_text(r.summary);
    out.summary.write(summary_text);
    if (!out.summary.commit()) {
        std::cerr << "meshsim: error: " << printable(out.summary.error()) << "\n";
        return exit_internal;
    }
    if (!out.reports) return exit_pass;
    std::string error;
    const std::optional<nlohmann::json> summary = parse_summary(summary_text, error);
    if (!summary || !out.reports->write(out.dir, *summary, error)) {
        std::cerr << "meshsim: error: " << printable(error) << "\n";
        return exit_internal;
    }
    return exit_pass;
}

void print_report_paths(const output_dir& dir) {
    std::printf("report: %s\n", printable((dir.path() / "report.html").string()).c_str());
    std::printf("traces: %s (ui.perfetto.dev), %s (Jaeger)\n", printable((dir.path() / "trace.json").string()).c_str(),
                printable((dir.path() / "otlp.json").string()).c_str());
}

int run_command(const run_args& args) {
    run_options options;
    if (args.seed) {
        std::string error;
        options.seed = parse_seed(*args.seed, error);
        if (!options.seed) return bad_input(error);
    }
    if (args.until) {
        const duration_parse_result until = parse_duration(*args.until);
        if (!until.value || until.value->count() <= 0) {
            return bad_input("--until: " +
                             (until.value ? "must be longer than 0s, got " + shown(*args.until) : until.error));
        }
        options.until = *until.value;
    }
    std::vector<set_flag> sets;
    for (const std::string& typed : args.sets) {
        std::string error;
        const std::optional<set_flag> flag = parse_set_flag(typed, error);
        if (!flag) return bad_input(error);
        sets.push_back(*flag);
    }
    options.reproduce_suffix = set_flag_words(sets);
    const std::optional<report::event_level> level = report::parse_event_level(args.events);
    if (!level) {
        return bad_input("--events: expected one of " + std::string(report::event_level_names) + ", got " +
                         shown(args.events));
    }
    const std::optional<events_format> format = parse_events_format(args.events_format);
    if (!format) {
        return bad_input("--events-format: expected one of " + std::string(events_format_names) + ", got " +
                         shown(args.events_format));
    }
    // Asking for the compact file and for no file at once: say so rather than write nothing.
    if (*format == events_format::binary && *level == report::event_level::none) {
        return bad_input("--events-format " + args.events_format +
                         " with --events none: no events file is written; drop one of the two");
    }
    if (args.file && args.file->empty()) return bad_input("run: expected a scenario file, got \"\"");
    std::optional<scenario> s = load(args.file, options.until, sets);
    if (!s) return exit_bad_input;
    if (args.pin) {
        std::string error;
        if (!check_pin(*args.pin, *s, error)) return bad_input(error);
    }
    options.checkpoint_every = default_checkpoint_every;
    options.set_typed = args.sets;
    options.events_level = args.events;

    std::string error;
    std::optional<run_outputs> out = prepare_outputs(args, *level, *format, error);
    if (!out) return bad_input(error);
    // Streamed as recorded, so the events need not fit in memory; a write that
    // fails stops the run at the next bucket. The hash is over every event, whatever the level.
    options.keep_events = false;
    std::uint64_t lines = 0;  // the file's events, recorded in summary.json so `meshsim report` can tell a mix-up
    std::optional<report::binary_event_writer> binary;
    if (out->events) {
        options.event_kinds = report::kinds_written(*level);
        output_file& events = *out->events;
        report_files* reports = out->reports ? &*out->reports : nullptr;
        std::string head;
        if (*format == events_format::binary) binary.emplace().begin(head);
        events.write(head);
        options.on_event = [&events, reports, &lines, &binary, record = std::string()](
                               const sim::trace_event& e, const std::string* node) mutable {
            // The line (or record) is written directly; the reports get the object the
            // line is the dump() of, which `meshsim report` reads back (tests check both).
            record.clear();
            if (binary) {
                binary->append(record, e, node);
            } else {
                report::append_event_line(record, e, node);
            }
            events.write(record);
            ++lines;
            if (reports != nullptr) reports->add_event(report::event_to_json(e, node));
        };
        options.stop_requested = [&events] { return events.failed(); };
    }
    options.on_progress = progress_printer(options.until.value_or(s->duration), args.quiet);
    run_result r = run_scenario(std::move(*s), options);
    if (!r.setup_errors.empty()) {
        for (const auto& e : r.setup_errors) std::cerr << "meshsim: error: " << printable(e) << "\n";
        return exit_bad_input;
    }
    r.summary["events_jsonl"] = {{"level", args.events}, {"lines", lines}};
    if (out->events) {
        r.summary["events_jsonl"]["format"] = to_string(*format);
        r.summary["events_jsonl"]["file"] = events_file_name(*format);
    }
    if (binary) {
        // The end record carries the run's hash: `meshsim report` tells another run's file by it.
        std::string end;
        binary->end(end, trace_hash_of(r.summary));
        out->events->write(end);
    }
    if (const int rc = commit_outputs(*out, r); rc != exit_pass) return rc;
    if (args.format == "json") {
        std::printf("%s", json_text(r.summary).c_str());
    } else if (args.quiet) {
        std::printf("trace_hash=%s\nverdict: %s\n", printable(r.summary["trace_hash"].get<std::string>()).c_str(),
                    r.passed ? "PASS" : "FAIL");
        if (!r.passed) std::printf("reproduce: %s\n", printable(r.summary["reproduce"].get<std::string>()).c_str());
    } else {
        if (out->reports) {
            print_report_paths(out->dir);
        } else {
            std::printf("report: %s\n", printable(out->summary.final_path().string()).c_str());
        }
        std::printf("%s", text_summary(r.summary).c_str());
    }
    return r.passed ? exit_pass : exit_fail;
}

// meshsim serve FILE: the scenario on real sockets (harness/serve.hpp).
int serve_command(const serve_args& args) {
    serve_options options;
    if (args.base_port) {
        const std::string& text = *args.base_port;
        unsigned value = 0;
        const auto [stop, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || stop != text.data() + text.size() || value < 1 || value > 65535 ||
            text.find_first_not_of("0123456789") != std::string::npos)
            return bad_input("--base-port: expected a port from 1 to 65535, got " + shown(text));
        options.base_port = static_cast<std::uint16_t>(value);
    }
    if (args.until) {
        const duration_parse_result until = parse_duration(*args.until);
        if (!until.value || until.value->count() <= 0) {
            return bad_input("--until: " +
                             (until.value ? "must be longer than 0s, got " + shown(*args.until) : until.error));
        }
        options.until = *until.value;
    }
    const std::optional<report::event_level> level = report::parse_event_level(args.events);
    if (!level) {
        return bad_input("--events: expected one of " + std::string(report::event_level_names) + ", got " +
                         shown(args.events));
    }
    if (args.file.empty()) return bad_input("serve: expected a scenario file, got \"\"");
    if (args.data_dir && args.data_dir->empty()) return bad_input("--data-dir: expected a directory, got \"\"");
    std::optional<scenario> s = load(args.file, options.until);
    if (!s) return exit_bad_input;
    std::string error;
    std::optional<output_dir> dir = output_dir::prepare(args.out_dir, error);
    if (!dir) return bad_input(error);
    const bool with_events = *level != report::event_level::none;
    std::optional<output_file> events_file =
        with_events ? output_file::create(*dir, "events.jsonl", error) : std::optional<output_file>();
    if (with_events && !events_file) return bad_input(error);
    std::optional<output_file> summary_file = output_file::create(*dir, "summary.json", error);
    if (!summary_file) return bad_input(error);
    std::uint64_t lines = 0;
    if (events_file) {
        // Written on the host's thread while it runs (this one waits for it).
        options.event_kinds = report::kinds_written(*level);
        options.on_event = [&events_file, &lines](const sim::trace_event& e, const std::string* node) {
            events_file->write(report::event_line(report::event_to_json(e, node)));
            ++lines;
        };
    }
    options.data_dir = args.data_dir.value_or((dir->path() / "data").string());
    options.workloads = !args.no_workloads;
    options.http = !args.no_http;
    options.on_note = [](const std::string& note) { std::cerr << "meshsim serve: note: " << printable(note) << "\n"; };
    options.on_ready = [&](const nlohmann::json& ports) {
        std::printf("meshsim serve: %s for %s (Ctrl-C stops it and writes the summary)\n", printable(s->name).c_str(),
                    sim::format_duration_hms(options.until.value_or(s->duration)).c_str());
        std::printf("%s", port_map_text(ports).c_str());
        std::fflush(stdout);
    };
    const serve_result r = serve_scenario(*s, options);
    if (!r.setup_errors.empty()) {
        for (const auto& e : r.setup_errors) std::cerr << "meshsim: error: " << printable(e) << "\n";
        return exit_bad_input;
    }
    if (r.interrupted) std::fprintf(stderr, "meshsim serve: stopped early; the summary covers the time it ran\n");
    nlohmann::json summary = r.summary;
    if (events_file) {
        // Real timestamps (time since the start), not a replayable trace.
        summary["events_jsonl"] = {{"level", args.events}, {"lines", lines}, {"time", "real"}};
        if (!events_file->commit()) {
            std::cerr << "meshsim: error: " << printable(events_file->error()) << "\n";
            return exit_internal;
        }
    }
    summary_file->write(json_text(summary));
    if (!summary_file->commit()) return bad_input(summary_file->error());
    std::printf("summary: %s\n", printable(summary_file->final_path().string()).c_str());
    if (events_file) {
        std::printf("events: %s (meshsim report %s: report.html and traces of this run)\n",
                    printable(events_file->final_path().string()).c_str(), shell_quote(dir->path().string()).c_str());
    }
    std::printf("%s", text_summary(r.summary).c_str());
    return r.passed ? exit_pass : exit_fail;
}

int report_command(const std::string& dir_text) {
    if (dir_text.empty()) return bad_input("report: expected a directory, got \"\"");
    const std::filesystem::path dir(dir_text);
    std::string error;
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) return bad_input("report " + dir_text + ": no such directory");
    if (!std::filesystem::is_directory(dir, ec)) return bad_input("report " + dir_text + ": not a directory");
    const std::filesystem::path summary_file = dir / "summary.json";
    if (!std::filesystem::exists(summary_file, ec)) {
        return bad_input("report " + dir_text + ": no summary.json (not the --out directory of a finished run)");
    }
    std::ifstream summary_in(summary_file, std::ios::binary);
    std::ostringstream summary_text;
    summary_text << summary_in.rdbuf();
    if (!summary_in || std::filesystem::is_directory(summary_file, ec)) {
        return bad_input("report " + dir_text + ": cannot read summary.json");
    }
    const std::optional<nlohmann::json> summary = parse_summary(summary_text.str(), error);
    if (!summary) return bad_input("report " + summary_file.string() + " " + error);
    std::optional<output_dir> out = output_dir::open_existing(dir, "report", error);
    if (!out) return bad_input(error);
    report_files reports;
    // summary.json says which file its run wrote and how many events (older ones say
    // neither: events.jsonl): another run's file, or one cut at a line boundary, would
    // give reports of two runs mixed.
    const std::optional<events_written> written = read_events_written(*summary, error);
    if (!error.empty()) return bad_input("report " + summary_file.string() + ": " + error);
    const events_format format = written ? written->format : events_format::jsonl;
    const std::filesystem::path events_file = dir / events_file_name(format);
    const bool with_events = std::filesystem::exists(events_file, ec);
    if (with_events) {
        // A binary file's events become the JSON lines `meshsim events` prints, read as
        // events.jsonl's are: the reports are the same bytes from either form.
        const event_line_handler add = [&reports](std::string_view line, std::string& why) {
            return reports.add_event_line(line, why);
        };
        events_read read;
        if (!read_events(events_file, format, add, read, error)) return bad_input("report: " + error);
        if (written && !events_match_summary(*summary, *written, read, events_file_name(format), error)) {
            return bad_input("report " + dir_text + ": " + error);
        }
    }
    try {
        if (!reports.write(*out, *summary, error)) {
            std::cerr << "meshsim: error: " << printable(error) << "\n";
            return exit_internal;
        }
    } catch (const nlohmann::json::exception& e) {
        // A summary.json of the right schema whose content a builder cannot use.
        return bad_input("report " + summary_file.string() + ": not a summary the reports can use: " + e.what());
    }
    if (!with_events) {
        std::printf("no %s: the reports are built from summary.json alone\n",
                    std::string(events_file_name(format)).c_str());
    }
    print_report_paths(*out);
    return exit_pass;
}

int validate_command(const std::string& file) {
    if (file.empty()) return bad_input("validate: expected a scenario file, got \"\"");
    const std::optional<scenario> s = load(file);
    if (!s) return exit_bad_input;
    std::printf("%s: ok (%zu services, %zu workloads, %zu faults, %zu expectations%s)\n", printable(file).c_str(),
                s->services.size(), s->workloads.size(), s->faults.size(), s->expectations.size(),
                s->planted_bug == svc::planted_bug::none
                    ? ""
                    : (", planted bug " + std::string(svc::to_string(s->planted_bug)) + ": test-only").c_str());
    return exit_pass;
}

int list_command() {
    std::printf("service kinds:\n");
    for (const service_kind& k : all_service_kinds()) {
        std::printf("  %-22s %s\n", std::string(k.name).c_str(), std::string(k.description).c_str());
        if (!k.keys.empty()) std::printf("  %-22s keys: %s\n", "", std::string(k.keys).c_str());
    }
    std::printf("fault kinds:\n");
    for (const fault_kind_info& k : all_fault_kinds()) {
        std::printf("  %-22s %s\n", std::string(k.name()).c_str(), std::string(k.description).c_str());
    }
    std::printf("  %-22s %s\n", "nemesis",
                "seeded generator of the above: flip_flop, staggered, swarm (top-level \"nemesis\" key)");
    std::printf("checkers:\n");
    for (const checker_info& c : all_checkers()) {
        std::printf("  %-22s %s\n", std::string(c.name).c_str(), std::string(c.description).c_str());
    }
    std::printf("planted bugs (top-level \"planted_bug\"; test-only: meshsim's own chaos tests):\n");
    for (const svc::planted_bug_info& b : svc::all_planted_bugs()) {
        std::printf("  %-22s %s\n", std::string(b.name).c_str(), std::string(b.description).c_str());
    }
    std::printf("action kinds (top-level \"actions\"):\n");
    for (const action_kind& k : all_action_kinds()) {
        std::printf("  %-22s %s\n", std::string(k.name).c_str(), std::string(k.description).c_str());
        std::printf("  %-22s keys: %s\n", "", std::string(k.keys).c_str());
    }
    return exit_pass;
}

void print_ring(const bench::ring_result& r, bool with_baseline) {
    std::printf("workload %s: %u nodes, %llu messages in %.3fs wall (%.1f virtual s)\n", r.workload.c_str(), r.nodes,
                static_cast<unsigned long long>(r.messages), r.wall_s, r.virtual_s);
    if (r.idle_fibers_per_node > 0) std::printf("idle:     %u more fibers per node, parked\n", r.idle_fibers_per_node);
    std::printf("kernel:   %.2f M msgs/s\n", r.msgs_per_s / 1e6);
    if (with_baseline) {
        std::printf("baseline: %.2f M msgs/s (bare Boost.Context loop)\n", r.baseline_msgs_per_s / 1e6);
        std::printf("ratio:    %.2fx slower than the bare loop\n", r.ratio_to_baseline);
    }
    std::printf("peak RSS: %.1f MiB\n", static_cast<double>(r.peak_rss_bytes) / (1024.0 * 1024.0));
    std::printf("trace_hash=%s\n", r.trace_hash.c_str());
}

void print_mesh(const bench::mesh_result& r, bool with_baseline) {
    std::printf(
        "workload mesh: %u services, %llu instances, %llu requests, %llu events in %.3fs wall (%.1f virtual s)\n",
        r.services, static_cast<unsigned long long>(r.instances), static_cast<unsigned long long>(r.requests),
        static_cast<unsigned long long>(r.events), r.wall_s, r.virtual_s);
    std::printf("kernel:   %.2f M events/s, %.0f requests/s\n", r.events_per_s / 1e6, r.requests_per_s);
    if (with_baseline) {
        std::printf("ring:     %.2f M msgs/s; an event costs %.2fx a ring message\n", r.ring_msgs_per_s / 1e6,
                    r.cost_per_event_vs_ring);
        std::printf("baseline: %.2f M msgs/s; ratio %.2fx\n", r.baseline_msgs_per_s / 1e6, r.ratio_to_baseline);
    }
    std::printf("peak RSS: %.1f MiB\n", static_cast<double>(r.peak_rss_bytes) / (1024.0 * 1024.0));
    std::printf("trace_hash=%s\n", r.trace_hash.c_str());
}

// One workload: its JSON object as before; all of them: {"ring": {...}, "network": {...}, "mesh": {...}},
// run in that order (peak_rss_bytes is the process's peak so far).
int bench_command(const bench_args& args) {
    if (const std::uint64_t fibers = std::uint64_t{args.nodes} * (1 + std::uint64_t{args.idle_fibers});
        fibers > 10'000'000) {
        return bad_input("--nodes x (1 + --idle-fibers): at most 10000000 fibers, got " + std::to_string(fibers));
    }
    std::optional<scenario> mesh;  // built first: bad input is refused before anything runs
    const bool wants_mesh = args.workload == "mesh" || args.workload == "all";
    if (wants_mesh) {
        const duration_parse_result length = parse_duration(args.duration);
        if (!length.value || length.value->count() <= 0) {
            return bad_input("--duration: " +
                             (length.value ? "must be longer than 0s, got " + shown(args.duration) : length.error));
        }
        if (args.instances && std::uint64_t{*args.instances} * args.services > 200'000) {
            return bad_input("--services x --instances: at most 200000 instances, got " +
                             std::to_string(std::uint64_t{*args.instances} * args.services));
        }
        try {
            mesh = bench::build_mesh({.services = args.services,
                                      .instances = args.instances,
                                      .rate_per_s = args.rate,
                                      .virtual_duration = *length.value,
                                      .seed = args.seed});
        } catch (const bench::bad_mesh& e) {
            return bad_input(std::string("--workload mesh: ") + e.what());
        }
    }
    bench::ring_options ring;
    ring.nodes = args.nodes;
    ring.messages = args.messages;
    ring.seed = args.seed;
    ring.fiber_stack_bytes = args.stack_kib * 1024;
    ring.idle_fibers_per_node = args.idle_fibers;
    ring.run_baseline = !args.no_baseline;

    nlohmann::json all = nlohmann::json::object();
    std::optional<bench::ring_result> ring_result;
    for (const char* kind : {"ring", "network"}) {
        if (args.workload != kind && args.workload != "all") continue;
        ring.kind = std::string_view(kind) == "ring" ? bench::workload::ring : bench::workload::network;
        const bench::ring_result r = bench::run_ring(ring);
        if (r.workload == "ring") ring_result = r;
        if (args.json && args.workload != "all") std::printf("%s\n", bench::to_json(r).dump().c_str());
        if (!args.json) print_ring(r, ring.run_baseline);
        all[kind] = bench::to_json(r);
    }
    if (wants_mesh) {
        bench::mesh_result r;
        try {
            r = bench::run_mesh(std::move(*mesh));
        } catch (const bench::bad_mesh& e) {
            return bad_input(std::string("--workload mesh: ") + e.what());
        }
        if (!args.no_baseline) {
            ring.kind = bench::workload::ring;
            if (!ring_result) ring_result = bench::run_ring(ring);  // the yardstick, this run
            bench::compare_with(r, *ring_result);
        }
        if (args.json && args.workload != "all") std::printf("%s\n", bench::to_json(r).dump().c_str());
        if (!args.json) print_mesh(r, !args.no_baseline);
        all["mesh"] = bench::to_json(r);
    }
    if (args.json && args.workload == "all") std::printf("%s\n", all.dump().c_str());
    return exit_pass;
}

}  // namespace

namespace {

struct command {
    const char* name;
    const char* description;
};
constexpr command commands[] = {
    {"run", "Run a scenario (no FILE: the flagship scenario)"},
    {"validate", "Check a scenario file; report every problem"},
    {"list", "List service kinds, fault kinds and checkers"},
    {"bench", "Measure kernel throughput against a bare Boost.Context loop"},
    {"sweep", "Run a scenario over a range of seeds in parallel; write sweep.json and junit.xml"},
    {"merge", "Combine the sweep.json of a sweep's shards into one sweep.json and junit.xml"},
    {"chaos", "Draw fault schedules for a scenario, shrink each failing one to a scenario file"},
    {"report", "Write the reports of a run's --out directory again from its summary.json and events.jsonl (or .bin)"},
    {"serve",
     "Run a scenario's services for real on localhost ports (HTTP too), its workloads and faults in real time"},
    {"replay", "Re-run a recorded run (a --out directory or a chaos-N.json) and check its trace hash"},
    {"events", "Print a run's events as JSON lines (events.bin, the compact form, decoded; events.jsonl as it is)"},
};

// --help lists the report files from the registry.
std::string report_list() {
    std::string text;
    for (const report::report_format& f : report::report_formats()) {
        text += "\n  " + std::string(f.file_name) + ": " + std::string(f.what);
    }
    return text;
}

std::string report_option_help() { return "Write the reports after summary.json (all) or not (none):" + report_list(); }

std::string command_list() {
    std::string out;
    for (const command& c : commands) out += std::string(out.empty() ? "" : ", ") + c.name;
    return out;
}

// CLI11 would call an unknown first word an unexpected argument.
std::optional<int> reject_unknown_command(int argc, char** argv) {
    if (argc < 2 || argv[1][0] == '-') return std::nullopt;
    const std::string word = argv[1];
    for (const command& c : commands) {
        if (word == c.name) return std::nullopt;
    }
    return bad_input("unknown command " + word + "; the commands are " + command_list() + " (meshsim --help)");
}

int parse_and_run(int argc, char** argv) {
    if (const std::optional<int> rc = reject_unknown_command(argc, argv)) return *rc;
    CLI::App app{"meshsim: a deterministic simulator for microservice architectures", "meshsim"};
    app.set_version_flag("--version", std::string("meshsim ") + meshsim::version);
    app.require_subcommand(1);

    std::string file, seed, until;
    run_args run;
    CLI::App* run_cmd = app.add_subcommand(commands[0].name, commands[0].description);
    CLI::Option* file_opt = run_cmd->add_option("file", file, "Scenario file (JSON; - reads standard input)");
    CLI::Option* seed_opt = run_cmd->add_option(
        "--seed", seed, "Master seed of every random stream, 0 to 2^64-1 (default: the scenario's)");
    CLI::Option* until_opt =
        run_cmd->add_option("--until", until, "Virtual time to run for, e.g. 10s (default: the scenario's duration)");
    run_cmd->add_option("--out", run.out_dir, "Directory for summary.json and events.jsonl")->capture_default_str();
    run_cmd->add_option("--format", run.format, "Output on stdout: text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    run_cmd
        ->add_option("--events", run.events,
                     "Which events events.jsonl holds: none (no file), summary (faults, state changes, nodes), "
                     "requests (also every RPC attempt and answer), all (also messages, fibers, timers)")
        ->capture_default_str();
    run_cmd
        ->add_option("--events-format", run.events_format,
                     "How the events are written: jsonl (events.jsonl) or binary (events.bin: about a quarter of "
                     "the size; `meshsim events DIR` prints it as the same JSON lines)")
        ->capture_default_str();
    run_cmd->add_option("--report", run.report, report_option_help())
        ->check(CLI::IsMember({"all", "none"}))
        ->capture_default_str();
    run_cmd->add_flag("--quiet", run.quiet, "Print only the trace hash and the verdict");
    CLI::Option* pin_opt =
        run_cmd
            ->add_option(
                "--pin",
                "Warn when the scenario's content hash or meshsim's version is not this (reproduce commands pin both)")
            ->type_name("HASH@VERSION");
    // One value per --set, so a FILE after it stays the FILE.
    run_cmd->add_option("--set", run.sets, "Change the scenario: path=value (JSON pointer or dotted path), repeatable")
        ->allow_extra_args(false)
        ->type_name("PATH=VALUE");

    std::string validate_file;
    CLI::App* validate_cmd = app.add_subcommand(commands[1].name, commands[1].description);
    validate_cmd->add_option("file", validate_file, "Scenario file (JSON; - reads standard input)")->required();

    CLI::App* list_cmd = app.add_subcommand(commands[2].name, commands[2].description);

    bench_args bench;
    CLI::App* bench_cmd = app.add_subcommand(commands[3].name, commands[3].description);
    bench_cmd
        ->add_option("--workload", bench.workload,
                     "ring, network (the ring through the network model), mesh (a generated mesh_100-like "
                     "scenario), or all (one JSON object with each)")
        ->check(CLI::IsMember({"all", "ring", "network", "mesh"}))
        ->capture_default_str();
    bench_cmd->add_option("--nodes", bench.nodes, "Number of nodes")
        ->check(CLI::Range(1u, 10'000'000u))
        ->capture_default_str();
    bench_cmd->add_option("--messages", bench.messages, "Messages to deliver")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000'000}))
        ->capture_default_str();
    bench_cmd->add_option("--stack-kib", bench.stack_kib, "Fiber stack size in KiB")
        ->check(CLI::Range(std::size_t{8}, std::size_t{8192}))
        ->capture_default_str();
    bench_cmd
        ->add_option(
            "--idle-fibers", bench.idle_fibers,
            "ring, network: fibers per node parked for the whole run, beside the ring's (memory per idle fiber)")
        ->check(CLI::Range(0u, 1000u))
        ->capture_default_str();
    bench_cmd->add_option("--seed", bench.seed, "Seed")->capture_default_str();
    bench_cmd->add_option("--services", bench.services, "mesh: services (1 gateway, mid-tier, leaves)")
        ->check(CLI::Range(3u, 20'000u))
        ->capture_default_str();
    bench_cmd
        ->add_option("--instances", bench.instances, "mesh: instances of every service (default: mesh_100's 4/2/1)")
        ->check(CLI::Range(1u, 10'000u));
    bench_cmd->add_option("--rate", bench.rate, "mesh: requests per virtual second")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}))
        ->capture_default_str();
    bench_cmd->add_option("--duration", bench.duration, "mesh: virtual time to run, e.g. 10s")->capture_default_str();
    bench_cmd->add_flag("--json", bench.json, "Print one JSON object");
    bench_cmd->add_flag("--no-baseline", bench.no_baseline, "Skip the bare-loop baseline");

    sweep_args sweep;
    CLI::App* sweep_cmd = app.add_subcommand(commands[4].name, commands[4].description);
    sweep_cmd->add_option("file", sweep.file, "Scenario file (JSON; - reads standard input)")->required();
    sweep_cmd->add_option("--seeds", sweep.seeds, "Seeds to run: A..B (inclusive) or one seed")->required();
    CLI::Option* jobs_opt =
        sweep_cmd->add_option("--jobs", "Threads, 1 to 256 (default: the number of cores)")->type_name("N");
    CLI::Option* shard_opt =
        sweep_cmd->add_option("--shard", "Run shard I of N: the seeds whose index in the range is I-1 mod N")
            ->type_name("I/N");
    CLI::Option* sweep_until_opt =
        sweep_cmd->add_option("--until", "Virtual time to run each seed for")->type_name("DURATION");
    sweep_cmd->add_option("--out", sweep.out_dir, "Directory for sweep.json and junit.xml")->capture_default_str();
    sweep_cmd->add_option("--set", sweep.sets, "Change the scenario: path=value, repeatable (as for run)")
        ->allow_extra_args(false)
        ->type_name("PATH=VALUE");
    sweep_cmd->add_flag("--quiet", sweep.quiet, "No progress bar");

    merge_args merge;
    CLI::App* merge_cmd = app.add_subcommand(commands[5].name, commands[5].description);
    merge_cmd->add_option("dirs", merge.inputs, "Shard directories (or their sweep.json files)")->required();
    merge_cmd->add_option("--out", merge.out_dir, "Directory for the merged sweep.json and junit.xml")
        ->capture_default_str();
    merge_cmd->add_flag("--partial", merge.partial, "Merge even when seeds of the range are missing (a warning)");

    chaos_args chaos;
    CLI::App* chaos_cmd = app.add_subcommand(commands[6].name, commands[6].description);
    chaos_cmd->add_option("file", chaos.file, "Scenario file (JSON)")->required();
    chaos_cmd->add_option("--runs", chaos.runs, "Runs, one fault schedule each")->required()->type_name("N");
    CLI::Option* chaos_seed_opt = chaos_cmd->add_option("--seed", "First run's seed (default 1)")->type_name("S");
    CLI::Option* chaos_jobs_opt =
        chaos_cmd->add_option("--jobs", "Threads, 1 to 256 (default: the number of cores)")->type_name("N");
    CLI::Option* chaos_kinds_opt =
        chaos_cmd->add_option("--kinds", "Fault kinds to draw, comma-separated (default: all)")->type_name("K,K");
    CLI::Option* chaos_max_opt =
        chaos_cmd->add_option("--max-faults", "Faults per run, at most (1 to 20, default 5)")->type_name("N");
    chaos_cmd->add_option("--out", chaos.out_dir, "Directory for chaos.json, junit.xml, chaos-N.json")
        ->capture_default_str();
    chaos_cmd->add_option("--set", chaos.sets, "Change the scenario: path=value, repeatable (as for run)")
        ->allow_extra_args(false)
        ->type_name("PATH=VALUE");
    chaos_cmd->add_flag("--quiet", chaos.quiet, "No progress line");

    std::string report_dir;
    CLI::App* report_cmd = app.add_subcommand(commands[7].name, commands[7].description);
    report_cmd->add_option("dir", report_dir, "The --out directory of a run")->required();
    report_cmd->footer("The reports, each written whole (a temporary file renamed into place):" + report_list());

    serve_args serve;
    CLI::App* serve_cmd = app.add_subcommand(commands[8].name, commands[8].description);
    serve_cmd->add_option("file", serve.file, "Scenario file (JSON)")->required();
    CLI::Option* serve_port_opt =
        serve_cmd
            ->add_option("--base-port", "First port: instances from here, then their HTTP edges (default: any free)")
            ->type_name("P");
    CLI::Option* serve_until_opt =
        serve_cmd->add_option("--until", "Real time to run for, e.g. 30s (default: the scenario's duration)")
            ->type_name("DURATION");
    CLI::Option* serve_data_opt =
        serve_cmd->add_option("--data-dir", "Directory for the stores' files (default: OUT/data)")->type_name("DIR");
    serve_cmd->add_option("--out", serve.out_dir, "Directory for summary.json")->capture_default_str();
    serve_cmd->add_flag("--no-workloads", serve.no_workloads, "Run no load generators (drive it from outside)");
    serve_cmd->add_flag("--no-http", serve.no_http, "No HTTP edge on the instances");
    serve_cmd
        ->add_option("--events", serve.events,
                     "Which events events.jsonl holds (real timestamps): none (no file), summary (faults, state "
                     "changes, nodes), requests (also every RPC attempt and answer); all adds nothing more in real "
                     "mode")
        ->capture_default_str();

    replay_args replay;
    CLI::App* replay_cmd = app.add_subcommand(commands[9].name, commands[9].description);
    replay_cmd
        ->add_option("target", replay.target,
                     "The --out directory of `meshsim run` (or its summary.json), or a chaos-N.json (or its "
                     "chaos-N.replay.json)")
        ->required();
    replay_cmd->add_flag("--any-version", replay.any_version, "Replay a recording made by another meshsim version");
    replay_cmd->footer(
        "Exit 0: the same trace. 1: a different trace (the first divergent interval and event are named). "
        "2: bad input.");

    std::string events_target;
    CLI::App* events_cmd = app.add_subcommand(commands[10].name, commands[10].description);
    events_cmd->add_option("target", events_target, "A run's --out directory, or its events.bin or events.jsonl")
        ->required();
    events_cmd->footer(
        "The lines are those the run writes as events.jsonl, byte for byte. Exit 2: the file is damaged, cut short "
        "or not from the run of the summary.json beside it (the lines before the damage are printed).");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        const CLI::App* where = &app;
        for (CLI::App* sub : {run_cmd, validate_cmd, list_cmd, bench_cmd, sweep_cmd, merge_cmd, chaos_cmd, report_cmd,
                              serve_cmd, replay_cmd, events_cmd}) {
            if (app.got_subcommand(sub)) where = sub;
        }
        const std::string name = where == &app ? "meshsim" : "meshsim " + where->get_name();
        bad_input(e.what());
        const auto formatter = std::dynamic_pointer_cast<CLI::Formatter>(app.get_formatter());
        if (formatter) std::cerr << formatter->make_usage(where, name);
        std::cerr << "Run '" << name << " --help' for more information.\n";
        return exit_bad_input;
    }

    if (app.got_subcommand(run_cmd)) {
        if (file_opt->count() > 0) run.file = file;
        if (seed_opt->count() > 0) run.seed = seed;
        if (until_opt->count() > 0) run.until = until;
        if (pin_opt->count() > 0) run.pin = pin_opt->as<std::string>();
        return run_command(run);
    }
    if (app.got_subcommand(bench_cmd)) return bench_command(bench);
    if (app.got_subcommand(sweep_cmd)) {
        if (jobs_opt->count() > 0) sweep.jobs = jobs_opt->as<std::string>();
        if (shard_opt->count() > 0) sweep.shard = shard_opt->as<std::string>();
        if (sweep_until_opt->count() > 0) sweep.until = sweep_until_opt->as<std::string>();
        return sweep_command(sweep);
    }
    if (app.got_subcommand(merge_cmd)) return merge_command(merge);
    if (app.got_subcommand(chaos_cmd)) {
        if (chaos_seed_opt->count() > 0) chaos.seed = chaos_seed_opt->as<std::string>();
        if (chaos_jobs_opt->count() > 0) chaos.jobs = chaos_jobs_opt->as<std::string>();
        if (chaos_kinds_opt->count() > 0) chaos.kinds = chaos_kinds_opt->as<std::string>();
        if (chaos_max_opt->count() > 0) chaos.max_faults = chaos_max_opt->as<std::string>();
        return chaos_command(chaos);
    }
    if (app.got_subcommand(validate_cmd)) return validate_command(validate_file);
    if (app.got_subcommand(list_cmd)) return list_command();
    if (app.got_subcommand(report_cmd)) return report_command(report_dir);
    if (app.got_subcommand(serve_cmd)) {
        if (serve_port_opt->count() > 0) serve.base_port = serve_port_opt->as<std::string>();
        if (serve_until_opt->count() > 0) serve.until = serve_until_opt->as<std::string>();
        if (serve_data_opt->count() > 0) serve.data_dir = serve_data_opt->as<std::string>();
        return serve_command(serve);
    }
    if (app.got_subcommand(replay_cmd)) return replay_command(replay);
    if (app.got_subcommand(events_cmd)) return events_command(events_target);
    return exit_internal;
}

// stdout is an output too: text that could not be written is an error, not a pass.
int check_stdout(int rc) {
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
        std::cerr << "meshsim: error: cannot write to standard output\n";
        return exit_internal;
    }
    return rc;
}

}  // namespace

int run_cli(int argc, char** argv) {
    remove_temporary_outputs_on_signals();
    set_aside_memory_reserve(std::size_t{32} << 20);
    // No way out of here but an exit code with a message: running out of memory
    // (while loading, running, summarizing or writing) is exit 3, never a signal.
    try {
        return check_stdout(parse_and_run(argc, argv));
    } catch (const std::bad_alloc&) {
        release_memory_reserve();
        std::fputs("meshsim: error: out of memory\n", stderr);
    } catch (const std::exception& e) {
        std::cerr << "meshsim: internal error: " << printable(e.what()) << "\n";
    } catch (...) {
        std::fputs("meshsim: internal error: unknown exception\n", stderr);
    }
    return exit_internal;
}

int bad_input(const std::string& message) {
    std::cerr << "meshsim: error: " << printable(message) << "\n";
    return exit_bad_input;
}

std::string shown(const std::string& text) {
    return "\"" +
           (text.size() > 40 ? text.substr(0, 40) + "...\" (" + std::to_string(text.size()) + " bytes)" : text + "\"");
}

}  // namespace meshsim::harness
