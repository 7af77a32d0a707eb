// `meshsim merge`: the sweep.json files of a sweep's shards -> one sweep.json and one
// junit.xml, as the unsharded sweep would have written them (times aside). Refuses
// (exit 2) files that are not a sweep.json, shards of different scenarios, versions,
// ranges, --until or --set, and seeds given twice; seeds missing from the range are an
// error unless --partial says a partial result is wanted.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <stdexcept>

#include "harness/chaos/commands.hpp"
#include "harness/chaos/junit.hpp"
#include "harness/chaos/sweep.hpp"
#include "harness/cli.hpp"
#include "harness/output_dir.hpp"
#include "harness/scenario/input_file.hpp"
#include "harness/terminal_text.hpp"

namespace meshsim::harness {

namespace {

constexpr std::size_t max_sweep_json_bytes = std::size_t{1} << 30;

struct shard_file {
    std::string name;  // as given, for messages
    sweep_identity id;
    std::optional<shard_spec> shard;
    std::vector<seed_result> results;
};

// A field that is missing or of the wrong type.
struct corrupt : std::runtime_error {
    using std::runtime_error::runtime_error;
};

template <typename Is>
const nlohmann::json& need(const nlohmann::json& o, const char* key, Is is) {
    if (!o.is_object() || !o.contains(key) || !(o[key].*is)()) {
        throw corrupt(std::string("corrupt: missing or mistyped \"") + key + "\"");
    }
    return o[key];
}

void read_fields(const nlohmann::json& j, shard_file& out) {
    using J = nlohmann::json;
    out.id.scenario = need(j, "scenario", &J::is_string).get<std::string>();
    out.id.scenario_file = need(j, "scenario_file", &J::is_string).get<std::string>();
    out.id.scenario_hash = need(j, "scenario_hash", &J::is_string).get<std::string>();
    out.id.meshsim_version = need(j, "meshsim_version", &J::is_string).get<std::string>();
    for (const J& f : need(j, "set", &J::is_array)) {
        if (!f.is_string()) throw corrupt("corrupt: \"set\" must hold strings");
        out.id.set.push_back(f.get<std::string>());
    }
    if (j.contains("until") && j["until"].is_string()) out.id.until = j["until"].get<std::string>();
    const J& seeds = need(j, "seeds", &J::is_object);
    out.id.seeds.first = need(seeds, "first", &J::is_number_unsigned).get<std::uint64_t>();
    out.id.seeds.last = need(seeds, "last", &J::is_number_unsigned).get<std::uint64_t>();
    if (out.id.seeds.first > out.id.seeds.last || out.id.seeds.last - out.id.seeds.first >= max_sweep_seeds) {
        throw corrupt("corrupt: bad \"seeds\" range");
    }
    if (j.contains("shard") && !j["shard"].is_null()) {
        const J& shard = need(j, "shard", &J::is_object);
        shard_spec s;
        s.index = need(shard, "index", &J::is_number_unsigned).get<std::uint64_t>();
        s.count = need(shard, "count", &J::is_number_unsigned).get<std::uint64_t>();
        if (s.count == 0 || s.index == 0 || s.index > s.count) throw corrupt("corrupt: bad \"shard\"");
        out.shard = s;
    }
    for (const J& r : need(j, "results", &J::is_array)) {
        seed_result one;
        one.seed = need(r, "seed", &J::is_number_unsigned).get<std::uint64_t>();
        one.verdict = need(r, "verdict", &J::is_string).get<std::string>();
        one.trace_hash = need(r, "trace_hash", &J::is_string).get<std::string>();
        one.reproduce = need(r, "reproduce", &J::is_string).get<std::string>();
        one.wall_s = need(r, "wall_s", &J::is_number).get<double>();
        if (one.verdict == "error") one.error = need(r, "error", &J::is_string).get<std::string>();
        for (const J& c : need(r, "failed_checks", &J::is_array)) {
            one.failed.push_back({need(c, "check", &J::is_string).get<std::string>(),
                                  need(c, "label", &J::is_string).get<std::string>(),
                                  need(c, "expected", &J::is_string).get<std::string>(),
                                  need(c, "measured", &J::is_string).get<std::string>()});
        }
        if (one.verdict != "pass" && one.verdict != "fail" && one.verdict != "error") {
            throw corrupt("corrupt: seed " + std::to_string(one.seed) + " has verdict \"" + one.verdict + "\"");
        }
        const seed_range& range = out.id.seeds;
        if (one.seed < range.first || one.seed > range.last ||
            (out.shard && (one.seed - range.first) % out.shard->count != out.shard->index - 1)) {
            throw corrupt("corrupt: seed " + std::to_string(one.seed) + " is not in this shard's seeds");
        }
        out.results.push_back(std::move(one));
    }
}

// Reads and checks one sweep.json; "" on success, else why it cannot be merged.
std::string read_shard(const std::string& given, shard_file& out) {
    std::error_code ec;
    std::filesystem::path path = given;
    if (std::filesystem::is_directory(path, ec)) path /= "sweep.json";
    out.name = path.string();
    const input_file_result in = read_input_file(path, max_sweep_json_bytes);
    if (!in.text) return in.error;
    const nlohmann::json j = nlohmann::json::parse(*in.text, nullptr, false);
    if (j.is_discarded()) return "not valid JSON (corrupt or cut short)";
    if (!j.is_object() || !j.contains("schema") || j["schema"] != sweep_schema) {
        return "not a meshsim sweep.json (expected \"schema\": \"" + std::string(sweep_schema) + "\")";
    }
    try {
        read_fields(j, out);
    } catch (const corrupt& e) {
        return e.what();
    }
    return "";
}

// What differs between two shards' identities that makes them different sweeps, or "".
std::string difference(const sweep_identity& a, const sweep_identity& b) {
    if (a.scenario_hash != b.scenario_hash) {
        return "different scenarios (scenario_hash " + a.scenario_hash + " vs " + b.scenario_hash +
               "; the file or its --set flags differ)";
    }
    if (a.meshsim_version != b.meshsim_version) {
        return "different meshsim versions (" + a.meshsim_version + " vs " + b.meshsim_version + ")";
    }
    if (a.seeds.first != b.seeds.first || a.seeds.last != b.seeds.last) {
        return "different seed ranges (" + std::to_string(a.seeds.first) + ".." + std::to_string(a.seeds.last) +
               " vs " + std::to_string(b.seeds.first) + ".." + std::to_string(b.seeds.last) + ")";
    }
    if (a.until != b.until) return "different --until";
    if (a.set != b.set) return "different --set flags";
    return "";
}

// "2/3, 3/3" for the shards of COUNT with no seed in HAVE, or "" if COUNT is unknown.
std::string missing_shards(const std::vector<bool>& have, std::uint64_t count) {
    std::string out;
    for (std::uint64_t i = 0; i < count && i < have.size(); ++i) {
        bool any = false;
        for (std::uint64_t k = i; k < have.size() && !any; k += count) any = have[k];
        if (!any) out += (out.empty() ? "" : ", ") + std::to_string(i + 1) + "/" + std::to_string(count);
    }
    return out;
}

}  // namespace

int merge_command(const merge_args& args) {
    if (args.inputs.empty()) return exit_bad_input;
    std::vector<shard_file> shards;
    for (const std::string& given : args.inputs) {
        shard_file f;
        const std::string why = read_shard(given, f);
        if (!why.empty()) {
            std::cerr << "meshsim: error: merge: " << printable(f.name) << ": " << printable(why) << "\n";
            return exit_bad_input;
        }
        if (!shards.empty()) {
            const std::string diff = difference(shards.front().id, f.id);
            if (!diff.empty()) {
                std::cerr << "meshsim: error: merge: " << printable(shards.front().name) << " and " << printable(f.name)
                          << " are from different sweeps: " << printable(diff) << "\n";
                return exit_bad_input;
            }
        }
        shards.push_back(std::move(f));
    }
    const sweep_identity& id = shards.front().id;
    const seed_range range = id.seeds;
    std::vector<bool> have(range.count(), false);
    std::map<std::uint64_t, std::size_t> owner;  // seed -> shard file
    std::vector<seed_result> results(range.count());
    for (std::size_t k = 0; k < shards.size(); ++k) {
        for (seed_result& r : shards[k].results) {
            const std::uint64_t i = r.seed - range.first;
            if (have[i]) {
                std::cerr << "meshsim: error: merge: seed " << r.seed << " is in both "
                          << printable(shards[owner[i]].name) << " and " << printable(shards[k].name)
                          << " (the same shard twice, or overlapping shards)\n";
                return exit_bad_input;
            }
            have[i] = true;
            owner[i] = k;
            results[i] = std::move(r);
        }
    }
    std::uint64_t missing = 0;
    for (const bool h : have) missing += !h;
    if (missing > 0) {
        const std::uint64_t count = shards.front().shard ? shards.front().shard->count : 0;
        const std::string which = count > 0 ? missing_shards(have, count) : "";
        const std::string what = std::to_string(missing) + " of the " + std::to_string(range.count()) + " seeds of " +
                                 std::to_string(range.first) + ".." + std::to_string(range.last) +
                                 " are in no shard given" + (which.empty() ? "" : " (missing shards " + which + ")");
        if (!args.partial) {
            std::cerr << "meshsim: error: merge: " << printable(what) << "; pass --partial to merge what there is\n";
            return exit_bad_input;
        }
        std::cerr << "meshsim: warning: merge: " << printable(what) << "; the merged result is partial\n";
    }
    std::vector<seed_result> merged;
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (have[i]) merged.push_back(std::move(results[i]));
    }
    std::string error;
    std::optional<output_dir> dir = output_dir::prepare(args.out_dir, error);
    std::optional<output_file> sweep = dir ? output_file::create(*dir, "sweep.json", error) : std::nullopt;
    std::optional<output_file> junit = sweep ? output_file::create(*dir, "junit.xml", error) : std::nullopt;
    if (!junit) {
        std::cerr << "meshsim: error: " << printable(error) << "\n";
        return exit_bad_input;
    }
    const std::optional<shard_spec> whole = missing > 0 ? std::nullopt : std::optional<shard_spec>(shard_spec{1, 1});
    return sweep_report(*sweep, *junit, sweep_json(id, whole, merged, missing));
}

}  // namespace meshsim::harness
