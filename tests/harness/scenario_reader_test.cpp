// The typed reader: wrong types, ranges, missing and unknown keys, enumerations, all
// reported at once with positions; and a small scenario loader written against it,
// to show (and keep honest) how the real loader reads.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "harness/scenario/reader.hpp"

using namespace meshsim::harness;
namespace sim = meshsim::sim;
using namespace std::chrono_literals;

namespace {

// Parses text (which must be valid JSON), runs read over the root, returns the diagnostics.
template <class Read>
std::string diagnostics_of(std::string_view text, Read read) {
    diagnostics out;
    const auto source = parse_json(text, "s.json", out);
    REQUIRE(source);
    document_reader doc(*source, out);
    read(doc);
    return out.format();
}

// --- a miniature scenario loader, the way the real one is meant to read -----------------

enum class jitter_mode { none, full, equal, decorrelated };
enum class fault_kind { partition, crash, latency };

struct retry_policy {
    int max_attempts = 1;
    sim::duration backoff_base = 10ms;
    jitter_mode jitter = jitter_mode::full;
};
struct endpoint {
    std::string path;
    sim::duration latency = 1ms;
    double error_rate = 0;
};
struct service {
    std::string name;
    int replicas = 1;
    std::vector<endpoint> endpoints;
};
struct call_edge {
    std::string from;
    std::string to;
    sim::duration timeout = 1s;
    retry_policy retry = {};
};
struct workload {
    std::string target;
    double rate_per_s = 0;
    sim::duration duration = 60s;
};
struct fault {
    fault_kind kind = fault_kind::crash;
    sim::duration at{};
    std::optional<sim::duration> lasting = {};
    std::vector<std::string> nodes;
};
struct scenario {
    std::string name;
    std::uint64_t seed = 1;
    std::vector<service> services;
    std::vector<call_edge> calls;
    std::vector<workload> workloads;
    std::vector<fault> faults;
    std::map<std::string, double> expectations;
};

retry_policy read_retry(object_reader r) {
    retry_policy p;
    p.max_attempts = r.optional<int>("max_attempts", p.max_attempts, {.min = 1, .max = 100});
    p.backoff_base = r.optional<sim::duration>("backoff_base", p.backoff_base, {.min = 1us});
    p.jitter = r.choice("jitter",
                        {{"none", jitter_mode::none},
                         {"full", jitter_mode::full},
                         {"equal", jitter_mode::equal},
                         {"decorrelated", jitter_mode::decorrelated}},
                        p.jitter);
    r.finish();
    return p;
}

service read_service(object_reader r) {
    service s;
    s.name = r.required<std::string>("name", {.non_empty = true});
    s.replicas = r.optional<int>("replicas", s.replicas, {.min = 1, .max = 1000});
    for (const value_reader& item : r.array("endpoints")) {
        object_reader e = item.object();
        s.endpoints.push_back({.path = e.required<std::string>("path", {.non_empty = true}),
                               .latency = e.optional<sim::duration>("latency", 1ms),
                               .error_rate = e.optional<double>("error_rate", 0, {.min = 0, .max = 1})});
        e.finish();
    }
    r.allow({"description"});
    r.finish();
    return s;
}

fault read_fault(object_reader r) {
    fault f;
    f.kind = r.choice<fault_kind>(
        "kind", {{"partition", fault_kind::partition}, {"crash", fault_kind::crash}, {"latency", fault_kind::latency}});
    f.at = r.required<sim::duration>("at");
    f.lasting = r.maybe<sim::duration>("for", {.min = 1ns});
    for (const value_reader& node : r.array("nodes", {.min_items = 1})) f.nodes.push_back(node.as<std::string>());
    r.finish();
    return f;
}

scenario read_scenario(const document_reader& doc) {
    scenario s;
    object_reader root = doc.root();
    s.name = root.required<std::string>("name");
    s.seed = root.optional<std::uint64_t>("seed", s.seed);
    for (const value_reader& item : root.array("services", {.min_items = 1})) {
        s.services.push_back(read_service(item.object()));
    }
    std::vector<std::string> service_names;
    for (const auto& svc : s.services) service_names.push_back(svc.name);
    const auto check_service = [&](object_reader& r, std::string_view key, const std::string& name) {
        if (name.empty() || std::find(service_names.begin(), service_names.end(), name) != service_names.end()) return;
        std::string message = "no service named " + quote(name);
        if (auto suggestion = did_you_mean(name, service_names)) {
            message += " (did you mean " + quote(*suggestion) + "?)";
        }
        r.error(key, message);
    };
    for (const value_reader& item : root.array("calls")) {
        object_reader c = item.object();
        call_edge edge{.from = c.required<std::string>("from"), .to = c.required<std::string>("to")};
        check_service(c, "from", edge.from);
        check_service(c, "to", edge.to);
        edge.timeout = c.optional<sim::duration>("timeout", edge.timeout, {.min = 1us, .max = 1h});
        if (auto retry = c.maybe_object("retry")) edge.retry = read_retry(*retry);
        c.finish();
        s.calls.push_back(edge);
    }
    for (const value_reader& item : root.array("workloads")) {
        object_reader w = item.object();
        s.workloads.push_back({.target = w.required<std::string>("target"),
                               .rate_per_s = w.required<double>("rate_per_s", {.min = 0, .min_exclusive = true}),
                               .duration = w.optional<sim::duration>("duration", 60s)});
        w.finish();
    }
    for (const value_reader& item : root.array("faults")) s.faults.push_back(read_fault(item.object()));
    if (auto expectations = root.maybe_object("expectations")) {
        for (auto& [key, value] : expectations->entries()) {
            s.expectations[key] = value.as<double>({.min = 0, .max = 1});
        }
    }
    root.finish();
    return s;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

}  // namespace

TEST_CASE("a valid scenario reads into plain structs with no diagnostics", "[scenario][reader]") {
    const std::string text = R"({
  "name": "checkout",
  "seed": 18446744073709551615,
  "services": [
    {"name": "api", "replicas": 3, "description": "edge",
     "endpoints": [{"path": "/v1/cart", "latency": "2ms"}, {"path": "/v2/cart", "error_rate": 0.5}]},
    {"name": "payments"}
  ],
  "calls": [{"from": "api", "to": "payments", "timeout": "250ms",
             "retry": {"max_attempts": 3, "backoff_base": "1.5ms", "jitter": "decorrelated"}}],
  "workloads": [{"target": "api", "rate_per_s": 200}],
  "faults": [{"kind": "partition", "at": "10s", "for": "1m30s", "nodes": ["payments"]}],
  "expectations": {"availability": 0.99, "goodput": 1}
})";
    diagnostics out;
    const auto source = parse_json(text, "checkout.json", out);
    REQUIRE(source);
    document_reader doc(*source, out);
    const scenario s = read_scenario(doc);
    INFO(out.format());
    CHECK(out.empty());
    CHECK(s.name == "checkout");
    CHECK(s.seed == 18446744073709551615ULL);
    REQUIRE(s.services.size() == 2);
    CHECK(s.services[0].replicas == 3);
    REQUIRE(s.services[0].endpoints.size() == 2);
    CHECK(s.services[0].endpoints[0].latency == 2ms);
    CHECK(s.services[0].endpoints[1].error_rate == 0.5);
    CHECK(s.services[1].replicas == 1);
    REQUIRE(s.calls.size() == 1);
    CHECK(s.calls[0].timeout == 250ms);
    CHECK(s.calls[0].retry.max_attempts == 3);
    CHECK(s.calls[0].retry.backoff_base == 1500us);
    CHECK(s.calls[0].retry.jitter == jitter_mode::decorrelated);
    REQUIRE(s.workloads.size() == 1);
    CHECK(s.workloads[0].rate_per_s == 200.0);
    CHECK(s.workloads[0].duration == 60s);
    REQUIRE(s.faults.size() == 1);
    CHECK(s.faults[0].kind == fault_kind::partition);
    CHECK(s.faults[0].lasting == 90s);
    CHECK(s.expectations == std::map<std::string, double>{{"availability", 0.99}, {"goodput", 1.0}});
}

