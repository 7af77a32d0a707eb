// Queue disciplines of the service template under overload: FIFO serves the
// oldest waiter, LIFO the newest (adaptive LIFO), and CoDel sheds requests that
// waited past its target once a standing queue lasted an interval.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "service_testing.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using namespace meshsim::svc::testing;
using namespace std::chrono_literals;
using sim::kernel::simulation;

namespace {
struct served {
    int caller = 0;
    std::uint16_t status = 0;
    sim::duration elapsed{0};
    friend bool operator==(const served&, const served&) = default;
};

// `callers` requests to a one-slot server with 100 ms of work each, sent `gap` apart
// from t = 0 (caller i with x-criticality criticalities[i], if given); results in
// the order the answers came back.
std::vector<served> overload(service_config config, int callers, sim::duration gap, service_stats* stats = nullptr,
                             sim::duration work = 100ms, std::vector<std::string> criticalities = {}) {
    simulation sim({.seed = 1, .fiber_stack_bytes = 256 * 1024});
    config.max_concurrent_requests = 1;
    service* svc = nullptr;
    const auto server = add_service(
        sim, "server", config,
        [work](service& svc) {
            svc.add_endpoint({.path = "/x", .service_time = sim::duration_distribution::constant(work)},
                             [](const request&, endpoint_context&) { return reply(200); });
        },
        &svc);
    std::vector<served> results;
    const auto client = add_client(sim, "client", [&](sim::runtime& rt, rpc_client& c) {
        for (int i = 0; i < callers; ++i) {
            rt.spawn("caller", [&, i] {
                request req;
                req.path = "/x";
                if (i < static_cast<int>(criticalities.size())) req.head.set(header::criticality, criticalities[i]);
                const call_result r = c.call({server, service_port}, req, rt.now() + 60s);
                results.push_back({i, static_cast<std::uint16_t>(r.reply ? r.reply->status : 0), r.elapsed});
            });
            if (gap > sim::duration::zero()) rt.sleep_for(gap);
        }
        rt.sleep_for(40s);
        if (stats) *stats = svc->stats();
    });
    sim.start(server);
    sim.start(client);
    sim.run_until(sim::time_zero + 50s);
    return results;
}
}  // namespace

TEST_CASE("a FIFO queue serves the oldest waiting request first") {
    service_config config;
    config.queue_timeout = 10s;
    const auto results = overload(config, 4, 1ms);
    // Caller i is sent at i ms; the slot frees every 100 ms from 101 ms.
    CHECK(results == std::vector<served>{{0, 200, 102ms}, {1, 200, 201ms}, {2, 200, 300ms}, {3, 200, 399ms}});
}

TEST_CASE("a LIFO queue serves the newest waiting request first when overloaded") {
    service_config config;
    config.queue_timeout = 10s;
    config.queue_order = queue_discipline::lifo;
    const auto results = overload(config, 4, 1ms);
    CHECK(results == std::vector<served>{{0, 200, 102ms}, {3, 200, 199ms}, {2, 200, 300ms}, {1, 200, 401ms}});
}

TEST_CASE("LIFO lets the oldest waiters time out while fresh requests are served") {
    service_config config;
    config.queue_timeout = 250ms;
    config.queue_order = queue_discipline::lifo;
    service_stats stats;
    const auto results = overload(config, 4, 1ms, &stats);
    // 1 ms sent, queued at 2 ms, times out at 252 ms (answer at 253 ms): 252 ms elapsed.
    CHECK(results == std::vector<served>{{0, 200, 102ms}, {3, 200, 199ms}, {1, 503, 252ms}, {2, 200, 300ms}});
    CHECK(stats.shed_queue_timeout == 1);
}

TEST_CASE("CoDel sheds requests above target once the queue delay stayed above target for an interval") {
    service_config config;
    config.queue_capacity = 100;
    config.queue_timeout = 10s;
    config.codel = codel_config{.target = 5ms, .interval = 100ms};
    service_stats stats;
    // 30 requests at once, 10 ms of work each: request i leaves the queue at
    // 1 + 10 i ms having waited 10 i ms. Request 1 (waited 10 ms) starts the
    // interval at 11 ms; at 111 ms request 11 is the first shed, and the slot it
    // frees passes to the next stale one at once: 11..29 all shed at 111 ms.
    const auto results = overload(config, 30, sim::duration::zero(), &stats, 10ms);
    REQUIRE(results.size() == 30);
    CHECK(stats.shed_codel == 19);
    CHECK(stats.handled == 11);
    for (const auto& r : results) {
        if (r.caller <= 10) {
            CHECK(r == served{r.caller, 200, sim::milliseconds{12 + 10 * r.caller}});
        } else {
            CHECK(r == served{r.caller, 503, 112ms});
        }
    }
}

