// The platform group's service kinds end to end (gateway, database): each under a
// crash of one of its nodes, judged on the run's summary (outcomes, partial
// answers, the data ledger), not only on "it ran".
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim::harness;

namespace {

nlohmann::json run_text(const std::string& text) {
    diagnostics diags;
    auto s = load_scenario_text(text, "kinds.json", diags);
    INFO(diags.format());
    REQUIRE(s);
    run_options options;
    options.keep_events = false;
    run_result r = run_scenario(std::move(*s), options);
    REQUIRE(r.setup_errors.empty());
    return r.summary;
}

std::uint64_t count(const nlohmann::json& j) { return j.get<std::uint64_t>(); }

// A gateway over profile (required, 2 instances) and recommendations (optional);
// `faults` is the scenario's fault list.
std::string gateway_scenario(const std::string& faults) {
    return R"({"name": "gw", "duration": "3s",
  "services": [
    {"name": "front", "kind": "gateway", "instances": 2, "concurrency": 32,
     "endpoints": [{"path": "/page", "service_time": "500us",
                    "calls": [{"service": "profile", "endpoint": "/p"},
                              {"service": "recs", "endpoint": "/r", "required": false}]}]},
    {"name": "profile", "instances": 2, "concurrency": 16, "endpoints": [{"path": "/p", "service_time": "1ms"}]},
    {"name": "recs", "concurrency": 16, "endpoints": [{"path": "/r", "service_time": "2ms"}]}],
  "edges": [{"from": "front", "to": "recs", "timeout": "30ms"},
            {"from": "front", "to": "profile", "timeout": "30ms"}],
  "workloads": [{"name": "users", "service": "front", "endpoint": "/page", "open": {"arrivals": "constant", "rate_per_s": 100},
                 "client": {"timeout": "200ms", "retry": {"max_attempts": 3, "backoff_base": "5ms"}}}],
  "faults": )" +
           faults + "}";
}

const nlohmann::json& page_endpoint(const nlohmann::json& summary) {
    return summary["services"]["front"]["endpoints"][0];
}

}  // namespace

TEST_CASE("a gateway answers partial pages while an optional part is down, and only then", "[harness][kinds]") {
    const nlohmann::json calm = run_text(gateway_scenario("[]"));
    CHECK(count(page_endpoint(calm)["partial"]) == 0);
    CHECK(count(calm["workloads"]["users"]["outcomes"]["failed"]) == 0);

    // recs crashed for 1s of 3s: about a third of the 300 pages lack it, none fails.
    const nlohmann::json s =
        run_text(gateway_scenario(R"([{"kind": "crash", "service": "recs", "at": "1s", "for": "1s"}])"));
    const nlohmann::json& page = page_endpoint(s);
    CHECK(count(s["workloads"]["users"]["outcomes"]["failed"]) == 0);
    CHECK(count(page["partial"]) >= 90);
    CHECK(count(page["partial"]) <= 110);
    CHECK(count(page["outcomes"]["by_status"]["200"]) == count(page["outcomes"]["total"]));
}

TEST_CASE("a gateway fails pages while a required part is down (502)", "[harness][kinds]") {
    const nlohmann::json s =
        run_text(gateway_scenario(R"([{"kind": "crash", "service": "profile", "at": "1s", "for": "1s"}])"));
    const nlohmann::json& page = page_endpoint(s);
    CHECK(count(page["outcomes"]["by_status"]["502"]) >= 200);  // each page tried 3 times during the crash
    CHECK(count(s["workloads"]["users"]["outcomes"]["failed"]) >= 90);
    CHECK(count(page["partial"]) == 0);
}

TEST_CASE("a crashed gateway instance: clients retry on the other, no page lost", "[harness][kinds]") {
    const nlohmann::json s = run_text(
        gateway_scenario(R"([{"kind": "crash", "service": "front", "instance": 1, "at": "1s", "for": "1s"}])"));
    CHECK(count(s["workloads"]["users"]["outcomes"]["failed"]) == 0);
    CHECK(count(s["workloads"]["users"]["retries"]) >= 40);  // half the pages of that second met the crashed one
    CHECK(count(page_endpoint(s)["partial"]) == 0);
}

