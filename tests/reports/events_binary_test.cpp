// events.bin (`meshsim run --events-format binary`) and the direct events.jsonl writer:
// the writer writes the bytes nlohmann's dump() writes for every kind; events.bin reads
// back as the run's events; `meshsim events` prints it as the JSON lines the same run
// writes as events.jsonl and `meshsim report` gives the same reports from it; damaged,
// foreign or empty files are exit 2 with one line, never a crash or a wrong report.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "harness/cli_testing.hpp"
#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"
#include "reports/events_binary.hpp"
#include "reports/events_jsonl.hpp"

using namespace meshsim;
using namespace meshsim::testing;
using json = nlohmann::json;

namespace {

sim::trace_event make(std::int64_t t_ns, sim::event_kind kind, sim::node_id node, std::uint64_t a, std::uint64_t b,
                      std::string detail) {
    return sim::trace_event{sim::time_point(sim::duration(t_ns)), kind, node, a, b, std::move(detail)};
}

// Details no writer should get wrong: escapes, controls, bytes that are not UTF-8,
// %20 / %25 in the fields that are unescaped, numbers and hex that are not canonical.
const std::vector<std::string> hostile_texts = {
    "",
    " ",
    "  two  spaces ",
    "quote\" back\\slash",
    std::string("nul\0byte", 8),
    "\x01\x08\x09\x0a\x0c\x0d\x1f\x7f",
    "caf\xc3\xa9 ok",
    "bad \xff\xfe utf8 \xc3",
    "%20%25%2 %",
    "007 0 -1 18446744073709551615 123456789012345678 1234567890123456789",
    "ABCDEF abcdef 0a 0 abc 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00",
    "{\"json\": [1, 2.5, 1e300, -0.0, null, true, \"s\"]}",
};

const std::vector<std::string> rpc_details = {
    "ok - 96fc8eaf32d81fe6 gateway-1 920154 03d8d7c9fda2ae6ee38006ae371bf5ca b3461d6cab2416bc - GET /op",
    "http_error queue_full c%20o%25r%20r n%20ode 5 t s p M%20E%25T /pa th with spaces",
    "ok ok \"q\" \x01 0 \xff \xc3\xa9 x GET /\x7f",
    "timeout - - - notanumber t s p GET /",  // does not decode: written raw
    "too few fields",
};

std::vector<sim::trace_event> hostile_events() {
    std::vector<sim::trace_event> events;
    std::int64_t t = 0;
    for (std::size_t kind = 0; kind < sim::event_kind_count; ++kind) {
        const auto k = static_cast<sim::event_kind>(kind);
        std::vector<std::string> details = hostile_texts;
        details.insert(details.end(), rpc_details.begin(), rpc_details.end());
        details.push_back("status=503");
        details.push_back("status=x");
        details.push_back("breaker a->b=OPEN from=CLOSED failure_rate=55.5 calls=10 instance=7");
        details.push_back("flush {\"n\":1,\"s\":\"x\"}");
        details.push_back("{\"kind\":\"crash\",\"name\":\"n\",\"target\":\"a\",\"params\":{\"x\":1.5}}");
        for (const std::string& d : details) {
            t += 977921;
            events.push_back(make(t, k, static_cast<sim::node_id>(kind % 3), kind * 7, std::uint64_t{3} << 32 | 80, d));
        }
        events.push_back(make(t - 5, k, sim::no_node, ~std::uint64_t{0}, 0, "backwards in time"));
    }
    return events;
}

struct named_event {
    sim::trace_event event;
    std::optional<std::string> name;
};

std::string hostile_name(std::size_t i) {
    static const std::string names[] = {"api-1", "", "we\"ird\n\xff name", "api-1"};
    return names[i % 4];
}

// The events as a run hands them over, with names that come, change and go.
std::vector<named_event> named_hostile_events() {
    std::vector<named_event> out;
    std::size_t i = 0;
    for (const sim::trace_event& e : hostile_events()) {
        ++i;
        std::optional<std::string> name;
        if (e.node != sim::no_node && i % 5 != 0) name = hostile_name(i / 7 + e.node);
        out.push_back({e, name});
    }
    return out;
}

std::map<std::string, std::string> directory_contents(const fs::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::directory_iterator(dir)) files[e.path().filename().string()] = read_text(e.path());
    return files;
}

}  // namespace

