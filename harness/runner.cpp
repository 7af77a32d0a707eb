#include "harness/runner.hpp"

#include <new>

#include "harness/checkers/checker.hpp"
#include "harness/memory_reserve.hpp"
#include "harness/replay/recording.hpp"
#include "harness/scenario/limits.hpp"
#include "harness/summary.hpp"
#include "harness/terminal_text.hpp"
#include "harness/world/faults.hpp"
#include "harness/world/world.hpp"
#include "meshsim_version.hpp"
#include "sim/invariant.hpp"

namespace meshsim::harness {

namespace {

// The fibers reference the world and the scenario: they must be unwound before
// those end, on every way out of run_scenario, exceptions included (out of
// memory while building the summary, say). Otherwise the simulation's destructor
// unwinds them later, into a freed world.
class shutdown_on_exit {
public:
    explicit shutdown_on_exit(sim::kernel::simulation& sim) : sim_(sim) {}
    shutdown_on_exit(const shutdown_on_exit&) = delete;
    shutdown_on_exit& operator=(const shutdown_on_exit&) = delete;
    ~shutdown_on_exit() {
        sim_.shutdown();
        sim_.trace().set_sink({});  // the sink's writer may end before the simulation
    }

private:
    sim::kernel::simulation& sim_;
};

void run_to_the_end(const scenario& s, world& w, const run_options& options, run_result& result) {
    sim::kernel::simulation& sim = *result.sim;
    const sim::time_point end = sim::time_zero + s.duration;
    for (sim::time_point t = sim::time_zero; t < end;) {
        t = std::min(end, t + s.bucket);
        sim.run_until(t);
        if (options.on_progress) options.on_progress(sim);
        if (options.stop_requested && options.stop_requested()) {
            result.stopped = true;
            return;
        }
    }
    w.obs().finish();
    w.collect_data();
    const std::vector<check_result> checks = run_checkers({s, w.obs(), w.data(), w.last_fault_end(), end});
    const nlohmann::json faults = fault_entries(s, w.faults(), w.obs().fault_occurrences());
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
    add_breaker_settings(result.summary, s);
    if (options.checkpoint_every != 0) {
        recording rec;
        rec.scenario_file = s.source_file;
        rec.scenario_hash = sim::format_hash(s.source_hash);
        rec.seed = s.seed;
        if (options.until) rec.until_ns = options.until->count();
        rec.set = options.set_typed;
        rec.meshsim_version = meshsim::version;
        rec.trace_hash = sim::format_hash(sim.trace().hash());
        rec.events = sim.trace().count();
        rec.events_level = options.events_level;
        rec.checkpoint_every = options.checkpoint_every;
        rec.checkpoints = sim.trace().checkpoints();
        result.summary["recording"] = to_json(rec);
    }
    result.passed = result.summary["verdict"].get<std::string>() == "pass";
}

}  // namespace

std::string reproduce_command(const scenario& s, const run_options& options) {
    std::string cmd = options.reproduce_prefix;
    if (!s.source_file.empty()) {
        std::string file = s.source_file;
        // A name starting with '-' would be read as an option; "-" alone is stdin.
        if (file.size() > 1 && file.front() == '-') file = "./" + file;
        if (needs_printf_word(file)) {
            // One printable line even for a name with control characters: printf
            // makes the name, the trailing '_' keeps $( ) from eating final newlines.
            cmd = "meshsim_file=$(printf '" + printf_format(file) + "_'); " + cmd + " \"${meshsim_file%_}\"";
        } else {
            cmd += " " + shell_quote(file);
        }
    }
    cmd += " --seed " + std::to_string(s.seed);
    if (options.until) cmd += " --until " + sim::format_duration_hms(*options.until);
    return cmd + pin_words(s.source_hash) + options.reproduce_suffix;
}

std::string pin_words(std::uint64_t scenario_hash) {
    return " --pin " + sim::format_hash(scenario_hash) + "@" + meshsim::version;
}

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
    sim.trace().keep_checkpoints(options.checkpoint_every);
    // The observations read fault and node lifecycle events (down intervals, fault
    // ids); they exist once the world does, before anything runs. on_event gets the
    // kinds it asked for; the sink is handed only the kinds either wants.
    observations* obs = nullptr;
    const sim::event_kind_mask wanted = options.on_event ? options.event_kinds : sim::event_kind_mask{0};
    sim.trace().set_sink(
        [&sim, &obs, &on_event = options.on_event, wanted](const sim::trace_event& e) {
            if (obs != nullptr && observations::observes(e.kind)) obs->trace_event(e);
            if ((wanted & sim::mask_of(e.kind)) != 0)
                on_event(e, e.node < sim.node_count() ? &sim.get_node(e.node).node_name() : nullptr);
        },
        wanted | observations::observed_kinds);
    // Before the world: its fibers run (and unwind) with the scenario's planted bug.
    const svc::planted_bug_scope planted_bug(s.planted_bug);
    world w(s, sim);
    obs = &w.obs();
    const shutdown_on_exit unwind_fibers_first(sim);
    if (!w.fault_errors().empty()) {
        result.setup_errors = w.fault_errors();
        return result;
    }
    try {
        run_to_the_end(s, w, options, result);
    } catch (const std::bad_alloc&) {
        // Before the world and the fibers unwind (which allocates), not after.
        release_memory_reserve();
        throw;
    } catch (const sim::invariant_violation& broken) {
        // A bug in meshsim, not in the scenario: the message names the seed and the
        // virtual time; the command that replays the run goes with it (exit 3).
        throw broken.with_note("; reproduce: " + reproduce_command(s, options));
    }
    return result;
}

}  // namespace meshsim::harness