namespace {

// Orders (2 instances) writing through a database of `shards` instances; `faults` as above.
std::string database_scenario(int shards, const std::string& faults) {
    return R"({"name": "db", "duration": "3s",
  "services": [
    {"name": "orders", "instances": 2, "concurrency": 32,
     "endpoints": [{"path": "/o", "method": "POST", "service_time": "1ms",
                    "write": {"dedupe": true, "database": "orders-db"}}]},
    {"name": "orders-db", "kind": "database", "instances": )" +
           std::to_string(shards) + R"(, "concurrency": 8, "service_time": "1ms"}],
  "edges": [{"from": "orders", "to": "orders-db", "timeout": "50ms"}],
  "workloads": [{"name": "w", "service": "orders", "endpoint": "/o", "open": {"arrivals": "constant", "rate_per_s": 200},
                 "client": {"timeout": "100ms", "deadline": "3s",
                            "retry": {"max_attempts": 10, "backoff_base": "50ms", "backoff_max": "200ms"}}}],
  "faults": )" +
           faults +
           R"(, "expectations": [{"check": "no_lost_writes", "service": "orders"},
                   {"check": "no_duplicate_effects", "service": "orders"}]})";
}

}  // namespace

TEST_CASE("a crashed database keeps every write it acknowledged, writes wait for its restart", "[harness][kinds]") {
    const nlohmann::json s =
        run_text(database_scenario(1, R"([{"kind": "crash", "service": "orders-db", "at": "1s", "for": "500ms"}])"));
    const nlohmann::json& data = s["services"]["orders"]["data"];
    INFO(s["checks"].dump());
    CHECK(s["verdict"] == "pass");
    // Every write acknowledged (clients retried through the crash) is in the database, once.
    CHECK(count(data["writes_acknowledged"]) >= 590);
    CHECK(count(data["records_stored"]) >= count(data["writes_acknowledged"]));
    CHECK(count(data["effects"]) == count(data["records_stored"]));
    CHECK(count(data["duplicate_effects"]) == 0);
    // The orders instances keep nothing themselves; the database's edge saw the crash.
    CHECK(count(s["services"]["orders-db"]["endpoints"][0]["outcomes"]["ok"]) >= 590);
    bool saw_failures = false;
    for (const auto& e : s["edges"]) {
        if (e["from"] == "orders" && e["to"] == "orders-db") saw_failures = count(e["outcomes"]["failed"]) > 0;
    }
    CHECK(saw_failures);
    CHECK(count(s["workloads"]["w"]["retries"]) > 0);
}

TEST_CASE("a sharded database: one shard down fails only its keys", "[harness][kinds]") {
    const nlohmann::json s = run_text(database_scenario(
        2, R"([{"kind": "crash", "service": "orders-db", "instance": 2, "at": "1s", "restart": false}])"));
    const nlohmann::json& data = s["services"]["orders"]["data"];
    INFO(s["checks"].dump());
    CHECK(s["verdict"] == "pass");  // nothing acknowledged is lost, nothing applied twice
    // Before the crash both shards take writes; after it the keys of shard 2 (about
    // half of the 400 sent) fail or still retry when the run ends, the others succeed.
    const nlohmann::json& w = s["workloads"]["w"];
    const std::uint64_t unanswered_ok = count(w["arrivals"]) - count(w["outcomes"]["ok"]);
    CHECK(count(w["arrivals"]) == 599);  // constant 200/s from 5ms to 3s
    CHECK(unanswered_ok >= 170);
    CHECK(unanswered_ok <= 230);
    CHECK(count(w["outcomes"]["ok"]) == count(data["writes_acknowledged"]));
}

TEST_CASE("a shared database catches the duplicates that per-instance dedupe lets through", "[harness][kinds]") {
    const auto file = [](const std::string& name) {
        diagnostics diags;
        auto s = load_scenario_file(std::string(MESHSIM_SOURCE_DIR) + "/scenarios/" + name, diags);
        REQUIRE(s);
        run_options options;
        options.keep_events = false;
        return run_scenario(std::move(*s), options).summary;
    };
    const nlohmann::json shared = file("database.json");
    const nlohmann::json local = file("database_fails.json");
    CHECK(count(shared["services"]["orders"]["data"]["duplicate_effects"]) == 0);
    CHECK(count(local["services"]["orders"]["data"]["duplicate_effects"]) > 0);
    CHECK(local["checks"][0]["check"] == "no_duplicate_effects");
    CHECK_FALSE(local["checks"][0]["passed"].get<bool>());
    CHECK(local["checks"][1]["passed"].get<bool>());  // no_lost_writes holds either way
}

