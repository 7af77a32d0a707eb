// The real runtime (runtime/) and `meshsim serve`: the store, the host's messages and
// crashes, serve's bad input (exit 2, nothing left listening) and its HTTP edge.
// Real time and real sockets: these tests are short (a few seconds at most).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include "harness/cli_testing.hpp"
#include "harness/scenario/loader.hpp"
#include "harness/serve.hpp"
#include "harness/summary.hpp"
#include "runtime/file_store.hpp"
#include "runtime/host.hpp"
#include "runtime/http_edge.hpp"
#include "sim/sync.hpp"

namespace {

using namespace meshsim;
using namespace std::chrono_literals;
using testing::scratch_dir;
using tcp = boost::asio::ip::tcp;

bool port_free(std::uint16_t port) {
    boost::asio::io_context io;
    tcp::acceptor a(io);
    boost::system::error_code ec;
    a.open(tcp::v4(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(tcp::endpoint(boost::asio::ip::address_v4::loopback(), port), ec);
    return !ec;
}

// The first of `count` consecutive ports nothing listens on now. Taken below Linux's
// ephemeral range (32768 and up), where no outgoing connection of a test running
// beside this one can take a port between this check and the bind; the start depends
// on the process id, so two test processes start their search in different places.
std::uint16_t free_port_block(int count) {
    constexpr int low = 20000, high = 32000;
    const int start = low + static_cast<int>(::getpid() % 997) * 12;
    for (int attempt = 0; attempt < (high - low) / 8; ++attempt) {
        const int base = low + (start - low + attempt * 8) % (high - low - count);
        bool all_free = true;
        for (int i = 0; i < count && all_free; ++i) all_free = port_free(static_cast<std::uint16_t>(base + i));
        if (all_free) return static_cast<std::uint16_t>(base);
    }
    FAIL("no " << count << " consecutive free ports between " << low << " and " << high);
    return 0;
}

harness::scenario load_text(const std::string& text) {
    harness::diagnostics diags;
    std::optional<harness::scenario> s = harness::load_scenario_text(text, "test.json", diags);
    INFO(diags.format());
    REQUIRE(s);
    return *s;
}

const char* small_scenario = R"({
  "name": "small", "duration": "2s",
  "services": [
    {"name": "front", "endpoints": [{"path": "/hello", "service_time": "3ms", "calls": [{"service": "back", "endpoint": "/work"}]}]},
    {"name": "back", "instances": 2, "endpoints": [{"path": "/work", "service_time": "2ms"}]}
  ],
  "workloads": [{"name": "users", "service": "front", "endpoint": "/hello", "open": {"rate_per_s": 50}}],
  "expectations": [{"check": "goodput", "workload": "users", "min_ratio": 0.9}]
})";

}  // namespace

TEST_CASE("file_store: a crash keeps what sync() wrote and loses the rest", "[runtime]") {
    const scratch_dir dir;
    real::file_store store;
    store.open((dir / "n.store").string());
    store.put("a", 1);
    store.put("b", nlohmann::json{{"x", "y"}});
    store.sync();
    store.put("c", 3);
    CHECK(store.erase("a"));
    CHECK_FALSE(store.erase("zzz"));
    CHECK(store.keys() == std::vector<std::string>{"b", "c"});
    store.lose_unsynced();
    CHECK(store.keys() == std::vector<std::string>{"a", "b"});
    CHECK(store.get("a") == nlohmann::json(1));
    CHECK(store.get("b")->at("x") == "y");
    CHECK_FALSE(store.get("c"));
    store.erase("a");
    store.sync();
    store.lose_unsynced();
    CHECK(store.keys() == std::vector<std::string>{"b"});
    CHECK(store.keys("c").empty());
}

TEST_CASE("file_store: a directory it cannot write is an error, not a crash", "[runtime]") {
    const scratch_dir dir;
    testing::write_text(dir / "file", "x");
    real::file_store store;
    CHECK_THROWS_AS(store.open((dir / "file" / "n.store").string()), real::host_error);
    CHECK_THROWS_AS(store.open((dir / "missing" / "n.store").string()), real::host_error);
}

