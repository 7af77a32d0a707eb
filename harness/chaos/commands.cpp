#include "harness/chaos/commands.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "harness/chaos/junit.hpp"
#include "harness/chaos/set_flags.hpp"
#include "harness/chaos/sweep.hpp"
#include "harness/cli.hpp"
#include "harness/output_dir.hpp"
#include "harness/scenario/duration.hpp"
#include "harness/terminal_text.hpp"
#include "meshsim_version.hpp"
#include "sim/trace.hpp"

namespace meshsim::harness {

namespace {

std::optional<unsigned> parse_jobs(const std::optional<std::string>& text, std::string& error) {
    if (!text) return std::max(1u, std::thread::hardware_concurrency());  // determinism: allowed (thread count only)
    unsigned value = 0;
    const bool digits = !text->empty() && text->find_first_not_of("0123456789") == std::string::npos;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (!digits || ec != std::errc() || end != text->data() + text->size() || value == 0 || value > max_sweep_jobs) {
        error = "--jobs: expected a number of threads from 1 to " + std::to_string(max_sweep_jobs) + ", got " +
                shown(*text);
        return std::nullopt;
    }
    return value;
}

// "[#######.............]  37/200 seeds, 2 failing, 12s" redrawn in place, on a terminal only.
std::function<void(std::size_t, std::size_t, std::size_t)> progress_bar(bool quiet) {
    if (quiet || !::isatty(2)) return {};
    const auto start = std::chrono::steady_clock::now();  // determinism: allowed (progress line on a terminal)
    return [start, drawn = -1.0](std::size_t done, std::size_t failed, std::size_t total) mutable {
        const auto now = std::chrono::steady_clock::now();  // determinism: allowed (progress line on a terminal)
        const double wall = std::chrono::duration<double>(now - start).count();
        if (done < total && wall - drawn < 0.1) return;  // at most 10 redraws a second
        drawn = wall;
        constexpr std::size_t width = 30;
        const std::size_t filled = total == 0 ? width : done * width / total;
        std::fprintf(stderr, "\r[%s%s] %zu/%zu seeds, %zu failing, %.0fs ", std::string(filled, '#').c_str(),
                     std::string(width - filled, '.').c_str(), done, total, failed, wall);
        if (done == total) std::fprintf(stderr, "\n");
        std::fflush(stderr);
    };
}

std::string json_text(const nlohmann::json& j) {
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

// More failing seeds than this are counted, not listed, on stdout.
constexpr std::uint64_t max_listed_seeds = 50;

int sweep_report(output_file& sweep_file, output_file& junit_file, const nlohmann::json& sweep) {
    junit_file.write(junit_xml(sweep));
    sweep_file.write(json_text(sweep));
    for (output_file* f : {&junit_file, &sweep_file}) {
        if (!f->commit()) {
            std::cerr << "meshsim: error: " << printable(f->error()) << "\n";
            return exit_internal;
        }
    }
    const nlohmann::json& totals = sweep["totals"];
    const auto failed = totals["failed"].get<std::uint64_t>();
    const auto errors = totals["errors"].get<std::uint64_t>();
    std::printf("sweep.json: %s\njunit.xml: %s\n", printable(sweep_file.final_path().string()).c_str(),
                printable(junit_file.final_path().string()).c_str());
    std::printf("%s: %llu seeds, %llu passed, %llu failed, %llu errors\n",
                printable(sweep["scenario"].get<std::string>()).c_str(),
                static_cast<unsigned long long>(totals["seeds"].get<std::uint64_t>()),
                static_cast<unsigned long long>(totals["passed"].get<std::uint64_t>()),
                static_cast<unsigned long long>(failed), static_cast<unsigned long long>(errors));
    if (failed + errors > 0) std::printf("failing seeds:\n");
    std::uint64_t listed = 0;
    for (const nlohmann::json& r : sweep["results"]) {
        const std::string verdict = r["verdict"].get<std::string>();
        if (verdict == "pass") continue;
        if (++listed > max_listed_seeds) {
            std::printf("  ... and %llu more (all in sweep.json and junit.xml)\n",
                        static_cast<unsigned long long>(failed + errors - max_listed_seeds));
            break;
        }
        std::string why;
        for (const nlohmann::json& c : r["failed_checks"]) {
            why += (why.empty() ? "" : "; ") + c["label"].get<std::string>();
        }
        if (verdict == "error") why = "internal error: " + r["error"].get<std::string>();
        std::printf("  seed=%llu %s: %s\n    reproduce: %s\n",
                    static_cast<unsigned long long>(r["seed"].get<std::uint64_t>()),
                    verdict == "error" ? "ERROR" : "FAIL", printable(why).c_str(),
                    printable(r["reproduce"].get<std::string>()).c_str());
    }
    if (errors > 0) return exit_internal;
    return failed > 0 ? exit_fail : exit_pass;
}

namespace {

struct prepared_outputs {
    output_dir dir;
    output_file sweep;
    output_file junit;
};

std::optional<prepared_outputs> prepare(const std::string& out_dir, std::string& error) {
    std::optional<output_dir> dir = output_dir::prepare(out_dir, error);
    if (!dir) return std::nullopt;
    std::optional<output_file> sweep = output_file::create(*dir, "sweep.json", error);
    if (!sweep) return std::nullopt;
    std::optional<output_file> junit = output_file::create(*dir, "junit.xml", error);
    if (!junit) return std::nullopt;
    return prepared_outputs{std::move(*dir), std::move(*sweep), std::move(*junit)};
}

}  // namespace

int sweep_command(const sweep_args& args) {
    std::string error;
    const std::optional<seed_range> range = parse_seed_range(args.seeds, error);
    if (!range) return bad_input(error);
    shard_spec shard;
    if (args.shard) {
        const std::optional<shard_spec> parsed = parse_shard(*args.shard, error);
        if (!parsed) return bad_input(error);
        shard = *parsed;
    }
    const std::optional<unsigned> jobs = parse_jobs(args.jobs, error);
    if (!jobs) return bad_input(error);
    std::optional<sim::duration> until;
    if (args.until) {
        const duration_parse_result parsed = parse_duration(*args.until);
        if (!parsed.value || parsed.value->count() <= 0) {
            return bad_input("--until: " +
                             (parsed.value ? "must be longer than 0s, got " + shown(*args.until) : parsed.error));
        }
        until = *parsed.value;
    }
    std::vector<set_flag> sets;
    for (const std::string& typed : args.sets) {
        const std::optional<set_flag> flag = parse_set_flag(typed, error);
        if (!flag) return bad_input(error);
        sets.push_back(*flag);
    }
    if (args.file.empty()) return bad_input("sweep: expected a scenario file, got \"\"");

    diagnostics diags;
    std::optional<scenario> s = load_scenario_with_sets(args.file, sets, diags, load_options{until});
    if (!diags.empty()) std::cerr << printable_lines(diags.format());
    if (!s) return exit_bad_input;
    if (args.file == "-") s->source_file = "-";

    std::optional<prepared_outputs> out = prepare(args.out_dir, error);
    if (!out) return bad_input(error);

    const std::vector<std::uint64_t> seeds = shard_seeds(*range, shard);
    if (seeds.empty()) {
        std::cerr << "meshsim: note: shard " << shard.index << "/" << shard.count << " of " << range->count()
                  << " seeds has no seeds to run\n";
    }
    sweep_options options;
    options.until = until;
    options.reproduce_suffix = set_flag_words(sets);
    options.jobs = *jobs;
    options.on_progress = progress_bar(args.quiet);
    const sweep_outcome outcome = run_sweep(*s, seeds, options);
    if (!outcome.setup_errors.empty()) {
        for (const auto& e : outcome.setup_errors) std::cerr << "meshsim: error: " << printable(e) << "\n";
        return exit_bad_input;
    }
    sweep_identity id;
    id.scenario = s->name;
    id.scenario_file = s->source_file;
    id.scenario_hash = sim::format_hash(s->source_hash);
    id.meshsim_version = meshsim::version;
    for (const set_flag& f : sets) id.set.push_back(f.typed);
    if (until) id.until = sim::format_duration_hms(*until);
    id.seeds = *range;
    return sweep_report(out->sweep, out->junit, sweep_json(id, shard, outcome.results));
}

}  // namespace meshsim::harness