namespace {

// Sessions: three instances behind the users' round robin, logging in (POST /login)
// then reading the session (GET /profile) `reads` times; the sessions are kept in a
// database of `shards` instances (0: in each instance's own store, never synced).
// Sessions start (Poisson or at a constant rate) until 1s before the run ends.
std::string session_scenario(int shards, int reads, double rate, const std::string& duration,
                             const std::string& arrivals = "constant") {
    const std::string write = shards > 0 ? R"({"dedupe": true, "database": "sessions-db"})"
                                         : R"({"dedupe": true, "sync": "periodic", "sync_interval": "1h"})";
    const std::string database =
        shards > 0
            ? R"(, {"name": "sessions-db", "kind": "database", "concurrency": 8, "service_time": "1ms", "instances": )" +
                  std::to_string(shards) + "}"
            : "";
    return R"({"name": "sessions", "duration": ")" + duration + R"(",
  "services": [
    {"name": "sessions", "instances": 3, "concurrency": 16,
     "endpoints": [{"path": "/login", "method": "POST", "service_time": "1ms", "write": )" +
           write + R"(},
                   {"path": "/profile", "service_time": "1ms", "read": {"from": "/login"}}]})" +
           database + R"(],
  "workloads": [{"name": "users", "service": "sessions", "endpoint": "/login",
                 "open": {"arrivals": ")" +
           arrivals + R"(", "rate_per_s": )" + std::to_string(rate) + R"(}, "stop": "1s",
                 "session": {"endpoint": "/profile", "reads": )" +
           std::to_string(reads) + R"(, "think_time": {"dist": "exponential", "mean": "5ms"}},
                 "client": {"timeout": "100ms"}}]})";
}

// Requests each instance of `service` was sent over the run, by instance name.
std::map<std::string, std::uint64_t> arrivals_by_instance(const nlohmann::json& summary, const std::string& service) {
    std::map<std::string, std::uint64_t> out;
    for (const auto& [name, row] : summary["services"][service]["instances"].items()) {
        for (const auto& b : row["series"]) out[name] += count(b["arrivals"]);
    }
    return out;
}

}  // namespace

TEST_CASE("one session: its read, rotated to another instance, misses in instance memory and is found in a database",
          "[harness][kinds][sessions]") {
    // One session at 500ms: round robin sends the login to one instance and each read to the next.
    const nlohmann::json memory = run_text(session_scenario(0, 3, 2, "2s"));
    const nlohmann::json& m = memory["services"]["sessions"]["data"];
    CHECK(count(m["writes_acknowledged"]) == 1);
    CHECK(count(m["session_reads_found"]) == 0);
    CHECK(count(m["session_reads_missed"]) == 1);  // the first read, on the next instance: the session ends
    CHECK(count(memory["workloads"]["users"]["outcomes"]["total"]) == 1);
    CHECK(count(memory["workloads"]["users"]["outcomes"]["failed"]) == 1);
    CHECK(count(memory["workloads"]["users"]["outcomes"]["by_status"]["404"]) == 1);
    // Really another instance: two instances served one request each (login, read).
    const auto memory_rows = arrivals_by_instance(memory, "sessions");
    CHECK(std::count_if(memory_rows.begin(), memory_rows.end(), [](const auto& r) { return r.second == 1; }) == 2);

    const nlohmann::json shared = run_text(session_scenario(1, 3, 2, "2s"));
    const nlohmann::json& d = shared["services"]["sessions"]["data"];
    CHECK(count(d["session_reads_found"]) == 3);
    CHECK(count(d["session_reads_missed"]) == 0);
    CHECK(count(shared["workloads"]["users"]["outcomes"]["ok"]) == 1);
    CHECK(count(shared["workloads"]["users"]["attempts"]) == 4);  // a session's attempts are every call's
    // Login and three reads over the three instances: every instance served the session.
    const auto shared_rows = arrivals_by_instance(shared, "sessions");
    REQUIRE(shared_rows.size() == 3);
    for (const auto& [name, n] : shared_rows) CHECK(n >= 1);
}