TEST_CASE("without CoDel the same burst is served in full, late") {
    service_config config;
    config.queue_capacity = 100;
    config.queue_timeout = 10s;
    const auto results = overload(config, 30, sim::duration::zero(), nullptr, 10ms);
    REQUIRE(results.size() == 30);
    CHECK(results.back() == served{29, 200, 302ms});
}

TEST_CASE("CoDel stops shedding as soon as a request leaves below target") {
    codel_state codel({.target = 5ms, .interval = 100ms});
    const auto t = [](int ms) { return sim::time_zero + sim::milliseconds{ms}; };
    CHECK_FALSE(codel.on_dequeue(t(0), 10ms));   // above: the interval starts
    CHECK_FALSE(codel.on_dequeue(t(99), 10ms));  // not a full interval yet
    CHECK(codel.on_dequeue(t(100), 5ms));        // a full interval above target: shed
    CHECK(codel.dropping());
    CHECK_FALSE(codel.on_dequeue(t(101), 4ms));  // below target: the standing queue is gone
    CHECK_FALSE(codel.dropping());
    CHECK_FALSE(codel.on_dequeue(t(102), 50ms));  // a new interval starts
    CHECK(codel.on_dequeue(t(202), 50ms));
}

TEST_CASE("CoDel properties") {
    rc::prop("never sheds a request below target, nor before a full interval above it", [] {
        const auto target = sim::milliseconds{*rc::gen::inRange(1, 50)};
        const auto interval = sim::milliseconds{*rc::gen::inRange(1, 500)};
        codel_state codel({.target = target, .interval = interval});
        const auto steps = *rc::gen::container<std::vector<std::pair<int, int>>>(
            rc::gen::pair(rc::gen::inRange(0, 50), rc::gen::inRange(0, 100)));
        sim::time_point now = sim::time_zero;
        std::optional<sim::time_point> above_since;
        for (const auto& [advance_ms, sojourn_ms] : steps) {
            now += sim::milliseconds{advance_ms};
            const sim::duration sojourn = sim::milliseconds{sojourn_ms};
            const bool shed = codel.on_dequeue(now, sojourn);
            if (sojourn < target) {
                above_since.reset();
                RC_ASSERT(!shed);
                continue;
            }
            if (!above_since) above_since = now;
            RC_ASSERT(shed == (now - *above_since >= interval));
        }
    });
}

TEST_CASE("a CoDel config names its bad parameters") {
    service_config config;
    config.codel = codel_config{.target = 0ms, .interval = 100ms};
    const config_errors errors = config.validate();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "codel.target must be > 0, got 0s");
}

TEST_CASE("with criticality shedding a critical arrival at a full queue takes a sheddable waiter's place") {
    service_config config;
    config.queue_capacity = 1;
    config.queue_timeout = 10s;
    config.shed_by_criticality = true;
    service_stats stats;
    const std::vector<std::string> criticality{"CRITICAL", "SHEDDABLE", "CRITICAL", "SHEDDABLE"};
    const auto results = overload(config, 4, 1ms, &stats, 100ms, criticality);
    // 1 queues at 2 ms; 2 arrives at 3 ms and evicts it; 3 (sheddable) finds a
    // critical waiter and is shed itself; 2 runs after 0.
    CHECK(results == std::vector<served>{{1, 503, 3ms}, {3, 503, 2ms}, {0, 200, 102ms}, {2, 200, 200ms}});
    CHECK(stats.shed_criticality == 1);
    CHECK(stats.shed_queue_full == 1);
}

TEST_CASE("without criticality shedding a full queue sheds the arrival whatever its criticality") {
    service_config config;
    config.queue_capacity = 1;
    config.queue_timeout = 10s;
    const std::vector<std::string> criticality{"CRITICAL", "SHEDDABLE", "CRITICAL_PLUS", "SHEDDABLE"};
    const auto results = overload(config, 4, 1ms, nullptr, 100ms, criticality);
    CHECK(results == std::vector<served>{{2, 503, 2ms}, {3, 503, 2ms}, {0, 200, 102ms}, {1, 200, 201ms}});
}

TEST_CASE("criticality ranks follow the SRE book, unknown counting as CRITICAL") {
    CHECK(criticality_rank("CRITICAL_PLUS") == 3);
    CHECK(criticality_rank("CRITICAL") == 2);
    CHECK(criticality_rank("") == 2);
    CHECK(criticality_rank("whatever") == 2);
    CHECK(criticality_rank("SHEDDABLE_PLUS") == 1);
    CHECK(criticality_rank("SHEDDABLE") == 0);
}