TEST_CASE("every problem in a scenario is reported at once, in file order", "[scenario][reader]") {
    const std::string dir = std::string(MESHSIM_SOURCE_DIR) + "/tests/harness/reader_fixtures/";
    diagnostics out;
    const auto source = load_json_file(dir + "many_problems.json", out);
    REQUIRE(source);
    document_reader doc(*source, out);
    read_scenario(doc);
    // The file name as given, so the expectation does not depend on the checkout path.
    std::string printed = out.format();
    for (std::size_t at; (at = printed.find(dir)) != std::string::npos;) printed.erase(at, dir.size());
    CHECK(printed == read_file(dir + "many_problems.expected"));
}

TEST_CASE("a syntax error in a scenario file is one diagnostic", "[scenario][reader]") {
    const std::string dir = std::string(MESHSIM_SOURCE_DIR) + "/tests/harness/reader_fixtures/";
    diagnostics out;
    CHECK_FALSE(load_json_file(dir + "missing_comma.json", out));
    CHECK(out.format() ==
          dir + "missing_comma.json:6:3: error: expected ',' or '}' after object member (at the root)\n");
}

TEST_CASE("an unknown key is reported at the key with the closest known key", "[scenario][reader]") {
    const auto printed = diagnostics_of("{\"retires\": 3, \"timeout\": \"1s\", \"colour\": 1}", [](auto& doc) {
        object_reader r = doc.root();
        r.optional<int>("retries", 0);
        r.optional<sim::duration>("timeout", 1s);
        r.finish();
    });
    CHECK(printed ==
          "s.json:1:2: error: unknown key \"retires\" (did you mean \"retries\"?) (at /retires)\n"
          "s.json:1:33: error: unknown key \"colour\" (at /colour)\n");
}