TEST_CASE("grpc-timeout values parse as gRPC defines them", "[runtime]") {
    CHECK(real::parse_grpc_timeout("500m") == sim::duration(500ms));
    CHECK(real::parse_grpc_timeout("2S") == sim::duration(2s));
    CHECK(real::parse_grpc_timeout("10u") == sim::duration(10us));
    CHECK(real::parse_grpc_timeout("1H") == sim::duration(1h));
    for (const char* bad : {"", "m", "5", "5x", "-5m", "1234567890S", " 5m", "5 m"}) {
        INFO(bad);
        CHECK_FALSE(real::parse_grpc_timeout(bad));
    }
}

TEST_CASE("host: messages cross real sockets, and a crashed node refuses, restarts and loses unsynced writes",
          "[runtime]") {
    const scratch_dir dir;
    real::host h({.seed = 1, .data_dir = dir.path().string()});
    std::vector<std::string> got;
    int bounces = 0;
    int boots = 0;
    const sim::node_id server = h.add_node(
        "server",
        [&](sim::runtime& rt) {
            ++boots;
            sim::store& st = rt.durable_store();
            if (!st.get("synced")) {
                st.put("synced", true);
                st.sync();
            }
            st.put("unsynced", true);
            rt.bind(80);
            while (auto m = rt.receive(80, sim::time_never)) {
                got.push_back(m->body.get<std::string>());
                sim::message reply;
                reply.to = m->from;
                reply.body = "re:" + m->body.get<std::string>();
                rt.send(std::move(reply));
            }
        },
        0);
    std::vector<std::string> replies;
    const sim::node_id client = h.add_node(
        "client",
        [&](sim::runtime& rt) {
            rt.bind(7);
            for (int i = 0; i < 6; ++i) {
                sim::message m;
                m.to = {server, 80};
                m.from = {0, 7};
                m.body = std::to_string(i);
                m.bounce_if_refused = true;
                rt.send(std::move(m));
                if (auto r = rt.receive(7, rt.now() + sim::duration(1s))) {
                    if (r->head.find(sim::bounce_header)) {
                        ++bounces;
                    } else {
                        replies.push_back(r->body.get<std::string>());
                    }
                }
                rt.sleep_for(sim::duration(100ms));
            }
        },
        0);
    (void)client;
    h.start_at_begin(server);
    h.start_at_begin(client);
    bool unsynced_after_crash = true;
    bool synced_after_crash = false;
    h.at(sim::time_zero + 250ms, [&] { h.crash(server); });
    h.at(sim::time_zero + 300ms, [&] {
        unsynced_after_crash = h.store_of(server).get("unsynced").has_value();
        synced_after_crash = h.store_of(server).get("synced").has_value();
    });
    h.at(sim::time_zero + 350ms, [&] { h.start(server); });
    h.open();
    CHECK(h.port_of(server) != 0);
    const auto t0 = std::chrono::steady_clock::now();
    real::run_end how = real::run_end::stopped;
    real::run_on_own_thread([&] { how = h.run(sim::duration(900ms)); });
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(how == real::run_end::elapsed);
    CHECK(took >= 900ms);
    CHECK(took < 5s);
    CHECK(boots == 2);
    CHECK_FALSE(unsynced_after_crash);
    CHECK(synced_after_crash);
    // Sent at 0, 100, 200 (answered), 300 (refused: down), 400.. (answered again).
    CHECK(bounces >= 1);
    CHECK(replies.size() + bounces == 6);
    CHECK(replies.front() == "re:0");
    CHECK(h.messages_sent() >= 6);
    CHECK(h.fiber_errors() == 0);
    // Every socket closed when run() returned.
    CHECK(port_free(h.port_of(server)));
}

