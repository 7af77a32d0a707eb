#include "harness/cli.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "harness/bench/bench.hpp"
#include "harness/checkers/checker.hpp"
#include "harness/flagship.hpp"
#include "harness/runner.hpp"
#include "harness/scenario/duration.hpp"
#include "harness/scenario/loader.hpp"
#include "harness/summary.hpp"
#include "meshsim_version.hpp"
#include "reports/events_jsonl.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness {

namespace {

struct run_args {
    std::string file;
    std::optional<std::uint64_t> seed;
    std::string until;
    std::string out_dir = "meshsim-out";
    std::string format = "text";
    std::string events = "all";
    bool quiet = false;
};

struct bench_args {
    std::string workload = "ring";
    std::uint32_t nodes = 1000;
    std::uint64_t messages = 2'000'000;
    std::size_t stack_kib = 16;
    std::uint64_t seed = 1;
    bool json = false;
    bool no_baseline = false;
};

std::vector<std::string> node_names(const sim::kernel::simulation& world) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < world.node_count(); ++i) {
        names.push_back(const_cast<sim::kernel::simulation&>(world).get_node(static_cast<sim::node_id>(i)).node_name());
    }
    return names;
}

// Loads FILE, or the built-in flagship when FILE is empty; prints diagnostics.
std::optional<scenario> load(const std::string& file) {
    diagnostics diags;
    std::optional<scenario> s = file.empty() ? load_scenario_text(flagship_scenario_text(), "flagship", diags)
                                             : load_scenario_file(file, diags);
    if (!diags.empty()) std::cerr << diags.format();  // errors, or warnings beside a usable scenario
    if (s && file.empty()) s->source_file.clear();    // reproduce with `meshsim run`, no file
    return s;
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
        std::fprintf(stderr, "\r%s / %s virtual, %.0f events/s   ", sim::format_time(sim.now()).c_str(),
                     sim::format_duration(total).c_str(), static_cast<double>(sim.trace().count()) / wall);
        shown = true;
        if (sim.now() - sim::time_zero >= total && shown) std::fprintf(stderr, "\n");
    };
}

int write_outputs(const run_args& args, const run_result& r) {
    std::error_code ec;
    std::filesystem::create_directories(args.out_dir, ec);
    if (ec) {
        std::cerr << "meshsim: error: cannot create output directory " << args.out_dir << ": " << ec.message() << "\n";
        return exit_bad_input;
    }
    const std::filesystem::path out(args.out_dir);
    if (args.events == "all") {
        std::ofstream events(out / "events.jsonl");
        report::write_events_jsonl(events, r.sim->trace().events(), node_names(*r.sim));
    }
    std::ofstream summary_file(out / "summary.json");
    summary_file << r.summary.dump(2) << "\n";
    return exit_pass;
}

int run_command(const run_args& args) {
    std::optional<scenario> s = load(args.file);
    if (!s) return exit_bad_input;
    run_options options;
    options.seed = args.seed;
    options.keep_events = args.events == "all";
    if (!args.until.empty()) {
        const duration_parse_result until = parse_duration(args.until);
        if (!until.value || until.value->count() <= 0) {
            std::cerr << "meshsim: error: --until: " << (until.value ? "must be > 0" : until.error) << "\n";
            return exit_bad_input;
        }
        options.until = *until.value;
    }
    options.on_progress = progress_printer(options.until.value_or(s->duration), args.quiet);
    const run_result r = run_scenario(std::move(*s), options);
    if (!r.setup_errors.empty()) {
        for (const auto& e : r.setup_errors) std::cerr << "meshsim: error: " << e << "\n";
        return exit_bad_input;
    }
    if (const int rc = write_outputs(args, r); rc != exit_pass) return rc;
    if (args.format == "json") {
        std::printf("%s\n", r.summary.dump(2).c_str());
    } else if (args.quiet) {
        std::printf("trace_hash=%s\nverdict: %s\n", r.summary["trace_hash"].get<std::string>().c_str(),
                    r.passed ? "PASS" : "FAIL");
        if (!r.passed) std::printf("reproduce: %s\n", r.summary["reproduce"].get<std::string>().c_str());
    } else {
        std::printf("report: %s\n", (std::filesystem::path(args.out_dir) / "summary.json").string().c_str());
        std::printf("%s", text_summary(r.summary).c_str());
    }
    return r.passed ? exit_pass : exit_fail;
}

int validate_command(const std::string& file) {
    const std::optional<scenario> s = load(file);
    if (!s) return exit_bad_input;
    std::printf("%s: ok (%zu services, %zu workloads, %zu faults, %zu expectations)\n", file.c_str(),
                s->services.size(), s->workloads.size(), s->faults.size(), s->expectations.size());
    return exit_pass;
}

