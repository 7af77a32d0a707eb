#include "harness/cli.hpp"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "harness/bench/bench.hpp"
#include "harness/flagship.hpp"
#include "harness/scenario/duration.hpp"
#include "meshsim_version.hpp"
#include "reports/events_jsonl.hpp"
#include "sim/kernel/simulation.hpp"

namespace meshsim::harness {

namespace {

struct run_args {
    std::string file;
    std::uint64_t seed = 1;
    std::string until;
    std::string out_dir = "meshsim-out";
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

std::vector<std::string> node_names(sim::kernel::simulation& world) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < world.node_count(); ++i) {
        names.push_back(world.get_node(static_cast<sim::node_id>(i)).node_name());
    }
    return names;
}

int run_command(const run_args& args) {
    if (!args.file.empty()) {
        std::cerr << "meshsim: error: scenario files are not supported by this version yet; "
                     "run without FILE for the flagship scenario\n";
        return exit_bad_input;
    }
    flagship_options options;
    options.seed = args.seed;
    if (!args.until.empty()) {
        const duration_parse_result until = parse_duration(args.until);
        if (!until.value) {
            std::cerr << "meshsim: error: --until: " << until.error << "\n";
            return exit_bad_input;
        }
        if (*until.value < sim::seconds(2)) {
            std::cerr << "meshsim: error: --until: the flagship scenario needs at least 2s\n";
            return exit_bad_input;
        }
        options.duration = *until.value;
    }

    sim::kernel::simulation world({.seed = args.seed});
    const flagship_result result = run_flagship(world, options);
    const std::string hash = sim::format_hash(world.trace().hash());

    std::error_code ec;
    std::filesystem::create_directories(args.out_dir, ec);
    if (ec) {
        std::cerr << "meshsim: error: cannot create output directory " << args.out_dir << ": " << ec.message() << "\n";
        return exit_bad_input;
    }
    const std::filesystem::path out(args.out_dir);
    {
        std::ofstream events(out / "events.jsonl");
        report::write_events_jsonl(events, world.trace().events(), node_names(world));
    }
    nlohmann::json summary = {
        {"meshsim_version", meshsim::version},
        {"scenario", "flagship"},
        {"seed", args.seed},
        {"trace_hash", hash},
        {"events", world.trace().count()},
        {"virtual_time", sim::format_time(world.now())},
        {"verdict", result.passed ? "pass" : "fail"},
        {"result", result.to_json()},
    };
    {
        std::ofstream summary_file(out / "summary.json");
        summary_file << summary.dump(2) << "\n";
    }

    if (!args.quiet) {
        std::printf("scenario: flagship (checkout API, 3 inventory instances, inventory-2 crashes at 3s)\n");
        std::printf("requests: %llu  succeeded: %llu  failed: %llu  success ratio: %.4f\n",
                    static_cast<unsigned long long>(result.requests),
                    static_cast<unsigned long long>(result.succeeded),
                    static_cast<unsigned long long>(result.failed), result.success_ratio);
        std::printf("attempts at inventory: %llu  events: %llu  virtual time: %s\n",
                    static_cast<unsigned long long>(result.attempts_at_inventory),
                    static_cast<unsigned long long>(world.trace().count()), sim::format_time(world.now()).c_str());
        std::printf("report: %s\n", (out / "summary.json").string().c_str());
    }
    std::printf("trace_hash=%s\n", hash.c_str());
    std::printf("verdict: %s (%s)\n", result.passed ? "PASS" : "FAIL", result.verdict_reason.c_str());
    if (!result.passed) {
        std::printf("reproduce: meshsim run --seed %llu%s%s\n", static_cast<unsigned long long>(args.seed),
                    args.until.empty() ? "" : " --until ", args.until.c_str());
    }
    return result.passed ? exit_pass : exit_fail;
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
    run_cmd->add_option("--seed", run.seed, "Master seed of every random stream")->capture_default_str();
    run_cmd->add_option("--until", run.until, "Virtual time to run for, e.g. 10s or 1500ms");
    run_cmd->add_option("--out", run.out_dir, "Directory for summary.json and events.jsonl")->capture_default_str();
    run_cmd->add_flag("--quiet", run.quiet, "Print only the trace hash and the verdict");

    bench_args bench;
    CLI::App* bench_cmd = app.add_subcommand("bench", "Measure kernel throughput against a bare Boost.Context loop");
    bench_cmd->add_option("--workload", bench.workload, "ring, or network (through the network model)")
        ->check(CLI::IsMember({"ring", "network"}))
        ->capture_default_str();
    bench_cmd->add_option("--nodes", bench.nodes, "Number of nodes")->check(CLI::Range(1u, 10'000'000u))->capture_default_str();
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
        const CLI::App* where = app.got_subcommand(run_cmd)     ? run_cmd
                                : app.got_subcommand(bench_cmd) ? bench_cmd
                                                                : &app;
        std::cerr << where->help("", CLI::AppFormatMode::Normal);
        return exit_bad_input;
    }

    try {
        if (app.got_subcommand(run_cmd)) return run_command(run);
        if (app.got_subcommand(bench_cmd)) return bench_command(bench);
    } catch (const std::exception& e) {
        std::cerr << "meshsim: internal error: " << e.what() << "\n";
        return exit_internal;
    }
    return exit_internal;
}

}  // namespace meshsim::harness
