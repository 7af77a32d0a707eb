#include "harness/chaos/sweep.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <thread>

#include "harness/runner.hpp"
#include "sim/invariant.hpp"

namespace meshsim::harness {

namespace {

// TEXT as a whole number from 0 to 2^64-1 in decimal digits only.
std::optional<std::uint64_t> parse_whole(std::string_view text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string shown(std::string_view text) {
    return "\"" + std::string(text.size() > 40 ? std::string(text.substr(0, 40)) + "...\" (" +
                                                     std::to_string(text.size()) + " bytes)"
                                               : std::string(text) + "\"");
}

seed_result judge(std::uint64_t seed, const run_result& r) {
    seed_result out;
    out.seed = seed;
    out.verdict = r.passed ? "pass" : "fail";
    out.trace_hash = r.summary["trace_hash"].get<std::string>();
    out.reproduce = r.summary["reproduce"].get<std::string>();
    for (const nlohmann::json& c : r.summary["checks"]) {
        if (c["passed"].get<bool>()) continue;
        const auto text = [&c](const char* key) { return c.contains(key) ? c[key].get<std::string>() : ""; };
        out.failed.push_back({text("check"), text("label"), text("expected"), text("measured")});
    }
    return out;
}

// The sweep's shared state: the next seed to take, the results, and what stops it.
struct sweep_state {
    sweep_state(const scenario& s_, const std::vector<std::uint64_t>& seeds_, const sweep_options& options_)
        : s(s_), seeds(seeds_), options(options_), results(seeds_.size()) {}
    const scenario& s;
    const std::vector<std::uint64_t>& seeds;
    const sweep_options& options;
    std::vector<seed_result> results;
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex mutex;  // guards the fields below
    std::condition_variable changed;
    std::size_t done = 0;
    std::size_t failed = 0;
    std::vector<std::string> setup_errors;
    std::exception_ptr fatal;  // out of memory: the whole sweep ends
};

seed_result run_one(sweep_state& st, std::uint64_t seed, std::vector<std::string>& setup_errors) {
    run_options o;
    o.seed = seed;
    o.until = st.options.until;
    o.keep_events = false;
    o.reproduce_suffix = st.options.reproduce_suffix;
    const auto wall_start = std::chrono::steady_clock::now();  // determinism: allowed (junit time, not the run)
    seed_result out;
    try {
        const run_result r =
            st.options.scenario_for ? run_scenario(st.options.scenario_for(seed), o) : run_scenario(st.s, o);
        if (!r.setup_errors.empty()) {
            setup_errors = r.setup_errors;
            return out;
        }
        out = judge(seed, r);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        // An invariant of meshsim broke (its message names the seed, and the command).
        out = seed_result{};
        out.seed = seed;
        out.verdict = "error";
        out.error = e.what();
        out.reproduce = reproduce_command(
            [&] {
                scenario copy = st.s;
                copy.seed = seed;
                return copy;
            }(),
            o);
    }
    const auto wall_end = std::chrono::steady_clock::now();  // determinism: allowed (junit time, not the run)
    out.wall_s = std::chrono::duration<double>(wall_end - wall_start).count();
    return out;
}

void worker(sweep_state& st) {
    for (;;) {
        if (st.stop.load()) return;
        const std::size_t i = st.next.fetch_add(1);
        if (i >= st.seeds.size()) return;
        std::vector<std::string> setup_errors;
        try {
            seed_result r = run_one(st, st.seeds[i], setup_errors);
            const std::lock_guard<std::mutex> lock(st.mutex);
            if (!setup_errors.empty()) {
                if (st.setup_errors.empty()) st.setup_errors = std::move(setup_errors);
                st.stop.store(true);
            } else {
                st.failed += r.verdict != "pass";
                st.results[i] = std::move(r);
                ++st.done;
            }
        } catch (...) {
            const std::lock_guard<std::mutex> lock(st.mutex);
            if (!st.fatal) st.fatal = std::current_exception();
            st.stop.store(true);
        }
        st.changed.notify_all();
    }
}

}  // namespace

std::optional<seed_range> parse_seed_range(std::string_view text, std::string& error) {
    const std::size_t dots = text.find("..");
    const std::string_view a = dots == std::string_view::npos ? text : text.substr(0, dots);
    const std::string_view b = dots == std::string_view::npos ? text : text.substr(dots + 2);
    const std::optional<std::uint64_t> first = parse_whole(a);
    const std::optional<std::uint64_t> last = parse_whole(b);
    if (!first || !last) {
        error = "--seeds: expected A..B (whole numbers from 0 to 18446744073709551615, A <= B) or one seed, got " +
                shown(text);
        return std::nullopt;
    }
    if (*first > *last) {
        error = "--seeds: the range " + shown(text) + " is empty (" + std::string(a) + " > " + std::string(b) + ")";
        return std::nullopt;
    }
    if (*last - *first >= max_sweep_seeds) {
        error = "--seeds: " + shown(text) + " is more than " + std::to_string(max_sweep_seeds) +
                " seeds; split it into several sweeps";
        return std::nullopt;
    }
    return seed_range{*first, *last};
}

std::optional<shard_spec> parse_shard(std::string_view text, std::string& error) {
    const std::size_t slash = text.find('/');
    const std::optional<std::uint64_t> index =
        slash == std::string_view::npos ? std::nullopt : parse_whole(text.substr(0, slash));
    const std::optional<std::uint64_t> count =
        slash == std::string_view::npos ? std::nullopt : parse_whole(text.substr(slash + 1));
    if (!index || !count) {
        error = "--shard: expected I/N (shard I of N, 1 <= I <= N), got " + shown(text);
        return std::nullopt;
    }
    if (*count == 0 || *count > max_shards) {
        error =
            "--shard: the number of shards must be from 1 to " + std::to_string(max_shards) + ", got " + shown(text);
        return std::nullopt;
    }
    if (*index == 0 || *index > *count) {
        error = "--shard: shards are numbered 1 to " + std::to_string(*count) + " (I/N, 1-based), got " + shown(text);
        return std::nullopt;
    }
    return shard_spec{*index, *count};
}

std::vector<std::uint64_t> shard_seeds(const seed_range& range, const shard_spec& shard) {
    std::vector<std::uint64_t> out;
    for (std::uint64_t i = shard.index - 1; i < range.count(); i += shard.count) out.push_back(range.first + i);
    return out;
}

sweep_outcome run_sweep(const scenario& s, const std::vector<std::uint64_t>& seeds, const sweep_options& options) {
    sweep_state st(s, seeds, options);
    const std::size_t threads = std::max<std::size_t>(1, std::min<std::size_t>(options.jobs, seeds.size()));
    std::vector<std::thread> workers;  // determinism: allowed (one whole simulation per thread)
    for (std::size_t t = 0; t < threads; ++t) {
        workers.emplace_back(worker, std::ref(st));
    }
    {
        std::unique_lock<std::mutex> lock(st.mutex);
        for (;;) {
            const bool finished = st.done == seeds.size() || st.fatal || !st.setup_errors.empty();
            if (options.on_progress) options.on_progress(st.done, st.failed, seeds.size());
            if (finished) break;
            // Wakes at each result, or after 200ms to redraw the progress line.
            st.changed.wait_for(lock, std::chrono::milliseconds(200));  // determinism: allowed (progress only)
        }
    }
    for (auto& w : workers) w.join();
    if (st.fatal) std::rethrow_exception(st.fatal);
    sweep_outcome out;
    out.setup_errors = std::move(st.setup_errors);
    if (out.setup_errors.empty()) out.results = std::move(st.results);
    return out;
}

std::string failed_check_text(const failed_check& c) {
    return c.label + ": expected " + c.expected + ", measured " + c.measured;
}

nlohmann::json sweep_json(const sweep_identity& id, const std::optional<shard_spec>& shard,
                          const std::vector<seed_result>& results, std::uint64_t missing) {
    nlohmann::json rs = nlohmann::json::array();
    std::size_t passed = 0, failed = 0, errors = 0;
    double seconds = 0;
    for (const seed_result& r : results) {
        passed += r.verdict == "pass";
        failed += r.verdict == "fail";
        errors += r.verdict == "error";
        seconds += r.wall_s;
        nlohmann::json checks = nlohmann::json::array();
        for (const failed_check& c : r.failed) {
            checks.push_back(
                {{"check", c.check}, {"label", c.label}, {"expected", c.expected}, {"measured", c.measured}});
        }
        nlohmann::json one = {{"seed", r.seed},          {"verdict", r.verdict},     {"trace_hash", r.trace_hash},
                              {"failed_checks", checks}, {"reproduce", r.reproduce}, {"wall_s", r.wall_s}};
        if (r.verdict == "error") one["error"] = r.error;
        rs.push_back(std::move(one));
    }
    nlohmann::json j = {
        {"schema", sweep_schema},
        {"meshsim_version", id.meshsim_version},
        {"scenario", id.scenario},
        {"scenario_file", id.scenario_file},
        {"scenario_hash", id.scenario_hash},
        {"set", id.set},
        {"until", id.until ? nlohmann::json(*id.until) : nlohmann::json(nullptr)},
        {"seeds", {{"first", id.seeds.first}, {"last", id.seeds.last}}},
        {"shard", shard ? nlohmann::json{{"index", shard->index}, {"count", shard->count}} : nlohmann::json(nullptr)},
        {"totals", {{"seeds", results.size()}, {"passed", passed}, {"failed", failed}, {"errors", errors}}},
        {"time_s", seconds},  // the runs' wall times added up
        {"results", rs},
    };
    if (missing > 0) j["missing_seeds"] = missing;
    return j;
}

}  // namespace meshsim::harness