int list_command() {
    std::printf("service kinds:\n");
    std::printf("  %-22s %s\n", "synthetic",
                "the service template as a queueing station: instances x concurrency, FIFO/LIFO queue (CoDel, "
                "criticality), API keys, rate limits; per endpoint service time, calls, writes or replica records");
    std::printf("fault kinds:\n");
    const std::pair<const char*, const char*> faults[] = {
        {"crash", "the instance crashes (volatile state lost); restarts at the end unless restart is false"},
        {"pause", "stop the world: nothing of the instance runs, its timers fire late"},
        {"slow", "service time (compute) multiplied by a factor"},
        {"clock", "the instance's clock is offset and/or drifts"},
        {"link", "latency, jitter, loss, duplication, reordering, corruption, bandwidth on links from a service"},
        {"partition", "cut: groups, one_way, halves, random_halves, isolate, majorities_ring, bridge"},
        {"abort", "Istio-style: answer a status on a fraction of requests to a service/endpoint"},
        {"delay", "Istio-style: add a delay on a fraction of requests to a service/endpoint"},
        {"nemesis", "seeded generator of the above: flip_flop, staggered, swarm (top-level \"nemesis\" key)"},
    };
    for (const auto& [name, what] : faults) std::printf("  %-22s %s\n", name, what);
    std::printf("checkers:\n");
    for (const checker_info& c : all_checkers()) {
        std::printf("  %-22s %s\n", std::string(c.name).c_str(), std::string(c.description).c_str());
    }
    return exit_pass;
}

int bench_command(const bench_args& args) {
    bench::ring_options options;
    options.kind = args.workload == "network" ? bench::workload::network : bench::workload::ring;
    options.nodes = args.nodes;
    options.messages = args.messages;
    options.seed = args.seed;
    options.fiber_stack_bytes = args.stack_kib * 1024;
    options.run_baseline = !args.no_baseline;
    const bench::ring_result r = bench::run_ring(options);
    if (args.json) {
        std::printf("%s\n", bench::to_json(r).dump().c_str());
    } else {
        std::printf("workload %s: %u nodes, %llu messages in %.3fs wall (%.1f virtual s)\n", r.workload.c_str(),
                    r.nodes, static_cast<unsigned long long>(r.messages), r.wall_s, r.virtual_s);
        std::printf("kernel:   %.2f M msgs/s\n", r.msgs_per_s / 1e6);
        if (options.run_baseline) {
            std::printf("baseline: %.2f M msgs/s (bare Boost.Context loop)\n", r.baseline_msgs_per_s / 1e6);
            std::printf("ratio:    %.2fx slower than the bare loop\n", r.ratio_to_baseline);
        }
        std::printf("peak RSS: %.1f MiB\n", static_cast<double>(r.peak_rss_bytes) / (1024.0 * 1024.0));
        std::printf("trace_hash=%s\n", r.trace_hash.c_str());
    }
    return exit_pass;
}

}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{"meshsim: a deterministic simulator for microservice architectures", "meshsim"};
    app.set_version_flag("--version", std::string("meshsim ") + meshsim::version);
    app.require_subcommand(1);

    run_args run;
    CLI::App* run_cmd = app.add_subcommand("run", "Run a scenario (no FILE: the flagship scenario)");
    run_cmd->add_option("file", run.file, "Scenario file (JSON)");
    run_cmd->add_option("--seed", run.seed, "Master seed of every random stream (default: the scenario's)");
    run_cmd->add_option("--until", run.until, "Virtual time to run for, e.g. 10s (default: the scenario's duration)");
    run_cmd->add_option("--out", run.out_dir, "Directory for summary.json and events.jsonl")->capture_default_str();
    run_cmd->add_option("--format", run.format, "Output on stdout: text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    run_cmd->add_option("--events", run.events, "Write events.jsonl (all) or only hash the trace (none)")
        ->check(CLI::IsMember({"all", "none"}))
        ->capture_default_str();
    run_cmd->add_flag("--quiet", run.quiet, "Print only the trace hash and the verdict");

    std::string validate_file;
    CLI::App* validate_cmd = app.add_subcommand("validate", "Check a scenario file; report every problem");
    validate_cmd->add_option("file", validate_file, "Scenario file (JSON)")->required();

    CLI::App* list_cmd = app.add_subcommand("list", "List service kinds, fault kinds and checkers");

    bench_args bench;
    CLI::App* bench_cmd = app.add_subcommand("bench", "Measure kernel throughput against a bare Boost.Context loop");
    bench_cmd->add_option("--workload", bench.workload, "ring, or network (through the network model)")
        ->check(CLI::IsMember({"ring", "network"}))
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
    bench_cmd->add_option("--seed", bench.seed, "Seed")->capture_default_str();
    bench_cmd->add_flag("--json", bench.json, "Print one JSON object");
    bench_cmd->add_flag("--no-baseline", bench.no_baseline, "Skip the bare-loop baseline");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "meshsim: error: " << e.what() << "\n";
        const CLI::App* where = app.got_subcommand(run_cmd)        ? run_cmd
                                : app.got_subcommand(bench_cmd)    ? bench_cmd
                                : app.got_subcommand(validate_cmd) ? validate_cmd
                                                                   : &app;
        std::cerr << where->help("", CLI::AppFormatMode::Normal);
        return exit_bad_input;
    }

    try {
        if (app.got_subcommand(run_cmd)) return run_command(run);
        if (app.got_subcommand(bench_cmd)) return bench_command(bench);
        if (app.got_subcommand(validate_cmd)) return validate_command(validate_file);
        if (app.got_subcommand(list_cmd)) return list_command();
    } catch (const std::exception& e) {
        std::cerr << "meshsim: internal error: " << e.what() << "\n";
        return exit_internal;
    }
    return exit_internal;
}

}  // namespace meshsim::harness