TEST_CASE("finish reports unknown keys once, and allowed keys never", "[scenario][reader]") {
    const auto printed = diagnostics_of("{\"description\": \"x\", \"extra\": 1}", [](auto& doc) {
        object_reader r = doc.root();
        object_reader copy = r;  // copies share what was read
        copy.allow({"description"});
        r.finish();
        copy.finish();
    });
    CHECK(printed == "s.json:1:22: error: unknown key \"extra\" (at /extra)\n");
}

TEST_CASE("wrong types are reported with what was expected and what was found", "[scenario][reader]") {
    const auto printed = diagnostics_of(
        R"({"a": "1", "b": 1, "c": [], "d": {}, "e": null, "f": 1.5, "g": "x", "h": 3, "i": true, "j": 2})",
        [](auto& doc) {
            object_reader r = doc.root();
            r.template required<double>("a");
            r.template required<std::string>("b");
            r.template required<bool>("c");
            r.array("d");
            r.object("e");
            r.template required<int>("f");
            r.template required<int>("g");
            r.template required<sim::duration>("h");
            r.template required<sim::duration>("i");
            r.enumeration("j", {"x", "y"});
            r.finish();
        });
    CHECK(printed ==
          "s.json:1:7: error: expected a number, got a string (at /a)\n"
          "s.json:1:17: error: expected a string, got a number (at /b)\n"
          "s.json:1:25: error: expected true or false, got an array (at /c)\n"
          "s.json:1:34: error: expected an array, got an object (at /d)\n"
          "s.json:1:43: error: expected an object, got null (at /e)\n"
          "s.json:1:54: error: expected an integer, got 1.5 (at /f)\n"
          "s.json:1:64: error: expected an integer, got a string (at /g)\n"
          "s.json:1:74: error: durations need a unit, e.g. \"250ms\" (and are written as strings); got 3 (at /h)\n"
          "s.json:1:82: error: expected a duration like \"250ms\", got a boolean (at /i)\n"
          "s.json:1:93: error: expected a string, got a number (at /j)\n");
}

TEST_CASE("values out of range name the key, the range and the value", "[scenario][reader]") {
    const auto printed = diagnostics_of(
        R"({"loss": 1.5, "rate": 0, "replicas": 0, "small": 3000000000, "seed": -1, "timeout": "2h",
            "tags": [], "pair": [1, 2, 3], "ratio": -0.5, "big": 1e30, "name": ""})",
        [](auto& doc) {
            object_reader r = doc.root();
            r.template optional<double>("loss", 0, {.min = 0, .max = 1});
            r.template required<double>("rate", {.min = 0, .min_exclusive = true});
            r.template optional<int>("replicas", 1, {.min = 1});
            r.template optional<int>("small", 1);
            r.template optional<std::uint64_t>("seed", 1);
            r.template optional<sim::duration>("timeout", 1s, {.min = 1ms, .max = 1h});
            r.array("tags", {.min_items = 1});
            r.array("pair", {.min_items = 2, .max_items = 2});
            r.template optional<double>("ratio", 0, {.min = 0, .max = 1, .max_exclusive = true});
            r.template optional<std::int64_t>("big", 0);
            r.template required<std::string>("name", {.non_empty = true});
            r.finish();
        });
    CHECK(printed ==
          "s.json:1:10: error: loss must be in [0, 1], got 1.5 (at /loss)\n"
          "s.json:1:23: error: rate must be > 0, got 0 (at /rate)\n"
          "s.json:1:38: error: replicas must be >= 1, got 0 (at /replicas)\n"
          "s.json:1:50: error: small must be <= 2147483647, got 3000000000 (at /small)\n"
          "s.json:1:70: error: seed must be >= 0, got -1 (at /seed)\n"
          "s.json:1:85: error: timeout must be in [1ms, 1h], got 2h (at /timeout)\n"
          "s.json:2:21: error: tags must not be empty (at /tags)\n"
          "s.json:2:33: error: pair must have at most 2 items, got 3 (at /pair)\n"
          "s.json:2:53: error: ratio must be in [0, 1), got -0.5 (at /ratio)\n"
          "s.json:2:66: error: big must be <= 9223372036854775807, got 1e+30 (at /big)\n"
          "s.json:2:80: error: name must not be empty (at /name)\n");
}