TEST_CASE("the direct events.jsonl writer writes the bytes dump() writes, for every kind and hostile text",
          "[reports][events]") {
    std::size_t raw = 0;
    for (const named_event& n : named_hostile_events()) {
        const std::string* name = n.name ? &*n.name : nullptr;
        std::string direct;
        report::append_event_line(direct, n.event, name);
        const json object = report::event_to_json(n.event, name);
        INFO(object.dump(-1, ' ', true, json::error_handler_t::replace));
        CHECK(direct == report::event_line(object));
        if (object.contains("detail")) ++raw;
    }
    CHECK(raw > 100);  // the fallback path ran too, not only the direct one

    // And every event of a real run (every kind a run records), with its node's name.
    harness::diagnostics diags;
    harness::load_options load;
    load.run_for = std::chrono::seconds(7);
    std::optional<harness::scenario> s =
        harness::load_scenario_file(source_path("scenarios/flagship.json"), diags, load);
    INFO(diags.format());
    REQUIRE(s);
    harness::run_options options;
    options.until = std::chrono::seconds(7);
    const harness::run_result r = harness::run_scenario(std::move(*s), options);
    REQUIRE(r.sim);
    std::set<sim::event_kind> kinds;
    std::size_t checked = 0, differ = 0;
    for (const sim::trace_event& e : r.sim->trace().events()) {
        const std::string* name = e.node < r.sim->node_count() ? &r.sim->get_node(e.node).node_name() : nullptr;
        std::string direct;
        report::append_event_line(direct, e, name);
        if (direct != report::event_line(report::event_to_json(e, name))) ++differ;
        kinds.insert(e.kind);
        ++checked;
    }
    CHECK(differ == 0);
    CHECK(checked > 10'000);
    CHECK(kinds.size() >= 14);
}

TEST_CASE("events.bin reads back as the events and node names written, hostile ones included", "[reports][events]") {
    const std::vector<named_event> events = named_hostile_events();
    report::binary_event_writer writer;
    std::string bytes;
    writer.begin(bytes);
    for (const named_event& n : events) writer.append(bytes, n.event, n.name ? &*n.name : nullptr);
    writer.end(bytes, 0x0123456789abcdefull);
    REQUIRE(writer.events() == events.size());

    std::FILE* in = ::fmemopen(bytes.data(), bytes.size(), "rb");
    REQUIRE(in != nullptr);
    report::binary_event_reader reader(in, "mem");
    sim::trace_event e{};
    const std::string* name = nullptr;
    std::size_t i = 0;
    report::binary_event_reader::status status;
    while ((status = reader.next(e, name)) == report::binary_event_reader::status::event) {
        REQUIRE(i < events.size());
        const named_event& want = events[i++];
        INFO("event " << i);
        CHECK(e.at == want.event.at);
        CHECK(e.kind == want.event.kind);
        CHECK(e.node == want.event.node);
        CHECK(e.a == want.event.a);
        CHECK(e.b == want.event.b);
        CHECK(e.detail == want.event.detail);
        CHECK((name == nullptr) == !want.name);
        if (name != nullptr && want.name) CHECK(*name == *want.name);
    }
    std::fclose(in);
    INFO(reader.error());
    CHECK(status == report::binary_event_reader::status::end);
    CHECK(i == events.size());
    CHECK(reader.events() == events.size());
    CHECK(reader.trace_hash() == 0x0123456789abcdefull);
}

TEST_CASE("a binary run prints as the same run's events.jsonl and gives the same reports", "[reports][events][cli]") {
    struct case_ {
        std::string scenario, level, seed;
    };
    const case_ cases[] = {{"flagship", "all", "1"}, {"circuit_breaker", "requests", "3"}, {"faults", "summary", "2"}};
    for (const case_& c : cases) {
        INFO(c.scenario << " --events " << c.level);
        const scratch_dir dir;
        const std::vector<std::string> common = {
            "run",    source_path("scenarios/" + c.scenario + ".json").string(), "--seed", c.seed, "--events", c.level,
            "--quiet"};
        std::vector<std::string> as_jsonl = common, as_binary = common;
        as_jsonl.insert(as_jsonl.end(), {"--out", "j"});
        as_binary.insert(as_binary.end(), {"--out", "b", "--events-format", "binary"});
        const cli_result j = run_meshsim(as_jsonl, dir.path());
        const cli_result b = run_meshsim(as_binary, dir.path());
        INFO(j.err << b.err);
        REQUIRE((j.exit_code == 0 || j.exit_code == 1));
        CHECK(b.exit_code == j.exit_code);
        CHECK(b.out == j.out);  // the same trace hash and verdict
        auto jfiles = directory_contents(dir / "j");
        auto bfiles = directory_contents(dir / "b");
        REQUIRE(jfiles.count("events.jsonl") == 1);
        REQUIRE(bfiles.count("events.bin") == 1);
        CHECK(bfiles.count("events.jsonl") == 0);
        const std::string& lines = jfiles.at("events.jsonl");
        CHECK(std::count(lines.begin(), lines.end(), '\n') > 30);
        // Compact: under a quarter where RPCs dominate; smaller anyway for faults and logs.
        CHECK(bfiles.at("events.bin").size() * (c.level == "summary" ? 1 : 4) < lines.size());

        // summary.json says which file and form; otherwise the summaries are the same.
        json js = json::parse(jfiles.at("summary.json")), bs = json::parse(bfiles.at("summary.json"));
        CHECK(js["events_jsonl"]["format"] == "jsonl");
        CHECK(js["events_jsonl"]["file"] == "events.jsonl");
        CHECK(bs["events_jsonl"]["format"] == "binary");
        CHECK(bs["events_jsonl"]["file"] == "events.bin");
        CHECK(bs["events_jsonl"]["lines"] == js["events_jsonl"]["lines"]);
        bs["events_jsonl"] = js["events_jsonl"];
        CHECK(bs == js);
        for (const std::string report : {"report.html", "trace.json", "otlp.json"}) {
            CHECK(bfiles.at(report) == jfiles.at(report));
        }

        // meshsim events: the directory and the file itself print the JSON lines.
        for (const std::string target : {"b", "b/events.bin"}) {
            const cli_result printed = run_meshsim({"events", target}, dir.path());
            CHECK(printed.exit_code == 0);
            CHECK(printed.err.empty());
            CHECK(printed.out == lines);
        }
        const cli_result as_is = run_meshsim({"events", "j"}, dir.path());
        CHECK(as_is.out == lines);

        // meshsim report from events.bin: the same bytes as the run wrote.
        for (const std::string report : {"report.html", "trace.json", "otlp.json"}) fs::remove(dir / "b" / report);
        const cli_result again = run_meshsim({"report", "b"}, dir.path());
        INFO(again.err);
        CHECK(again.exit_code == 0);
        CHECK(directory_contents(dir / "b") == bfiles);
    }
}

TEST_CASE("meshsim report and meshsim events: a bad events.bin is exit 2 with one line", "[reports][events][cli]") {
    const scratch_dir dir;
    const std::vector<std::string> run = {
        "run", source_path("scenarios/basic.json").string(), "--until", "2s", "--events-format", "binary", "--quiet"};
    std::vector<std::string> good_run = run, other_run = run;
    good_run.insert(good_run.end(), {"--out", "good"});
    other_run.insert(other_run.end(), {"--out", "other", "--seed", "9"});
    REQUIRE(run_meshsim(good_run, dir.path()).exit_code == 0);
    REQUIRE(run_meshsim(other_run, dir.path()).exit_code == 0);
    const std::string summary = read_text(dir / "good/summary.json");
    const std::string events = read_text(dir / "good/events.bin");
    const std::string other = read_text(dir / "other/events.bin");
    const json s = json::parse(summary);
    const std::uint64_t count = s["events_jsonl"]["lines"].get<std::uint64_t>();
    const std::string hash = s["trace_hash"].get<std::string>();
    const std::string other_hash = json::parse(read_text(dir / "other/summary.json"))["trace_hash"].get<std::string>();
    REQUIRE(hash != other_hash);
    REQUIRE(events.size() > 1000);
    json bad_format = s;
    bad_format["events_jsonl"]["format"] = "xml";
    std::string bad_tag = events;
    bad_tag[16] = '\x7f';  // the first record's tag
    std::string version2 = events;
    version2[14] = '2';
    struct bad_case {
        std::string name;
        std::string summary;
        std::string events;
        std::string message;  // after "meshsim: error: ", DIR for the directory
    };
    const std::size_t end_record = 1 + (count < 128 ? 1 : count < 16384 ? 2 : 3) + 8;  // tag, count, hash
    const bad_case cases[] = {
        {"empty", summary, "", "report: DIR/events.bin: is empty: not a meshsim events file"},
        {"wrong magic", summary, "MESHSIM-EVENTS1\n" + events.substr(16),
         "report: DIR/events.bin: does not start with \"meshsim-events1\": not a meshsim binary events file"},
        {"another version", summary, version2,
         "report: DIR/events.bin: is format version 2; this meshsim reads version 1"},
        {"JSON lines under the name", summary, "{\"kind\":\"x\",\"t_ns\":0}\n",
         "report: DIR/events.bin: is JSON lines (events.jsonl), not the binary form"},
        {"cut inside a record", summary, events.substr(0, events.size() / 2),
         "report: DIR/events.bin: ends inside the record at byte "},
        {"cut before the end record", summary, events.substr(0, events.size() - end_record),
         "report: DIR/events.bin: ends after " + std::to_string(count) +
             " events without its end record: truncated (a copy cut short?)"},
        {"bytes after the end", summary, events + "x", "report: DIR/events.bin: has bytes after its end record"},
        {"an unknown record", summary, bad_tag, "report: DIR/events.bin: unknown record tag 127 at byte 16: corrupt"},
        {"another run's file", summary, other,
         "report DIR: events.bin is from the run with trace hash " + other_hash + " but summary.json's run has " +
             hash + ": they are not from the same run"},
        {"a bad format in summary.json", bad_format.dump(), events,
         "report DIR/summary.json: events_jsonl.format is not one of jsonl, binary"},
    };
    for (const bad_case& c : cases) {
        INFO(c.name);
        const fs::path d = dir / "bad";
        fs::remove_all(d);
        fs::create_directory(d);
        write_text(d / "summary.json", c.summary);
        write_text(d / "events.bin", c.events);
        write_text(d / "trace.json", "an earlier trace.json\n");
        const auto before = directory_contents(d);
        std::string expected = c.message;
        for (std::size_t at; (at = expected.find("DIR")) != std::string::npos;) expected.replace(at, 3, "bad");
        const cli_result r = run_meshsim({"report", "bad"}, dir.path());
        CHECK(r.exit_code == 2);
        CHECK(r.err.rfind("meshsim: error: " + expected, 0) == 0);
        CHECK(r.err_lines() == 1);
        CHECK(r.out.empty());
        CHECK(directory_contents(d) == before);  // no report written from a bad file

        // meshsim events says the same of the file (its lines before the damage printed).
        const cli_result e = run_meshsim({"events", "bad"}, dir.path());
        CHECK(e.exit_code == 2);
        CHECK(e.err_lines() == 1);
        std::string message = expected;
        if (message.rfind("report: ", 0) == 0) message.replace(0, 8, "events: ");
        if (message.rfind("report ", 0) == 0) message.replace(0, 7, "events ");
        CHECK(e.err.rfind("meshsim: error: " + message, 0) == 0);
    }

    // The command's own bad input.
    write_text(dir / "a-file.bin", "");
    fs::create_directory(dir / "empty-dir");
    fs::create_directory(dir / "none");
    REQUIRE(run_meshsim({"run", source_path("scenarios/basic.json").string(), "--until", "1s", "--events", "none",
                         "--out", "none", "--quiet"},
                        dir.path())
                .exit_code == 0);
    struct arg_case {
        std::vector<std::string> args;
        std::string message;
    };
    const arg_case arg_cases[] = {
        {{"events", ""}, "events: expected a run's --out directory or an events file, got \"\""},
        {{"events", "missing"}, "events missing: no such file or directory"},
        {{"events", "bad\x1b[31m"}, "events bad\\x1b[31m: no such file or directory"},
        {{"events", "a-file.bin"}, "events: a-file.bin: is empty: not a meshsim events file"},
        {{"events", "empty-dir"}, "events empty-dir: no events.bin or events.jsonl"},
        {{"events", "none"}, "events none: its run wrote no events (--events none)"},
        {{"run", "--events-format", "xml"}, "--events-format: expected one of jsonl, binary, got \"xml\""},
    };
    for (const arg_case& c : arg_cases) {
        INFO(c.args.back());
        const cli_result r = run_meshsim(c.args, dir.path());
        CHECK(r.exit_code == 2);
        CHECK(r.err == "meshsim: error: " + c.message + "\n");
        CHECK(r.out.empty());
    }

    // stdout that cannot be written is exit 3.
    const cli_result full = run_shell("{ exec " + meshsim_command({"events", "good"}) + " > /dev/full; }", dir.path());
    CHECK(full.exit_code == 3);
    CHECK(full.err == "meshsim: error: cannot write to standard output\n");
}