TEST_CASE("session reads: about two in three miss in instance memory, none in a sharded database",
          "[harness][kinds][sessions]") {
    const nlohmann::json memory = run_text(session_scenario(0, 3, 200, "2s", "poisson"));
    const nlohmann::json& m = memory["services"]["sessions"]["data"];
    const double missed = static_cast<double>(count(m["session_reads_missed"]));
    const double reads = missed + static_cast<double>(count(m["session_reads_found"]));
    CHECK(count(m["writes_acknowledged"]) >= 150);
    CHECK(missed / reads > 0.5);
    CHECK(missed / reads < 0.8);
    CHECK(count(memory["workloads"]["users"]["outcomes"]["failed"]) == count(m["session_reads_missed"]));

    // Two shards: each lookup goes to the shard the key was written to (a wrong one would miss).
    const nlohmann::json shared = run_text(session_scenario(2, 3, 200, "2s", "poisson"));
    const nlohmann::json& d = shared["services"]["sessions"]["data"];
    const nlohmann::json& users = shared["workloads"]["users"];
    CHECK(count(d["session_reads_missed"]) == 0);
    CHECK(count(users["outcomes"]["ok"]) >= 150);
    CHECK(count(users["outcomes"]["failed"]) == 0);
    CHECK(count(d["session_reads_found"]) == 3 * count(users["outcomes"]["ok"]));
    const nlohmann::json& lookup = shared["services"]["sessions-db"]["endpoints"][1];
    CHECK(lookup["path"] == "/records/lookup");
    CHECK(count(lookup["outcomes"]["by_status"]["200"]) == count(d["session_reads_found"]));
    const auto shards = arrivals_by_instance(shared, "sessions-db");
    REQUIRE(shards.size() == 2);
    for (const auto& [name, n] : shards) CHECK(n >= 200);  // both shards serve writes and lookups
}

TEST_CASE("a database serves lookups only when a read endpoint reads from it", "[harness][kinds][sessions]") {
    const auto endpoints_of_db = [](const std::string& text) {
        diagnostics diags;
        auto s = load_scenario_text(text, "kinds.json", diags);
        INFO(diags.format());
        REQUIRE(s);
        std::vector<std::string> paths;
        for (const endpoint_config& e : s->find_service("sessions-db")->endpoints)
            paths.push_back(e.method + " " + e.path);
        return paths;
    };
    CHECK(endpoints_of_db(session_scenario(1, 1, 10, "2s")) ==
          std::vector<std::string>{"POST /records", "GET /records/lookup"});
    // The same services without the read endpoint (and without sessions): the database is as it always was.
    std::string plain = session_scenario(1, 1, 10, "2s");
    plain.replace(plain.find(R"(,
                   {"path": "/profile")"),
                  std::string(R"(,
                   {"path": "/profile", "service_time": "1ms", "read": {"from": "/login"}})")
                      .size(),
                  "");
    plain.replace(plain.find(R"("session": )"), plain.find(R"("client")") - plain.find(R"("session": )"), "");
    CHECK(endpoints_of_db(plain) == std::vector<std::string>{"POST /records"});
}

namespace {

// Contending read-modify-write clients of a kv store; `extra` goes into the scenario root.
std::string kv_scenario(bool compare_and_set, const std::string& faults) {
    return R"({"name": "kv", "duration": "6s",
  "services": [{"name": "counters", "kind": "kv", "concurrency": 2, "service_time": "1ms"}],
  "workloads": [{"name": "c", "service": "counters",
                 "contend": {"key": "n", "clients": 6, "updates": 40, "compare_and_set": )" +
           std::string(compare_and_set ? "true" : "false") + R"(},
                 "client": {"timeout": "50ms", "deadline": "2s",
                            "retry": {"max_attempts": 20, "backoff_base": "5ms", "backoff_max": "100ms"}}}],
  "faults": )" +
           faults + R"(, "expectations": [{"check": "no_lost_updates", "workload": "c"}]})";
}

}  // namespace

TEST_CASE("compare-and-set loses no update under contention, blind writes do", "[harness][kinds]") {
    const nlohmann::json cas = run_text(kv_scenario(true, "[]"));
    const nlohmann::json& w = cas["workloads"]["c"];
    CHECK(cas["verdict"] == "pass");
    CHECK(count(w["outcomes"]["ok"]) == 240);
    CHECK(cas["checks"][0]["measured"] == "240 successful updates, final value 240");
    // Conflicts were retried: more calls than a GET and a PUT per update.
    const nlohmann::json& put = cas["services"]["counters"]["endpoints"][1];
    CHECK(put["path"] == "/put");
    CHECK(count(put["outcomes"]["by_status"]["409"]) > 0);
    CHECK(count(w["retries"]) == count(put["outcomes"]["by_status"]["409"]));
    CHECK(count(w["attempts"]) > 2 * 240);

    const nlohmann::json blind = run_text(kv_scenario(false, "[]"));
    CHECK(blind["verdict"] == "fail");
    CHECK(count(blind["workloads"]["c"]["outcomes"]["ok"]) == 240);
    CHECK(count(blind["workloads"]["c"]["attempts"]) == 2 * 240);
}