TEST_CASE("missing required keys are reported at the object that lacks them", "[scenario][reader]") {
    const auto printed = diagnostics_of("{\n  \"services\": [{\"replicas\": 2}]\n}", [](auto& doc) {
        object_reader r = doc.root();
        r.template required<std::string>("name");
        r.object("network");
        for (const value_reader& item : r.array("services")) {
            object_reader s = item.object();
            s.template required<std::string>("name");
            s.template optional<int>("replicas", 1);
            s.finish();
        }
        r.array("faults", {.min_items = 1});
        r.finish();
    });
    CHECK(printed ==
          "s.json:1:1: error: missing required key \"name\" (at the root)\n"
          "s.json:1:1: error: missing required key \"network\" (at the root)\n"
          "s.json:1:1: error: missing required key \"faults\" (at the root)\n"
          "s.json:2:16: error: missing required key \"name\" (at /services/0)\n");
}

TEST_CASE("a value not among the choices lists them and suggests the closest", "[scenario][reader]") {
    const auto printed = diagnostics_of(R"({"jitter": "ful", "mode": "zzz"})", [](auto& doc) {
        object_reader r = doc.root();
        CHECK(r.enumeration("jitter", {"none", "full", "equal", "decorrelated"}, "full") == "full");
        CHECK(r.enumeration("mode", {"a", "b"}).empty());
        r.finish();
    });
    CHECK(printed ==
          "s.json:1:12: error: jitter must be one of \"none\", \"full\", \"equal\" or \"decorrelated\", got \"ful\" "
          "(did you mean \"full\"?) (at /jitter)\n"
          "s.json:1:27: error: mode must be one of \"a\" or \"b\", got \"zzz\" (at /mode)\n");
}

TEST_CASE("reads return the fallback on bad input and carry on", "[scenario][reader]") {
    diagnostics out;
    const auto source = parse_json(R"({"a": "x", "b": {"c": 1}})", "s.json", out);
    REQUIRE(source);
    document_reader doc(*source, out);
    object_reader r = doc.root();
    CHECK(r.optional<int>("a", 7) == 7);
    CHECK(r.required<int>("a") == 0);
    CHECK(r.maybe<int>("a") == std::nullopt);
    CHECK(r.optional<int>("missing", 7) == 7);
    CHECK(r.maybe<int>("missing") == std::nullopt);
    CHECK(r.optional<int>("b", 7) == 7);
    CHECK_FALSE(r.maybe_object("a"));
    CHECK_FALSE(r.maybe_object("missing"));
    CHECK(r.maybe_object("b"));
    CHECK(r.array("b").empty());
    CHECK(out.count() == 6);
}

TEST_CASE("inside a value already reported as wrong, nothing more is reported", "[scenario][reader]") {
    const auto printed = diagnostics_of(R"({"retry": 3, "services": {"a": 1}})", [](auto& doc) {
        object_reader r = doc.root();
        object_reader retry = r.object("retry");
        CHECK_FALSE(retry.valid());
        CHECK(retry.template required<int>("max_attempts") == 0);
        CHECK(retry.template optional<int>("max_attempts", 5) == 5);
        retry.finish();
        for (const value_reader& item : r.array("services")) item.object().finish();
        r.finish();
    });
    CHECK(printed ==
          "s.json:1:11: error: expected an object, got a number (at /retry)\n"
          "s.json:1:26: error: expected an array, got an object (at /services)\n");
}

TEST_CASE("a root that is not an object is one diagnostic and reads nothing", "[scenario][reader]") {
    const auto printed = diagnostics_of("[1, 2]", [](auto& doc) {
        object_reader r = doc.root();
        r.template required<std::string>("name");
        r.finish();
    });
    CHECK(printed == "s.json:1:1: error: expected an object, got an array (at the root)\n");
}