TEST_CASE("serve: bad input is exit 2 with a clear error and nothing left listening", "[runtime][serve]") {
    const scratch_dir dir;
    const harness::scenario s = load_text(small_scenario);

    SECTION("a port in use") {
        boost::asio::io_context io;
        const std::uint16_t base = free_port_block(6);  // three instances, a TCP and an HTTP port each
        tcp::acceptor taken(io, tcp::endpoint(boost::asio::ip::address_v4::loopback(), base + 1));
        harness::serve_options o;
        o.base_port = base;
        o.data_dir = (dir / "data").string();
        const harness::serve_result r = harness::serve_scenario(s, o);
        REQUIRE(r.setup_errors.size() == 1);
        CHECK_THAT(r.setup_errors[0], Catch::Contains(std::to_string(base + 1)));
        CHECK_THAT(r.setup_errors[0], Catch::Contains("in use"));
        CHECK(port_free(base));  // the instance bound before the failing one was closed again
        // The CLI: exit 2, the error on stderr.
        testing::write_text(dir / "s.json", small_scenario);
        const testing::cli_result cli = testing::run_meshsim(
            {"serve", (dir / "s.json").string(), "--base-port", std::to_string(base), "--out", (dir / "out").string()});
        CHECK(cli.exit_code == 2);
        CHECK_THAT(cli.err, Catch::Contains("meshsim: error: 127.0.0.1:" + std::to_string(base + 1)));
        CHECK(port_free(base));
    }
    SECTION("more instances than ports") {
        harness::serve_options o;
        o.base_port = 65534;
        o.data_dir = (dir / "data").string();
        const harness::serve_result r = harness::serve_scenario(s, o);
        REQUIRE(r.setup_errors.size() == 1);
        CHECK_THAT(r.setup_errors[0], Catch::Contains("3 instances need 6 ports, beyond port 65535"));
    }
    SECTION("a data directory it cannot create or write") {
        testing::write_text(dir / "file", "x");
        harness::serve_options o;
        o.data_dir = (dir / "file" / "data").string();
        const harness::serve_result r = harness::serve_scenario(s, o);
        REQUIRE(r.setup_errors.size() == 1);
        CHECK_THAT(r.setup_errors[0], Catch::Contains("cannot create the directory"));
        testing::write_text(dir / "s.json", small_scenario);
        const testing::cli_result cli =
            testing::run_meshsim({"serve", (dir / "s.json").string(), "--data-dir", (dir / "file").string(), "--out",
                                  (dir / "out").string()});
        CHECK(cli.exit_code == 2);
        CHECK_THAT(cli.err, Catch::Contains("meshsim: error:"));
    }
    SECTION("bad flags") {
        testing::write_text(dir / "s.json", small_scenario);
        for (const std::vector<std::string>& flags :
             std::vector<std::vector<std::string>>{{"--base-port", "0"},
                                                   {"--base-port", "65536"},
                                                   {"--base-port", "-1"},
                                                   {"--base-port", "80x"},
                                                   {"--base-port", ""},
                                                   {"--until", "0s"},
                                                   {"--until", "soon"},
                                                   {"--data-dir", ""},
                                                   {"--events", "nope"},
                                                   {"--events", ""},
                                                   {"--out", (dir / "file-out").string()}}) {
            testing::write_text(dir / "file-out", "x");
            std::vector<std::string> args = {"serve", (dir / "s.json").string()};
            args.insert(args.end(), flags.begin(), flags.end());
            const testing::cli_result cli = testing::run_meshsim(args);
            INFO(flags[0] << " " << flags[1] << ": " << cli.err);
            CHECK(cli.exit_code == 2);
            CHECK_THAT(cli.err, Catch::Contains("error"));
        }
        const testing::cli_result missing = testing::run_meshsim({"serve", (dir / "nope.json").string()});
        CHECK(missing.exit_code == 2);
        const testing::cli_result none = testing::run_meshsim({"serve"});
        CHECK(none.exit_code == 2);
    }
}