TEST_CASE("a crashed kv store keeps every update it acknowledged", "[harness][kinds]") {
    const nlohmann::json s =
        run_text(kv_scenario(true, R"([{"kind": "crash", "service": "counters", "at": "100ms", "for": "300ms"}])"));
    const nlohmann::json& w = s["workloads"]["c"];
    INFO(s["checks"].dump());
    CHECK(s["verdict"] == "pass");
    // The clients' calls met the crash (timeouts, retried by the client edge), and
    // updates went on after the restart from the value the store had synced.
    CHECK(count(w["attempts"]) > count(s["services"]["counters"]["endpoints"][0]["arrivals"]) +
                                     count(s["services"]["counters"]["endpoints"][1]["arrivals"]));
    CHECK(count(w["outcomes"]["ok"]) >= 200);
    CHECK(s["checks"][0]["passed"].get<bool>());
}

namespace {

// An api checking keys with an auth service (`auth_instances` instances, cache
// `ttl`); key "gone" is revoked at 2s; `faults` as above.
std::string auth_scenario(const std::string& ttl, const std::string& faults) {
    return R"({"name": "auth", "duration": "4s",
  "services": [
    {"name": "keys", "kind": "auth", "keys": ["ok", "gone"], "revoke": [{"key": "gone", "at": "2s"}]},
    {"name": "api", "concurrency": 16, "auth": {"service": "keys", "cache_ttl": ")" +
           ttl + R"("}, "endpoints": [{"path": "/x"}]}],
  "edges": [{"from": "api", "to": "keys", "timeout": "20ms"}],
  "workloads": [
    {"name": "ok", "service": "api", "endpoint": "/x", "api_key": "ok", "open": {"arrivals": "constant", "rate_per_s": 100}},
    {"name": "gone", "service": "api", "endpoint": "/x", "api_key": "gone", "open": {"arrivals": "constant", "rate_per_s": 100}},
    {"name": "typo", "service": "api", "endpoint": "/x", "api_key": "okk", "open": {"arrivals": "constant", "rate_per_s": 10}}],
  "faults": )" +
           faults + R"(, "expectations": [{"check": "no_unauthenticated"}]})";
}

// Successful requests of a workload per 1s bucket.
std::vector<std::uint64_t> goodput_series(const nlohmann::json& summary, const std::string& workload) {
    std::vector<std::uint64_t> out;
    for (const auto& b : summary["workloads"][workload]["series"]) out.push_back(count(b["goodput"]));
    return out;
}

}  // namespace

TEST_CASE("a revoked key stops working within the cache TTL, unknown keys never work", "[harness][kinds]") {
    for (const std::string ttl : {"0s", "500ms"}) {
        INFO(ttl);
        const nlohmann::json s = run_text(auth_scenario(ttl, "[]"));
        CHECK(s["verdict"] == "pass");
        const std::vector<std::uint64_t> gone = goodput_series(s, "gone");
        REQUIRE(gone.size() == 4);
        CHECK(gone[1] == 100);
        // Revoked at 2s: nothing after the TTL; with no cache, nothing after 2s at all.
        CHECK(gone[2] <= (ttl == "0s" ? 1U : 50U));
        CHECK(gone[3] == 0);
        CHECK(count(s["workloads"]["typo"]["outcomes"]["ok"]) == 0);
        CHECK(count(s["workloads"]["ok"]["outcomes"]["failed"]) == 0);
    }
    // The cache saves calls: with a 500ms TTL a few per key, not one per request.
    const nlohmann::json cached = run_text(auth_scenario("500ms", "[]"));
    CHECK(count(cached["edges"][0]["outcomes"]["total"]) <= 30);
}

TEST_CASE("a crashed auth service: cached keys work for the TTL, then requests are refused (fail closed)",
          "[harness][kinds]") {
    const nlohmann::json s =
        run_text(auth_scenario("500ms", R"([{"kind": "crash", "service": "keys", "at": "1s", "for": "1s"}])"));
    CHECK(s["verdict"] == "pass");  // nothing served unauthenticated
    const std::vector<std::uint64_t> ok = goodput_series(s, "ok");
    REQUIRE(ok.size() == 4);
    CHECK(ok[0] >= 99);  // the first second: 100 sent from 10ms on, the last answered in the next
    CHECK(ok[1] >= 1);   // the answer cached before the crash, for up to 500ms
    CHECK(ok[1] <= 60);  // then 503: auth cannot be asked
    CHECK(ok[3] >= 99);  // back after the restart
    CHECK(count(s["workloads"]["ok"]["outcomes"]["by_status"]["503"]) >= 40);
    CHECK(count(s["services"]["api"]["data"]["served_unauthenticated"]) == 0);
}
