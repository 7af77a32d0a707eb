#include "harness/flagship.hpp"

namespace meshsim::harness {

std::string_view flagship_scenario_text() {
    return R"json({
  "name": "flagship",
  "description": "A checkout API in front of three inventory instances; inventory-2 crashes at 3s and restarts at 6s. The API retries on another instance with jittered backoff; clients should barely notice.",
  "seed": 1,
  "duration": "10s",
  "bucket": "500ms",
  "network": {"defaults": {"latency": {"dist": "lognormal", "median": "500us", "sigma": 0.5}}},
  "services": [
    {"name": "api", "instances": 1, "concurrency": 256,
     "endpoints": [{"path": "/checkout", "method": "POST", "service_time": "200us",
                    "calls": [{"service": "inventory", "endpoint": "/stock"}]}]},
    {"name": "inventory", "instances": 3, "concurrency": 64,
     "endpoints": [{"path": "/stock", "service_time": {"dist": "exponential", "mean": "4ms"}}]}
  ],
  "edges": [
    {"from": "api", "to": "inventory", "timeout": "100ms", "deadline": "900ms",
     "retry": {"max_attempts": 3, "backoff_base": "10ms", "backoff_max": "200ms", "jitter": "full"},
     "load_balancer": {"policy": "round_robin",
                       "outlier_detection": {"consecutive_5xx": 2, "base_ejection_time": "1s", "max_ejection_percent": 34}}}
  ],
  "workloads": [
    {"name": "shoppers", "service": "api", "endpoint": "/checkout",
     "open": {"arrivals": "poisson", "rate_per_s": 200}, "stop": "9s",
     "client": {"timeout": "1s", "deadline": "1s"}}
  ],
  "faults": [
    {"kind": "crash", "service": "inventory", "instance": 2, "at": "3s", "for": "3s"}
  ],
  "expectations": [
    {"check": "goodput", "workload": "shoppers", "min_ratio": 0.99},
    {"check": "retry_amplification", "service": "inventory", "max": 1.2},
    {"check": "slo", "workload": "shoppers", "window": "2s", "latency": {"quantile": 0.99, "max": "250ms"}}
  ]
}
)json";
}

}  // namespace meshsim::harness
