#include "harness/chaos/chaos.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "harness/chaos/junit.hpp"
#include "harness/chaos/set_flags.hpp"
#include "harness/chaos/sweep.hpp"
#include "harness/cli.hpp"
#include "harness/fault_kinds/fault_kind.hpp"
#include "harness/output_dir.hpp"
#include "harness/replay/replay.hpp"
#include "harness/runner.hpp"
#include "harness/scenario/duration.hpp"
#include "harness/scenario/loader.hpp"
#include "harness/terminal_text.hpp"
#include "meshsim_version.hpp"
#include "sim/random.hpp"
#include "sim/trace.hpp"

namespace meshsim::harness {

namespace {

constexpr std::int64_t ms = 1'000'000;  // nanoseconds

std::optional<std::uint64_t> parse_whole(const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// A duration as the files write it, in whole milliseconds (at least 1ms).
std::string ms_text(std::int64_t ns) { return std::to_string(std::max<std::int64_t>(1, ns / ms)) + "ms"; }

std::int64_t ns_of(const nlohmann::json& text) {
    const duration_parse_result parsed = parse_duration(text.get<std::string>());
    if (!parsed.value) throw std::logic_error("chaos: unreadable duration " + text.dump());
    return parsed.value->count();
}

double round2(double x) {
    const double scaled = x * 100;
    return static_cast<double>(static_cast<std::int64_t>(scaled < 0 ? scaled - 0.5 : scaled + 0.5)) / 100;
}

// A clock offset as the clock fault reads it: a duration, "-" in front when behind.
std::string offset_text(std::int64_t ns) { return (ns < 0 ? "-" : "") + ms_text(ns < 0 ? -ns : ns); }
std::int64_t offset_ns(const nlohmann::json& text) {
    const std::string& s = text.get_ref<const std::string&>();
    return !s.empty() && s.front() == '-' ? -ns_of(s.substr(1)) : ns_of(text);
}

// A clock 10ms to 2s ahead or behind, drifting up to 1000 ppm either way half the time.
void draw_clock(sim::random_stream& rs, nlohmann::json& f) {
    const std::int64_t offset_ms = rs.uniform_int(10, 2000);
    f["offset"] = offset_text((rs.bernoulli(0.5) ? -offset_ms : offset_ms) * ms);
    if (rs.bernoulli(0.5)) f["drift_ppm"] = round2(rs.uniform(-1000, 1000));
}

// A degraded link from the fault's service (to one other service half the time): a
// random subset of loss, latency, duplication and reordering, at least one.
void draw_link(sim::random_stream& rs, const std::vector<chaos_target>& targets, const std::string& from,
               nlohmann::json& f) {
    std::vector<const chaos_target*> others;
    for (const chaos_target& t : targets) {
        if (t.service != from) others.push_back(&t);
    }
    if (!others.empty() && rs.bernoulli(0.5)) f["to"] = others[rs.below(others.size())]->service;
    const bool loss = rs.bernoulli(0.5), latency = rs.bernoulli(0.5), duplicate = rs.bernoulli(0.5);
    const bool reorder = rs.bernoulli(0.5);
    if (loss || !(latency || duplicate || reorder)) f["loss"] = round2(rs.uniform(0.05, 0.5));
    if (latency) f["latency"] = {{"dist", "constant"}, {"value", std::to_string(rs.uniform_int(10, 500)) + "ms"}};
    if (duplicate) f["duplicate"] = round2(rs.uniform(0.05, 0.5));
    if (reorder) f["reorder"] = round2(rs.uniform(0.05, 0.5));
}

}  // namespace

// The fault kinds chaos draws, with the keys it gives them (the fault-kind registry's names).
const std::vector<std::string>& chaos_kinds() {
    static const std::vector<std::string> kinds = [] {
        std::vector<std::string> out;
        for (const std::string_view k : {"crash", "pause", "slow", "partition", "abort", "delay", "clock", "link"}) {
            if (find_fault_kind(k) == nullptr) throw std::logic_error("chaos: no fault kind " + std::string(k));
            out.emplace_back(k);
        }
        return out;
    }();
    return kinds;
}

nlohmann::json draw_chaos_faults(std::uint64_t seed, const std::vector<chaos_target>& targets, std::int64_t run_ns,
                                 const chaos_bounds& bounds) {
    sim::random_stream rs(seed, "chaos");
    const std::vector<std::string>& pool = bounds.kinds.empty() ? chaos_kinds() : bounds.kinds;
    // Swarm testing: each run enables its own subset of the kinds (at least one).
    std::vector<std::string> enabled;
    for (const std::string& k : pool) {
        if (rs.bernoulli(0.5)) enabled.push_back(k);
    }
    if (enabled.empty()) enabled.push_back(pool[rs.below(pool.size())]);
    const auto count = static_cast<int>(rs.uniform_int(1, std::clamp(bounds.max_faults, 1, max_chaos_faults)));
    const std::int64_t run_ms = std::max<std::int64_t>(2, run_ns / ms);
    nlohmann::json faults = nlohmann::json::array();
    for (int i = 0; i < count; ++i) {
        const std::string& kind = enabled[rs.below(enabled.size())];
        const chaos_target& t = targets[rs.below(targets.size())];
        nlohmann::json f = {{"kind", kind}};
        if (kind == "partition") f["shape"] = "isolate";
        f["service"] = t.service;
        // instance 0: every instance (a partition isolates one).
        const auto instance = rs.uniform_int(kind == "partition" ? 1 : 0, t.instances);
        if (instance > 0) f["instance"] = instance;
        const std::int64_t at = rs.uniform_int(0, run_ms * 8 / 10);
        const std::int64_t length =
            rs.uniform_int(std::max<std::int64_t>(1, run_ms / 20), std::max<std::int64_t>(1, run_ms / 2));
        f["at"] = std::to_string(at) + "ms";
        f["for"] = std::to_string(length) + "ms";
        if (kind == "crash") f["restart"] = rs.bernoulli(0.5);
        if (kind == "slow") f["factor"] = round2(rs.uniform(2, 20));
        if (kind == "abort" || kind == "delay") f["probability"] = round2(rs.uniform(0.1, 1));
        if (kind == "delay") f["delay"] = std::to_string(rs.uniform_int(10, 1000)) + "ms";
        if (kind == "clock") draw_clock(rs, f);
        if (kind == "link") draw_link(rs, targets, t.service, f);
        faults.push_back(std::move(f));
    }
    return faults;
}

namespace {

struct chaos_context {
    nlohmann::json base;  // the scenario with --set applied, no faults, no nemesis
    std::string file;
    std::vector<chaos_target> targets;
};

nlohmann::json with_faults(const chaos_context& c, const nlohmann::json& faults) {
    nlohmann::json j = c.base;
    j["faults"] = faults;
    return j;
}

std::optional<scenario> load_json(const nlohmann::json& j, const std::string& file, diagnostics& diags) {
    return load_scenario_text(j.dump(), file, diags);
}

// The labels of the checks J fails when run with SEED (nullopt: it does not load).
std::optional<std::vector<std::string>> failing_labels(const nlohmann::json& j, const std::string& file,
                                                       std::uint64_t seed) {
    diagnostics diags;
    const std::optional<scenario> s = load_json(j, file, diags);
    if (!s) return std::nullopt;
    run_options o;
    o.seed = seed;
    o.keep_events = false;
    const run_result r = run_scenario(*s, o);
    if (!r.setup_errors.empty()) return std::nullopt;
    std::vector<std::string> labels;
    for (const nlohmann::json& check : r.summary["checks"]) {
        if (!check["passed"].get<bool>()) labels.push_back(check.value("label", ""));
    }
    return labels;
}

struct shrink_result {
    nlohmann::json scenario;
    int steps = 0;
    bool bound_hit = false;
};

// Greedy shrinking to a local minimum: a candidate is kept only when it still fails
// the check labelled LABEL. Each try is one run (runs are deterministic).
shrink_result shrink(const chaos_context& c, const nlohmann::json& failing, std::uint64_t seed,
                     const std::string& label) {
    shrink_result out{failing, 0, false};
    const auto still_fails = [&](const nlohmann::json& candidate) {
        if (out.steps >= max_shrink_steps) {
            out.bound_hit = true;
            return false;
        }
        ++out.steps;
        const auto labels = failing_labels(candidate, c.file, seed);
        return labels && std::find(labels->begin(), labels->end(), label) != labels->end();
    };
    const auto instances_of = [&](const std::string& service) -> std::uint32_t {
        for (const chaos_target& t : c.targets) {
            if (t.service == service) return t.instances;
        }
        return 1;
    };
    bool changed = true;
    while (changed && !out.bound_hit) {
        changed = false;
        nlohmann::json& cur = out.scenario;
        // Fewer faults.
        for (std::size_t i = 0; i < cur["faults"].size() && !out.bound_hit;) {
            nlohmann::json candidate = cur;
            candidate["faults"].erase(i);
            if (still_fails(candidate)) {
                cur = std::move(candidate);
                changed = true;
            } else {
                ++i;
            }
        }
        const std::int64_t run_ns = ns_of(cur["duration"]);
        // Each fault shorter, milder, later, on fewer instances: each a candidate.
        for (std::size_t i = 0; i < cur["faults"].size() && !out.bound_hit; ++i) {
            std::vector<nlohmann::json> tries;
            const nlohmann::json& f = cur["faults"][i];
            const std::int64_t length = ns_of(f["for"]);
            const std::int64_t at = ns_of(f["at"]);
            if (length >= 20 * ms) {
                nlohmann::json g = f;
                g["for"] = ms_text(length / 2);
                tries.push_back(g);
            }
            if (f.contains("restart") && !f["restart"].get<bool>()) {
                nlohmann::json g = f;
                g["restart"] = true;
                tries.push_back(g);
            }
            if (f.contains("factor") && f["factor"].get<double>() > 1.1) {
                nlohmann::json g = f;
                g["factor"] = round2(1 + (f["factor"].get<double>() - 1) / 2);
                tries.push_back(g);
            }
            if (f.contains("probability") && f["probability"].get<double>() > 0.05) {
                nlohmann::json g = f;
                g["probability"] = round2(f["probability"].get<double>() / 2);
                tries.push_back(g);
            }
            if (f.contains("delay") && ns_of(f["delay"]) >= 2 * ms) {
                nlohmann::json g = f;
                g["delay"] = ms_text(ns_of(f["delay"]) / 2);
                tries.push_back(g);
            }
            // Clock and link: a smaller offset and drift, less loss, latency, duplication, reordering.
            if (f.contains("offset") && std::abs(offset_ns(f["offset"])) >= 2 * ms) {
                nlohmann::json g = f;
                g["offset"] = offset_text(offset_ns(f["offset"]) / 2);
                tries.push_back(g);
            }
            if (f.contains("drift_ppm") && std::abs(f["drift_ppm"].get<double>()) >= 1) {
                nlohmann::json g = f;
                g["drift_ppm"] = round2(f["drift_ppm"].get<double>() / 2);
                tries.push_back(g);
            }
            for (const char* key : {"loss", "duplicate", "reorder"}) {
                if (f.contains(key) && f[key].get<double>() > 0.02) {
                    nlohmann::json g = f;
                    g[key] = round2(f[key].get<double>() / 2);
                    tries.push_back(g);
                }
            }
            // A link fault with fewer kinds of damage (one always stays).
            for (const char* key : {"loss", "latency", "duplicate", "reorder"}) {
                int damage = 0;
                for (const char* other : {"loss", "latency", "duplicate", "reorder"}) damage += f.contains(other);
                if (f["kind"] == "link" && f.contains(key) && damage > 1) {
                    nlohmann::json g = f;
                    g.erase(key);
                    tries.push_back(g);
                }
            }
            if (f.contains("latency") && ns_of(f["latency"]["value"]) >= 2 * ms) {
                nlohmann::json g = f;
                g["latency"]["value"] = ms_text(ns_of(f["latency"]["value"]) / 2);
                tries.push_back(g);
            }
            if (run_ns - at >= 40 * ms) {
                nlohmann::json g = f;
                g["at"] = ms_text(at + (run_ns - at) / 2);
                tries.push_back(g);
            }
            if (!f.contains("instance") && instances_of(f["service"].get<std::string>()) > 1) {
                nlohmann::json g = f;
                g["instance"] = 1;
                tries.push_back(g);
            }
            for (nlohmann::json& g : tries) {
                nlohmann::json candidate = cur;
                candidate["faults"][i] = std::move(g);
                if (still_fails(candidate)) {
                    cur = std::move(candidate);
                    changed = true;
                }
                if (out.bound_hit) break;
            }
        }
        // A shorter run (the loader refuses one that ends before a fault or the warmup).
        if (!out.bound_hit && run_ns >= 200 * ms) {
            nlohmann::json candidate = cur;
            candidate["duration"] = ms_text(run_ns / 2);
            diagnostics diags;
            if (load_json(candidate, c.file, diags) && still_fails(candidate)) {
                cur = std::move(candidate);
                changed = true;
            }
        }
    }
    return out;
}

std::optional<unsigned> parse_jobs(const std::optional<std::string>& text, std::string& error) {
    if (!text) return std::max(1u, std::thread::hardware_concurrency());  // determinism: allowed (thread count only)
    const std::optional<std::uint64_t> value = parse_whole(*text);
    if (!value || *value == 0 || *value > max_sweep_jobs) {
        error = "--jobs: expected a number of threads from 1 to " + std::to_string(max_sweep_jobs) + ", got " +
                shown(*text);
        return std::nullopt;
    }
    return static_cast<unsigned>(*value);
}

std::string json_text(const nlohmann::json& j) {
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool commit(output_file& f) {
    if (f.commit()) return true;
    std::cerr << "meshsim: error: " << printable(f.error()) << "\n";
    return false;
}

}  // namespace

int chaos_command(const chaos_args& args) {
    std::string error;
    const std::optional<std::uint64_t> runs = parse_whole(args.runs);
    if (!runs || *runs == 0 || *runs > max_chaos_runs) {
        return bad_input("--runs: expected a number of runs from 1 to " + std::to_string(max_chaos_runs) + ", got " +
                         shown(args.runs));
    }
    const std::optional<std::uint64_t> seed = args.seed ? parse_whole(*args.seed) : std::optional<std::uint64_t>(1);
    if (!seed)
        return bad_input("--seed: expected a whole number from 0 to 18446744073709551615, got " + shown(*args.seed));
    if (*seed > UINT64_MAX - (*runs - 1)) return bad_input("--seed: seed + runs - 1 is past 18446744073709551615");
    const std::optional<unsigned> jobs = parse_jobs(args.jobs, error);
    if (!jobs) return bad_input(error);
    std::vector<set_flag> sets;
    for (const std::string& typed : args.sets) {
        const std::optional<set_flag> flag = parse_set_flag(typed, error);
        if (!flag) return bad_input(error);
        sets.push_back(*flag);
    }
    chaos_bounds bounds;
    if (args.max_faults) {
        const std::optional<std::uint64_t> n = parse_whole(*args.max_faults);
        if (!n || *n == 0 || *n > static_cast<std::uint64_t>(max_chaos_faults)) {
            return bad_input("--max-faults: expected a number from 1 to " + std::to_string(max_chaos_faults) +
                             ", got " + shown(*args.max_faults));
        }
        bounds.max_faults = static_cast<int>(*n);
    }
    if (args.kinds) {
        std::string all;
        for (const std::string& k : chaos_kinds()) all += (all.empty() ? "" : ", ") + k;
        std::string rest = *args.kinds + ",";
        for (std::size_t comma; (comma = rest.find(',')) != std::string::npos; rest.erase(0, comma + 1)) {
            const std::string k = rest.substr(0, comma);
            if (std::find(chaos_kinds().begin(), chaos_kinds().end(), k) == chaos_kinds().end()) {
                return bad_input("--kinds: " + shown(k) + " is not a fault kind chaos draws (" + all + ")");
            }
            if (std::find(bounds.kinds.begin(), bounds.kinds.end(), k) != bounds.kinds.end()) {
                return bad_input("--kinds: " + shown(k) + " is named twice");
            }
            bounds.kinds.push_back(k);
        }
    }
    if (args.file.empty()) return bad_input("chaos: expected a scenario file, got \"\"");

    // The file as loaded (with --set), then without its faults and nemesis.
    diagnostics diags;
    std::optional<json_source> source = load_json_file(args.file, diags);
    if (source) apply_set_flags(*source, sets, diags);
    std::optional<scenario> original = (source && diags.empty()) ? load_scenario_source(*source, diags) : std::nullopt;
    if (!diags.empty()) std::cerr << printable_lines(diags.format());
    if (!original) return exit_bad_input;
    chaos_context ctx;
    ctx.file = args.file;
    ctx.base = source->value();
    ctx.base.erase("faults");
    ctx.base.erase("nemesis");
    for (const service_config& svc : original->services) ctx.targets.push_back({svc.name, std::max(1u, svc.instances)});
    if (ctx.targets.empty()) return bad_input("chaos: " + shown(args.file) + " has no services for faults to target");
    {
        diagnostics base_diags;
        if (!load_json(ctx.base, ctx.file, base_diags)) {
            std::cerr << printable_lines(base_diags.format());
            return bad_input("chaos: the scenario without its faults and nemesis does not load");
        }
    }

    std::optional<output_dir> dir = output_dir::prepare(args.out_dir, error);
    if (!dir) return bad_input(error);
    std::optional<output_file> chaos_file = output_file::create(*dir, "chaos.json", error);
    if (!chaos_file) return bad_input(error);
    std::optional<output_file> junit_file = output_file::create(*dir, "junit.xml", error);
    if (!junit_file) return bad_input(error);

    const std::int64_t run_ns = original->duration.count();
    const auto faults_of = [&](std::uint64_t s) { return draw_chaos_faults(s, ctx.targets, run_ns, bounds); };
    std::vector<std::uint64_t> seeds;
    for (std::uint64_t i = 0; i < *runs; ++i) seeds.push_back(*seed + i);
    sweep_options options;
    options.jobs = *jobs;
    options.scenario_for = [&](std::uint64_t s) {
        diagnostics d;
        std::optional<scenario> sc = load_json(with_faults(ctx, faults_of(s)), ctx.file, d);
        if (!sc) throw std::logic_error("chaos drew faults the loader refuses: " + d.format());
        return *sc;
    };
    if (!args.quiet && ::isatty(2)) {
        options.on_progress = [](std::size_t done, std::size_t failed, std::size_t total) {
            std::fprintf(stderr, "\r%zu/%zu runs, %zu failing ", done, total, failed);
            if (done == total) std::fprintf(stderr, "\n");
        };
    }
    sweep_outcome outcome = run_sweep(*original, seeds, options);
    if (!outcome.setup_errors.empty()) {
        for (const auto& e : outcome.setup_errors) std::cerr << "meshsim: error: " << printable(e) << "\n";
        return exit_bad_input;
    }

    nlohmann::json results = nlohmann::json::array();
    std::size_t failures = 0, errors = 0;
    std::vector<std::string> reports;
    for (std::size_t i = 0; i < outcome.results.size(); ++i) {
        seed_result& r = outcome.results[i];
        nlohmann::json one = {{"run", i + 1},
                              {"seed", r.seed},
                              {"verdict", r.verdict},
                              {"trace_hash", r.trace_hash},
                              {"faults", faults_of(r.seed)}};
        nlohmann::json checks = nlohmann::json::array();
        for (const failed_check& fc : r.failed) checks.push_back({{"check", fc.check}, {"label", fc.label}});
        one["failed_checks"] = checks;
        errors += r.verdict == "error";
        if (r.verdict == "error") one["error"] = r.error;
        if (r.verdict == "fail" && !r.failed.empty()) {
            const std::size_t n = ++failures;
            const std::string& label = r.failed.front().label;
            const shrink_result shrunk = shrink(ctx, with_faults(ctx, faults_of(r.seed)), r.seed, label);
            nlohmann::json file = shrunk.scenario;
            file["seed"] = r.seed;
            file["description"] = "meshsim chaos: fails \"" + label + "\" (chaos seed " + std::to_string(*seed) +
                                  ", run " + std::to_string(i + 1) + ", run seed " + std::to_string(r.seed) +
                                  "; shrunk from " + std::to_string(one["faults"].size()) + " faults in " +
                                  std::to_string(shrunk.steps) +
                                  " steps). Was: " + ctx.base.value("description", std::string());
            const std::string name = "chaos-" + std::to_string(n) + ".json";
            std::optional<output_file> out = output_file::create(*dir, name, error);
            if (!out) return bad_input(error);
            out->write(json_text(file));
            if (!commit(*out)) return exit_internal;
            const std::string path = (dir->path() / name).string();
            // Beside it, what `meshsim replay` needs to check a later run of it.
            const std::optional<recording> rec = record_run(dir->path() / name, r.seed, error);
            if (!rec) throw std::logic_error("chaos cannot record its shrunk file: " + error);
            const std::string replay_name = recording_beside(name).string();
            std::optional<output_file> replay_out = output_file::create(*dir, replay_name, error);
            if (!replay_out) return bad_input(error);
            replay_out->write(json_text(to_json(*rec)));
            if (!commit(*replay_out)) return exit_internal;
            r.reproduce = "meshsim run " + shell_quote(path) + " --seed " + std::to_string(r.seed) +
                          pin_words(*parse_hash(rec->scenario_hash));
            one["shrunk"] = {{"file", path},
                             {"check", label},
                             {"faults", shrunk.scenario["faults"]},
                             {"duration", shrunk.scenario["duration"]},
                             {"steps", shrunk.steps},
                             {"bound_hit", shrunk.bound_hit}};
            reports.push_back("  run " + std::to_string(i + 1) + " (seed " + std::to_string(r.seed) + ") FAIL " +
                              label + ": " + std::to_string(one["faults"].size()) + " faults shrunk to " +
                              std::to_string(shrunk.scenario["faults"].size()) + " in " + std::to_string(shrunk.steps) +
                              " steps" + (shrunk.bound_hit ? " (the step bound was hit: maybe not minimal)" : ""));
            reports.push_back("    reproduce: " + r.reproduce);
            reports.push_back("    replay: meshsim replay " + shell_quote(path));
        }
        one["reproduce"] = r.reproduce;
        results.push_back(std::move(one));
    }
    sweep_identity id;
    id.scenario = original->name;
    id.scenario_file = args.file;
    id.scenario_hash = sim::format_hash(original->source_hash);
    id.meshsim_version = meshsim::version;
    for (const set_flag& f : sets) id.set.push_back(f.typed);
    id.seeds = {*seed, *seed + *runs - 1};
    for (seed_result& r : outcome.results) r.wall_s = 0;  // chaos.json and junit.xml equal for equal seeds
    junit_file->write(junit_xml(sweep_json(id, std::nullopt, outcome.results)));
    const nlohmann::json chaos = {
        {"schema", "meshsim.chaos/1"},
        {"meshsim_version", id.meshsim_version},
        {"scenario", id.scenario},
        {"scenario_file", id.scenario_file},
        {"scenario_hash", id.scenario_hash},
        {"set", id.set},
        {"seed", *seed},
        {"runs", *runs},
        {"kinds", bounds.kinds.empty() ? chaos_kinds() : bounds.kinds},
        {"max_faults", bounds.max_faults},
        {"max_shrink_steps", max_shrink_steps},
        {"totals", {{"runs", *runs}, {"passed", *runs - failures - errors}, {"failed", failures}, {"errors", errors}}},
        {"results", results},
    };
    chaos_file->write(json_text(chaos));
    if (!commit(*junit_file) || !commit(*chaos_file)) return exit_internal;
    std::printf("chaos.json: %s\njunit.xml: %s\n", printable(chaos_file->final_path().string()).c_str(),
                printable(junit_file->final_path().string()).c_str());
    std::printf("%s: %llu runs, %zu failed, %zu errors\n", printable(id.scenario).c_str(),
                static_cast<unsigned long long>(*runs), failures, errors);
    for (const std::string& line : reports) std::printf("%s\n", printable(line).c_str());
    if (errors > 0) return exit_internal;
    return failures > 0 ? exit_fail : exit_pass;
}

}  // namespace meshsim::harness
