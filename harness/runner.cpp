#include "harness/runner.hpp"

#include "harness/checkers/checker.hpp"
#include "harness/scenario/limits.hpp"
#include "harness/summary.hpp"
#include "harness/world/world.hpp"

namespace meshsim::harness {

namespace {

std::string reproduce_command(const scenario& s, const run_options& options) {
    std::string cmd = options.reproduce_prefix;
    if (!s.source_file.empty()) cmd += " " + s.source_file;
    cmd += " --seed " + std::to_string(s.seed);
    if (options.until) cmd += " --until " + sim::format_duration(*options.until);
    return cmd;
}

}  // namespace

std::vector<std::string> until_problems(const scenario& s, sim::duration until, bool keeps_events) {
    std::vector<std::string> out;
    for (const limit_problem& p : check_run_limits(s, until, keeps_events)) {
        out.push_back("--until " + sim::format_duration(until) + ": " + p.message);
    }
    return out;
}

run_result run_scenario(scenario s, const run_options& options) {
    run_result result;
    // --until obeys the limits the file's duration does, and keeping every event lowers
    // the limit on calls: bad input, reported before anything runs.
    if (options.until) {
        result.setup_errors = until_problems(s, *options.until, options.keep_events);
    } else {
        for (const limit_problem& p : check_run_limits(s, s.duration, options.keep_events)) {
            const std::string& file = s.source_file.empty() ? s.name : s.source_file;
            result.setup_errors.push_back(file + ": " + p.message + " (at " + p.pointer + ")");
        }
    }
    if (!result.setup_errors.empty()) return result;
    if (options.seed) s.seed = *options.seed;
    if (options.until) s.duration = *options.until;
    if (s.warmup >= s.duration) s.warmup = sim::duration{0};
    result.sim = std::make_unique<sim::kernel::simulation>(sim::kernel::simulation_options{
        .seed = s.seed,
        .fiber_stack_bytes = 256 * 1024,
        .trace = options.keep_events ? sim::trace_mode::full : sim::trace_mode::hash_only});
    sim::kernel::simulation& sim = *result.sim;
    world w(s, sim);
    if (!w.fault_errors().empty()) {
        result.setup_errors = w.fault_errors();
        sim.shutdown();
        return result;
    }
    const sim::time_point end = sim::time_zero + s.duration;
    for (sim::time_point t = sim::time_zero; t < end;) {
        t = std::min(end, t + s.bucket);
        sim.run_until(t);
        if (options.on_progress) options.on_progress(sim);
    }
    w.obs().finish();
    w.collect_data();
    const std::vector<check_result> checks = run_checkers({s, w.obs(), w.data(), w.last_fault_end(), end});
    std::vector<std::string> faults;
    for (const auto& f : w.faults()) faults.push_back(f.to_json().dump());
    run_identity id;
    id.scenario_name = s.name;
    id.scenario_file = s.source_file;
    id.scenario_hash = s.source_hash;
    id.seed = s.seed;
    id.trace_hash = sim.trace().hash();
    id.events = sim.trace().count();
    id.virtual_end = sim.now();
    id.reproduce = reproduce_command(s, options);
    result.summary = make_summary(id, w.obs(), w.data(), checks, faults);
    // The fibers reference the world and the scenario, which end with this
    // function; the simulation lives on in the result for its events.
    sim.shutdown();
    result.passed = result.summary["verdict"].get<std::string>() == "pass";
    return result;
}

}  // namespace meshsim::harness
