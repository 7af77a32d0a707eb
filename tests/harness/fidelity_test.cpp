// Fidelity: a synthetic service is a queueing station, so with Poisson arrivals
// and exponential service times the simulator must reproduce queueing theory.
// Network latency is zero and timeouts are far away, so nothing but the station
// shapes the response time measured at the service (arrival to reply).
//
// Tolerances: each case runs one fixed seed; the sample sizes are chosen so the
// statistical error (the response times of consecutive requests are strongly
// correlated near saturation) is well inside the stated bound.
#include <catch2/catch.hpp>

#include <optional>

#include <cmath>
#include <string>

#include "harness/runner.hpp"
#include "harness/scenario/loader.hpp"

using namespace meshsim::harness;
namespace sim = meshsim::sim;

namespace {

std::string number(double v) {
    char text[64];
    std::snprintf(text, sizeof text, "%.9g", v);
    return text;
}

// One synthetic service behind a workload, with everything else out of the way.
std::string station_scenario(double lambda_per_s, double mean_service_ms, int instances, int concurrency,
                             const std::string& load, const std::string& duration, const std::string& lb = "random") {
    return R"({"name": "fidelity", "seed": 11, "duration": ")" + duration + R"(", "warmup": "5s", "bucket": "5s",
  "network": {"defaults": {"latency": "0s"}},
  "services": [{"name": "station", "instances": )" +
           std::to_string(instances) + R"(, "concurrency": )" + std::to_string(concurrency) +
           R"(, "queue": {"capacity": 10000000},
    "endpoints": [{"path": "/work", "service_time": {"dist": "exponential", "mean": ")" +
           number(mean_service_ms * 1000) + R"(us"}}]}],
  "workloads": [{"name": "load", "service": "station", "endpoint": "/work", )" +
           (load.empty() ? R"("open": {"arrivals": "poisson", "rate_per_s": )" + number(lambda_per_s) + "}" : load) +
           R"(, "client": {"timeout": "1h", "deadline": "1h", "load_balancer": {"policy": ")" + lb + R"("}}}]})";
}

run_result run_text(const std::string& text, std::optional<std::uint64_t> seed = std::nullopt) {
    diagnostics diags;
    auto s = load_scenario_text(text, "fidelity.json", diags);
    INFO(diags.format());
    REQUIRE(s);
    run_options options;
    options.keep_events = false;
    options.seed = seed;
    return run_scenario(std::move(*s), options);
}

const nlohmann::json& endpoint_latency(const run_result& r) {
    return r.summary["services"]["station"]["endpoints"][0]["latency"];
}

double within(double measured, double expected) { return std::abs(measured - expected) / expected; }

// Erlang C: probability that an arrival waits, k servers, offered load a = lambda / mu.
double erlang_c(int k, double a) {
    double term = 1, sum = 1;  // a^n / n!, summed for n < k
    for (int n = 1; n < k; ++n) {
        term *= a / n;
        sum += term;
    }
    const double last = term * a / k;  // a^k / k!
    const double rho = a / k;
    return last / (1 - rho) / (sum + last / (1 - rho));
}

}  // namespace

