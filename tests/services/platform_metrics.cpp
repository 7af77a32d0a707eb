#include <catch2/catch.hpp>

#include <vector>

#include "platform_testing.hpp"
#include "services/platform/metrics.hpp"

using namespace meshsim;
using namespace meshsim::svc;
using meshsim::svc::testing::at;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("metrics count outcomes by kind and by HTTP status per edge") {
    metrics_registry metrics;
    const metrics_key edge{"checkout", "checkout-1", "checkout->payments"};
    metrics.record_completion(edge, at(seconds{1}), outcome::success(200), milliseconds{10});
    metrics.record_completion(edge, at(seconds{1}), outcome::success(201), milliseconds{10});
    metrics.record_completion(edge, at(seconds{1}), outcome::http(503), milliseconds{10});
    metrics.record_completion(edge, at(seconds{1}), outcome::of(outcome_kind::timeout), milliseconds{10});
    const auto* m = metrics.find(edge);
    REQUIRE(m != nullptr);
    CHECK(m->outcomes.total() == 4);
    CHECK(m->outcomes.of(outcome_kind::ok) == 2);
    CHECK(m->outcomes.of(outcome_kind::http_error) == 1);
    CHECK(m->outcomes.of(outcome_kind::timeout) == 1);
    CHECK(m->outcomes.by_http_status.at(503) == 1);
    CHECK(m->outcomes.by_http_status.size() == 3);
    CHECK(m->latency.count() == 4);
    CHECK(metrics.find({"checkout", "checkout-2", "checkout->payments"}) == nullptr);
}

TEST_CASE("time series buckets arrivals, goodput, errors and latency by virtual time") {
    metrics_registry metrics(milliseconds{500});
    const metrics_key edge{"orders", "orders-1", "in"};
    metrics.record_arrival(edge, at(milliseconds{100}));
    metrics.record_arrival(edge, at(milliseconds{499}));
    metrics.record_arrival(edge, at(milliseconds{500}));
    metrics.record_completion(edge, at(milliseconds{450}), outcome::success(), milliseconds{350});
    metrics.record_completion(edge, at(milliseconds{700}), outcome::http(404), milliseconds{200});
    metrics.record_completion(edge, at(milliseconds{1600}), outcome::http(500), milliseconds{100});
    const auto& series = metrics.find(edge)->series;
    REQUIRE(series.size() == 3);
    CHECK(series.at(0).arrivals == 2);
    CHECK(series.at(0).goodput == 1);
    CHECK(series.at(0).errors == 0);
    // A 4xx is healthy but is not goodput.
    CHECK(series.at(1).arrivals == 1);
    CHECK(series.at(1).goodput == 0);
    CHECK(series.at(1).errors == 0);
    CHECK(series.at(1).latency.count() == 1);
    CHECK(series.at(3).errors == 1);
    CHECK(metrics.bucket_start(3) == at(milliseconds{1500}));
}

TEST_CASE("metrics iterate edges in key order") {
    metrics_registry metrics;
    metrics.record_arrival({"b", "b-1", "in"}, at(seconds{0}));
    metrics.record_arrival({"a", "a-2", "in"}, at(seconds{0}));
    metrics.record_arrival({"a", "a-1", "out"}, at(seconds{0}));
    std::vector<std::string> order;
    for (const auto& [key, m] : metrics.edges()) order.push_back(key.instance);
    CHECK(order == std::vector<std::string>{"a-1", "a-2", "b-1"});
}

TEST_CASE("times before zero land in negative buckets") {
    metrics_registry metrics(seconds{1});
    CHECK(metrics.bucket_of(sim::time_zero - milliseconds{1}) == -1);
    CHECK(metrics.bucket_of(sim::time_zero - seconds{1}) == -1);
    CHECK(metrics.bucket_of(sim::time_zero) == 0);
}