TEST_CASE("entries give every member of a map in file order", "[scenario][reader]") {
    diagnostics out;
    const auto source = parse_json(R"({"zeta": 1, "alpha": 2, "mid": 3})", "s.json", out);
    REQUIRE(source);
    document_reader doc(*source, out);
    object_reader r = doc.root();
    std::vector<std::string> keys;
    for (auto& [key, value] : r.entries()) {
        keys.push_back(key);
        CHECK(value.as<int>() > 0);
        CHECK(value.label() == key);
    }
    r.finish();
    CHECK(keys == std::vector<std::string>{"zeta", "alpha", "mid"});
    CHECK(out.empty());
}

TEST_CASE("array elements are named by index in messages and pointers", "[scenario][reader]") {
    const auto printed = diagnostics_of(R"({"weights": [0.5, 2, "x"]})", [](auto& doc) {
        object_reader r = doc.root();
        const array_reader weights = r.array("weights");
        CHECK(weights.size() == 3);
        for (const value_reader& w : weights) w.template as<double>({.min = 0, .max = 1});
        CHECK_FALSE(weights[3].present());
        r.finish();
    });
    CHECK(printed ==
          "s.json:1:19: error: weights[1] must be in [0, 1], got 2 (at /weights/1)\n"
          "s.json:1:22: error: expected a number, got a string (at /weights/2)\n");
}

TEST_CASE("a later cross-reference error points at the value it is about", "[scenario][reader]") {
    diagnostics out;
    const auto source = parse_json("{\"calls\": [{\"to\": \"paymnts\"}]}", "s.json", out);
    REQUIRE(source);
    document_reader doc(*source, out);
    object_reader root = doc.root();
    std::vector<value_reader> targets;
    for (const value_reader& item : root.array("calls")) {
        object_reader call = item.object();
        targets.push_back(call.member("to"));
        call.finish();
    }
    root.finish();
    const std::vector<std::string> services = {"api", "payments"};
    for (const value_reader& target : targets) {
        const auto name = target.as<std::string>();
        const auto suggestion = did_you_mean(name, services).value_or("?");
        target.error("no service named " + quote(name) + " (did you mean " + quote(suggestion) + "?)");
    }
    CHECK(out.format() ==
          "s.json:1:19: error: no service named \"paymnts\" (did you mean \"payments\"?) (at /calls/0/to)\n");
}

TEST_CASE("the reader never throws on any parsed document", "[scenario][reader][property]") {
    rc::prop("scenario loader over arbitrary JSON", [] {
        // Shapes near a scenario, so the reads reach deep.
        const auto scalar = rc::gen::oneOf(
            rc::gen::just(std::string("1")), rc::gen::just(std::string("-1")), rc::gen::just(std::string("1.5")),
            rc::gen::just(std::string("\"250ms\"")), rc::gen::just(std::string("\"api\"")),
            rc::gen::just(std::string("\"full\"")), rc::gen::just(std::string("true")),
            rc::gen::just(std::string("null")), rc::gen::just(std::string("[]")), rc::gen::just(std::string("{}")),
            rc::gen::just(std::string("1e300")), rc::gen::just(std::string("18446744073709551615")));
        const auto key = rc::gen::element<std::string>("name", "seed", "services", "calls", "faults", "workloads",
                                                       "replicas", "endpoints", "retry", "from", "to", "timeout",
                                                       "kind", "at", "for", "nodes", "jitter", "expectations", "x");
        std::function<std::string(int)> value = [&](int depth) -> std::string {
            const int kind = *rc::gen::inRange(0, depth > 0 ? 3 : 1);
            if (kind == 0) return *scalar;
            std::string out = kind == 1 ? "[" : "{";
            const int size = *rc::gen::inRange(0, 4);
            std::vector<std::string> used;
            for (int i = 0; i < size; ++i) {
                if (kind == 2) {
                    const auto k = *key;
                    if (std::find(used.begin(), used.end(), k) != used.end()) continue;
                    used.push_back(k);
                    out += (used.size() > 1 ? ",\"" : "\"") + k + "\":";
                } else if (i > 0) {
                    out += ',';
                }
                out += value(depth - 1);
            }
            return out + (kind == 1 ? "]" : "}");
        };
        const std::string text = value(4);
        diagnostics out;
        const auto source = parse_json(text, "p.json", out);
        RC_ASSERT(source.has_value());
        document_reader doc(*source, out);
        read_scenario(doc);
        for (const diagnostic& d : out.sorted()) {
            RC_ASSERT(d.line >= 1);
            RC_ASSERT(!d.message.empty());
        }
    });
}