TEST_CASE("single-server FIFO with Poisson arrivals and exponential service reproduces M/M/1", "[harness][fidelity]") {
    // mu = 1000/s. Response time is exponential with rate mu - lambda.
    // Near saturation a run's busy periods are long and few, so one run's p99 is a
    // noisy estimate (about 5 % standard error for 1200 s at rho 0.9): that point
    // averages independent replications (other seeds) so a tolerance of about 3
    // standard errors holds for any seed, not just a lucky one.
    struct point {
        double rho;
        const char* duration;  // virtual: 0.5 -> 300k requests, 0.7 -> 420k, 0.9 -> 1.1M per replication
        double mean_tolerance;
        int replications;
    };
    const point points[] = {{0.5, "600s", 0.02, 1}, {0.7, "600s", 0.03, 1}, {0.9, "1200s", 0.05, 4}};
    for (const point& p : points) {
        const double mu = 1000, lambda = p.rho * mu;
        double mean = 0, p50 = 0, p90 = 0, p99 = 0;
        for (int i = 0; i < p.replications; ++i) {
            const run_result r =
                run_text(station_scenario(lambda, 1.0, 1, 1, "", p.duration), 11 + static_cast<std::uint64_t>(i));
            const auto& lat = endpoint_latency(r);
            INFO("rho " << p.rho << ", replication " << i << ": " << lat.dump());
            CHECK(r.summary["services"]["station"]["endpoints"][0]["outcomes"]["failed"] == 0);
            mean += lat["mean_ms"].get<double>() / p.replications;
            p50 += lat["p50_ms"].get<double>() / p.replications;
            p90 += lat["p90_ms"].get<double>() / p.replications;
            p99 += lat["p99_ms"].get<double>() / p.replications;
        }
        const double rate_per_ms = (mu - lambda) / 1000;
        INFO("rho " << p.rho << ": mean " << mean << " p50 " << p50 << " p90 " << p90 << " p99 " << p99);
        CHECK(within(mean, 1 / rate_per_ms) < p.mean_tolerance);
        // Quantiles of the exponential law: -ln(1 - q) / rate.
        CHECK(within(p50, std::log(2.0) / rate_per_ms) < p.mean_tolerance + 0.02);
        CHECK(within(p90, std::log(10.0) / rate_per_ms) < p.mean_tolerance + 0.02);
        CHECK(within(p99, std::log(100.0) / rate_per_ms) < p.mean_tolerance + 0.04);
    }
}

TEST_CASE("a closed loop satisfies Little's law and matches exact mean value analysis", "[harness][fidelity]") {
    // N users, exponential think time Z, one exponential server S: the machine-repairman model.
    const int users = 10;
    const double think_ms = 10, service_ms = 1;
    const std::string load = R"("closed": {"users": 10, "think_time": {"dist": "exponential", "mean": "10ms"}})";
    const run_result r = run_text(station_scenario(0, service_ms, 1, 1, load, "300s"));
    const auto& w = r.summary["workloads"]["load"];
    // Throughput over the measured span, response time seen by the users.
    const double measured_s = 300 - 5;
    std::uint64_t completed = 0;
    for (const auto& b : w["series"]) {
        if (b["t"].get<std::string>() != "0s")
            completed += b["goodput"].get<std::uint64_t>();  // the first bucket is the warmup
    }
    const double x_per_ms = static_cast<double>(completed) / (measured_s * 1000);
    const double response_ms = w["latency"]["mean_ms"].get<double>();
    INFO("X = " << x_per_ms << "/ms, R = " << response_ms << "ms");
    // Little's law over the whole loop: N = X (R + Z).
    CHECK(within(x_per_ms * (response_ms + think_ms), users) < 0.02);
    // Exact MVA for this product-form network.
    double queue = 0, r_mva = 0, x_mva = 0;
    for (int n = 1; n <= users; ++n) {
        r_mva = service_ms * (1 + queue);
        x_mva = n / (r_mva + think_ms);
        queue = x_mva * r_mva;
    }
    CHECK(within(response_ms, r_mva) < 0.03);
    CHECK(within(x_per_ms, x_mva) < 0.02);
}

TEST_CASE("random load balancing over k instances is k independent M/M/1 stations", "[harness][fidelity]") {
    // A random split of a Poisson stream is k Poisson streams of rate lambda / k.
    const int k = 4;
    const double mu = 1000, lambda = 0.7 * mu * k;
    const run_result r = run_text(station_scenario(lambda, 1.0, k, 1, "", "300s", "random"));
    const double mean_ms = endpoint_latency(r)["mean_ms"].get<double>();
    INFO(endpoint_latency(r).dump());
    CHECK(within(mean_ms, 1000 / (mu - lambda / k)) < 0.03);
}

TEST_CASE("one instance with k servers and a shared FIFO queue is M/M/k (Erlang C)", "[harness][fidelity]") {
    const int k = 4;
    const double mu = 1000, lambda = 0.8 * mu * k;
    const run_result r = run_text(station_scenario(lambda, 1.0, 1, k, "", "300s"));
    const double mean_ms = endpoint_latency(r)["mean_ms"].get<double>();
    const double wait_ms = erlang_c(k, lambda / mu) / (k * mu - lambda) * 1000;
    INFO(endpoint_latency(r).dump() << " expected mean " << wait_ms + 1);
    CHECK(within(mean_ms, wait_ms + 1000 / mu) < 0.03);
}