namespace {

// One HTTP/1.1 exchange on a fresh connection; the whole response as text.
std::string http_exchange(std::uint16_t port, const std::string& request) {
    boost::asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(boost::asio::ip::address_v4::loopback(), port));
    boost::asio::write(socket, boost::asio::buffer(request));
    boost::asio::streambuf buf;
    boost::system::error_code ec;
    boost::asio::read(socket, buf, ec);  // Connection: close: read to the end
    return {boost::asio::buffers_begin(buf.data()), boost::asio::buffers_end(buf.data())};
}

}  // namespace

TEST_CASE("serve: curl-style HTTP requests get answers while the scenario runs, and a stop still summarizes",
          "[runtime][serve]") {
    const scratch_dir dir;
    harness::scenario s = load_text(small_scenario);
    harness::serve_options o;
    o.data_dir = (dir / "data").string();
    o.handle_signals = false;
    o.until = sim::duration(10s);
    std::promise<nlohmann::json> ready;
    std::function<void()> stop;
    o.on_ready = [&](const nlohmann::json& ports) { ready.set_value(ports); };
    o.on_stop_handle = [&](std::function<void()> f) { stop = std::move(f); };
    harness::serve_result r;
    std::thread serving([&] { r = harness::serve_scenario(s, o); });
    const nlohmann::json ports = ready.get_future().get();
    REQUIRE(ports.size() == 3);
    CHECK(ports[0]["node"] == "front-1");
    const auto front_http = ports[0]["http"].get<std::uint16_t>();
    std::this_thread::sleep_for(300ms);
    const std::string ok = http_exchange(front_http,
                                         "GET /hello HTTP/1.1\r\nHost: x\r\nx-correlation-id: c-42\r\n"
                                         "grpc-timeout: 2S\r\nConnection: close\r\n\r\n");
    CHECK_THAT(ok, Catch::StartsWith("HTTP/1.1 200"));
    CHECK_THAT(ok, Catch::Contains("x-correlation-id: c-42"));
    CHECK_THAT(ok, Catch::Contains("application/json"));
    const std::string missing = http_exchange(front_http, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK_THAT(missing, Catch::StartsWith("HTTP/1.1 404"));
    const std::string bad_json = http_exchange(
        front_http, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{x}");
    CHECK_THAT(bad_json, Catch::StartsWith("HTTP/1.1 400"));
    const std::string bad_deadline =
        http_exchange(front_http, "GET /hello HTTP/1.1\r\nHost: x\r\nx-deadline-ns: soon\r\nConnection: close\r\n\r\n");
    CHECK_THAT(bad_deadline, Catch::StartsWith("HTTP/1.1 400"));
    std::this_thread::sleep_for(700ms);
    stop();
    serving.join();
    REQUIRE(r.setup_errors.empty());
    CHECK(r.interrupted);
    CHECK(r.summary["mode"] == "real-time");
    CHECK(r.summary["trace_hash"].is_null());
    CHECK(r.summary["events"].is_null());
    const std::string text = meshsim::harness::text_summary(r.summary);
    CHECK(text.find("real time)") != std::string::npos);
    CHECK(text.find("trace_hash: none (real time") != std::string::npos);
    CHECK(text.find("trace_hash=null") == std::string::npos);
    CHECK(text.find(" events)") == std::string::npos);
    CHECK(r.summary["virtual_time_ns"].get<std::int64_t>() < 5'000'000'000);
    CHECK(r.summary["workloads"]["users"]["arrivals"].get<std::uint64_t>() > 20);
    for (const auto& p : ports) {
        CHECK(port_free(p["port"].get<std::uint16_t>()));
        CHECK(port_free(p["http"].get<std::uint16_t>()));
    }
}

TEST_CASE("serve: SIGINT stops it cleanly and it still writes the summary", "[runtime][serve]") {
    const scratch_dir dir;
    testing::write_text(dir / "s.json", small_scenario);
    const std::uint16_t base = free_port_block(6);  // three instances, a TCP and an HTTP port each
    const std::string serve =
        testing::meshsim_command({"serve", (dir / "s.json").string(), "--until", "60s", "--base-port",
                                  std::to_string(base), "--out", (dir / "out").string()});
    const auto t0 = std::chrono::steady_clock::now();
    const testing::cli_result r = testing::run_shell(
        serve + " < /dev/null & pid=$!; sleep 2; kill -INT $pid; wait $pid; echo \"rc=$?\"", dir.path());
    INFO(r.out << r.err);
    CHECK(std::chrono::steady_clock::now() - t0 < 30s);
    CHECK_THAT(r.out, Catch::Contains("front-1  tcp 127.0.0.1:" + std::to_string(base)));
    CHECK((r.out.find("rc=0") != std::string::npos || r.out.find("rc=1") != std::string::npos));
    CHECK_THAT(r.err, Catch::Contains("stopped early"));
    const nlohmann::json summary = nlohmann::json::parse(testing::read_text(dir / "out" / "summary.json"));
    CHECK(summary["mode"] == "real-time");
    CHECK(summary["real_time"]["interrupted"] == true);
    CHECK(summary["virtual_time_ns"].get<std::int64_t>() < 30'000'000'000);
    CHECK(summary["workloads"]["users"]["arrivals"].get<std::uint64_t>() > 0);
    for (int i = 0; i < 6; ++i) CHECK(port_free(static_cast<std::uint16_t>(base + i)));
}

TEST_CASE("host: a paused node runs nothing until it resumes, and its messages wait for it", "[runtime]") {
    const scratch_dir dir;
    real::host h({.seed = 1, .data_dir = dir.path().string()});
    std::vector<sim::time_point> ticks;
    std::vector<sim::time_point> received;
    const sim::node_id ticker = h.add_node(
        "ticker",
        [&](sim::runtime& rt) {
            rt.bind(80);
            rt.spawn("inbox", [&] {
                while (rt.receive(80, sim::time_never)) received.push_back(rt.now());
            });
            while (true) {
                rt.sleep_for(sim::duration(10ms));
                ticks.push_back(rt.now());
            }
        },
        0);
    const sim::node_id sender = h.add_node(
        "sender",
        [&](sim::runtime& rt) {
            rt.sleep_for(sim::duration(300ms));
            sim::message m;
            m.to = {ticker, 80};
            m.body = "hi";
            rt.send(std::move(m));
        },
        0);
    h.start_at_begin(ticker);
    h.start_at_begin(sender);
    std::vector<sim::trace_event> events;
    h.set_event_sink([&](const sim::trace_event& e) { events.push_back(e); });
    h.at(sim::time_zero + 200ms, [&] { h.pause(ticker); });
    h.at(sim::time_zero + 500ms, [&] { h.resume(ticker); });
    h.open();
    real::run_on_own_thread([&] { h.run(sim::duration(700ms)); });
    const auto in_pause = [](sim::time_point t) { return t > sim::time_zero + 230ms && t < sim::time_zero + 490ms; };
    CHECK(std::none_of(ticks.begin(), ticks.end(), in_pause));
    CHECK(std::count_if(ticks.begin(), ticks.end(), [](sim::time_point t) { return t < sim::time_zero + 200ms; }) >= 5);
    CHECK(std::count_if(ticks.begin(), ticks.end(), [](sim::time_point t) { return t > sim::time_zero + 500ms; }) >= 5);
    REQUIRE(received.size() == 1);
    CHECK(received[0] >= sim::time_zero + 500ms);  // arrived at 300ms, handled after the resume
    std::vector<sim::event_kind> kinds;
    for (const auto& e : events) kinds.push_back(e.kind);
    CHECK(kinds == std::vector<sim::event_kind>{sim::event_kind::node_start, sim::event_kind::node_start,
                                                sim::event_kind::node_pause, sim::event_kind::node_resume});
}

TEST_CASE("serve: faults real mode cannot apply are named before it runs and in the summary", "[runtime][serve]") {
    const scratch_dir dir;
    std::string text = small_scenario;
    text.replace(text.rfind('}'), 1,
                 R"(, "faults": [{"kind": "clock", "service": "front", "offset": "1s", "at": "100ms", "for": "100ms"},
                                 {"kind": "crash", "service": "back", "instance": 1, "at": "100ms", "for": "100ms"}]})");
    const harness::scenario s = load_text(text);
    harness::serve_options o;
    o.data_dir = (dir / "data").string();
    o.http = false;
    o.workloads = false;
    o.handle_signals = false;
    o.until = sim::duration(400ms);
    std::vector<std::string> notes;
    bool ready_after_notes = false;
    o.on_note = [&](const std::string& n) { notes.push_back(n); };
    o.on_ready = [&](const nlohmann::json&) { ready_after_notes = !notes.empty(); };
    const harness::serve_result r = harness::serve_scenario(s, o);
    REQUIRE(r.setup_errors.empty());
    REQUIRE(notes.size() == 1);
    CHECK_THAT(notes[0], Catch::Contains("faults[0]") && Catch::Contains("clock"));
    CHECK(ready_after_notes);
    CHECK(r.summary["real_time"]["not_applied"] == nlohmann::json(notes));
    // The crash was applied: one fault in the summary, back-1 down from about 100ms to 200ms.
    REQUIRE(r.summary["faults"].size() == 1);
    CHECK(r.summary["faults"][0]["kind"] == "crash");
    const auto& down = r.summary["services"]["back"]["instances"]["back-1"]["down"];
    REQUIRE(down.size() == 1);
    CHECK(down[0][0].get<double>() >= 100e6);
    CHECK(down[0][1].get<double>() < 350e6);
}

TEST_CASE(
    "serve --events: events.jsonl with real timestamps (faults, state changes, RPCs), and meshsim report "
    "builds report.html from it",
    "[runtime][serve][events]") {
    const scratch_dir dir;
    // A partition from 300 ms to 700 ms opens the breaker on front -> back (a state change).
    testing::write_text(dir / "s.json", R"({
  "name": "ev", "duration": "1200ms", "bucket": "250ms",
  "services": [
    {"name": "front", "concurrency": 64, "endpoints": [{"path": "/hello", "service_time": "2ms", "calls": [{"service": "back", "endpoint": "/work"}]}]},
    {"name": "back", "concurrency": 64, "endpoints": [{"path": "/work", "service_time": "2ms"}]}
  ],
  "edges": [{"from": "front", "to": "back", "timeout": "50ms", "deadline": "200ms",
             "retry": {"max_attempts": 2, "backoff_base": "5ms", "backoff_max": "10ms"},
             "breaker": {"failure_rate_threshold_percent": 50, "window_size_calls": 10, "minimum_calls": 5, "wait_in_open": "200ms"}}],
  "workloads": [{"name": "users", "service": "front", "endpoint": "/hello", "open": {"rate_per_s": 100}}],
  "faults": [{"kind": "partition", "shape": "isolate", "service": "back", "at": "300ms", "for": "400ms"}],
  "expectations": [{"check": "goodput", "workload": "users", "min_ratio": 0.1}]
})");
    const testing::cli_result r =
        testing::run_meshsim({"serve", (dir / "s.json").string(), "--no-http", "--out", (dir / "out").string()});
    INFO(r.out << r.err);
    REQUIRE((r.exit_code == 0 || r.exit_code == 1));
    CHECK_THAT(r.out, Catch::Contains("events: ") && Catch::Contains("events.jsonl"));
    const nlohmann::json summary = nlohmann::json::parse(testing::read_text(dir / "out" / "summary.json"));
    CHECK(summary["events_jsonl"]["level"] == "requests");
    CHECK(summary["events_jsonl"]["time"] == "real");
    std::map<std::string, std::uint64_t> kinds;
    std::uint64_t lines = 0;
    std::int64_t fault_start_ns = -1;
    std::int64_t fault_end_ns = -1;
    std::istringstream in(testing::read_text(dir / "out" / "events.jsonl"));
    for (std::string line; std::getline(in, line);) {
        const nlohmann::json e = nlohmann::json::parse(line);
        ++lines;
        ++kinds[e["kind"].get<std::string>()];
        if (e["kind"] == "fault_start") fault_start_ns = e["t_ns"].get<std::int64_t>();
        if (e["kind"] == "fault_end") fault_end_ns = e["t_ns"].get<std::int64_t>();
        CHECK(e["t_ns"].get<std::int64_t>() < 30'000'000'000);
    }
    CHECK(summary["events_jsonl"]["lines"] == lines);
    CHECK(kinds["node_start"] == 3);
    CHECK(kinds["fault_start"] == 1);
    CHECK(kinds["fault_end"] == 1);
    CHECK(kinds["rpc_attempt"] > 50);
    CHECK(kinds["rpc_serve"] > 50);
    CHECK(kinds["state"] >= 1);  // the breaker opened
    // Real timestamps: the partition began no earlier than scheduled and lasted its 400 ms.
    CHECK(fault_start_ns >= 300'000'000);
    CHECK(fault_end_ns - fault_start_ns >= 390'000'000);

    const testing::cli_result report = testing::run_meshsim({"report", (dir / "out").string()});
    INFO(report.out << report.err);
    CHECK(report.exit_code == 0);
    CHECK(std::filesystem::exists(dir / "out" / "report.html"));
    CHECK(std::filesystem::exists(dir / "out" / "trace.json"));

    // --events none: no file, and the summary says nothing of one.
    const testing::cli_result quiet =
        testing::run_meshsim({"serve", (dir / "s.json").string(), "--no-http", "--until", "200ms", "--events", "none",
                              "--out", (dir / "none").string()});
    CHECK((quiet.exit_code == 0 || quiet.exit_code == 1));
    CHECK_FALSE(std::filesystem::exists(dir / "none" / "events.jsonl"));
    CHECK_FALSE(nlohmann::json::parse(testing::read_text(dir / "none" / "summary.json")).contains("events_jsonl"));
}

TEST_CASE("serve: a stop with an HTTP keep-alive connection open ends the run (its edge fiber waits for I/O)",
          "[runtime][serve]") {
    const scratch_dir dir;
    harness::scenario s = load_text(small_scenario);
    harness::serve_options o;
    o.data_dir = (dir / "data").string();
    o.handle_signals = false;
    o.workloads = false;
    o.until = sim::duration(20s);
    std::promise<nlohmann::json> ready;
    std::function<void()> stop;
    o.on_ready = [&](const nlohmann::json& ports) { ready.set_value(ports); };
    o.on_stop_handle = [&](std::function<void()> f) { stop = std::move(f); };
    std::promise<harness::serve_result> done;
    std::future<harness::serve_result> result = done.get_future();
    std::thread serving([&] { done.set_value(harness::serve_scenario(s, o)); });
    const nlohmann::json ports = ready.get_future().get();
    std::this_thread::sleep_for(200ms);
    // One answered request on a kept-alive connection: the edge's fiber then waits
    // for the next request, in an Asio read, when the run stops.
    boost::asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(boost::asio::ip::address_v4::loopback(), ports[0]["http"].get<std::uint16_t>()));
    boost::asio::write(socket, boost::asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")));
    boost::asio::streambuf buf;
    boost::asio::read_until(socket, buf, "\r\n\r\n");
    const std::string head{boost::asio::buffers_begin(buf.data()), boost::asio::buffers_end(buf.data())};
    CHECK_THAT(head, Catch::StartsWith("HTTP/1.1 200"));
    stop();
    const bool ended = result.wait_for(15s) == std::future_status::ready;
    CHECK(ended);
    if (!ended) std::abort();  // the run hangs: the thread cannot be joined
    serving.join();
    const harness::serve_result r = result.get();
    CHECK(r.interrupted);
    CHECK(r.summary["real_time"]["fiber_errors"] == 0);
}
