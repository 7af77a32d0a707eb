#include "harness/flagship.hpp"

namespace meshsim::harness {

std::string_view flagship_scenario_text() {
    return R"json({
  "name": "flagship",
  "description": "The help desk of the article (Enchant). Agents file tickets (40/s) and managers open the dashboard (30/s) through desk, a gateway of two instances that checks API keys (a stranger without one gets 401). For a ticket, desk calls ticketing (three instances, the source of truth), which enqueues a notification job on notify-jobs (async workers send it once; a poison job ends in the dead-letter queue after 3 attempts) and writes the ticket, its event committed in the same transaction (outbox) and relayed to reporting, which stores it (eventual consistency). The dashboard combines reporting's /stats (required, retried on the other instance) with customer profiles (optional, 50ms timeout, circuit breaker). Faults: customers is 50 times slower from 1.5s to 3.5s (the breaker opens, dashboards come back partial but fast), reporting-1 crashes at 3s for 500ms, and ticketing and reporting are cut off from each other from 4s to 5.5s (tickets are still accepted; their events wait in the outbox and reach reporting after the heal). Every safety and liveness checker holds. Seed 1: 250 tickets, none failed, p99 13.9ms; 222 dashboards, none failed (63 partial), p99 52.8ms; the breaker opens at 2.343s and is closed at the end; reporting caught up 162ms after the partition healed; 249 notifications sent once each, 1 poison job dead-lettered; 0 of 1384 requests served without an authenticated principal.",
  "seed": 1,
  "duration": "7s",
  "warmup": "500ms",
  "bucket": "500ms",
  "network": {"defaults": {"latency": {"dist": "lognormal", "median": "500us", "sigma": 0.5}}},
  "services": [
    {"name": "desk", "kind": "gateway", "instances": 2, "concurrency": 64, "api_keys": ["agent-key", "manager-key"],
     "endpoints": [
       {"path": "/tickets", "method": "POST", "calls": [{"service": "ticketing", "endpoint": "/tickets"}]},
       {"path": "/dashboard", "calls": [{"service": "reporting", "endpoint": "/stats"},
                                        {"service": "customers", "endpoint": "/profile", "required": false}]}]},
    {"name": "ticketing", "instances": 3, "concurrency": 16,
     "endpoints": [{"path": "/tickets", "method": "POST", "service_time": {"dist": "exponential", "mean": "2ms"},
                    "calls": [{"service": "notify-jobs", "endpoint": "/jobs"}],
                    "write": {"dedupe": true, "publish": "outbox",
                              "publish_to": [{"service": "reporting", "endpoint": "/events"}]}}]},
    {"name": "reporting", "instances": 2, "concurrency": 16,
     "endpoints": [{"path": "/events", "method": "POST", "replica": true, "service_time": "1ms"},
                   {"path": "/stats", "service_time": {"dist": "exponential", "mean": "2ms"}}]},
    {"name": "customers", "instances": 2, "concurrency": 16,
     "endpoints": [{"path": "/profile", "service_time": {"dist": "exponential", "mean": "3ms"}}]},
    {"name": "notify-jobs", "kind": "job_queue", "instances": 1, "max_attempts": 3, "backoff_base": "100ms",
     "backoff_max": "1s", "visibility_timeout": "500ms"},
    {"name": "notifications", "kind": "worker", "instances": 2, "queue": "notify-jobs", "concurrency": 2,
     "service_time": {"dist": "exponential", "mean": "5ms"}, "dedupe": true, "poison_rate": 0.01, "poll_interval": "100ms"}
  ],
  "edges": [
    {"from": "desk", "to": "ticketing", "timeout": "200ms", "deadline": "1s",
     "retry": {"max_attempts": 3, "backoff_base": "20ms", "backoff_max": "200ms", "jitter": "full"},
     "retry_budget": {"ratio": 0.2}},
    {"from": "desk", "to": "reporting", "timeout": "100ms", "deadline": "600ms",
     "retry": {"max_attempts": 3, "backoff_base": "10ms", "backoff_max": "100ms", "jitter": "full"},
     "load_balancer": {"policy": "round_robin", "outlier_detection": {"consecutive_5xx": 2, "base_ejection_time": "1s", "max_ejection_percent": 50}}},
    {"from": "desk", "to": "customers", "timeout": "50ms", "deadline": "100ms",
     "breaker": {"minimum_calls": 20, "window_size_calls": 20, "wait_in_open": "500ms", "automatic_half_open": true},
     "bulkhead": {"max_concurrent": 16, "max_wait": "0s"}},
    {"from": "ticketing", "to": "reporting", "timeout": "50ms", "retry": {"max_attempts": 3, "backoff_base": "10ms"}},
    {"from": "ticketing", "to": "notify-jobs", "timeout": "100ms", "retry": {"max_attempts": 3, "backoff_base": "10ms"}}
  ],
  "workloads": [
    {"name": "agents", "service": "desk", "endpoint": "/tickets", "api_key": "agent-key",
     "open": {"rate_per_s": 40}, "stop": "6500ms", "client": {"timeout": "1s", "deadline": "1s"}},
    {"name": "managers", "service": "desk", "endpoint": "/dashboard", "api_key": "manager-key",
     "open": {"rate_per_s": 30}, "stop": "6500ms", "client": {"timeout": "1s", "deadline": "1s"}},
    {"name": "strangers", "service": "desk", "endpoint": "/dashboard",
     "open": {"rate_per_s": 1}, "stop": "6500ms"}
  ],
  "faults": [
    {"kind": "partition", "shape": "one_way", "from": ["ticketing"], "to": ["reporting"], "at": "4s", "for": "1500ms"},
    {"kind": "partition", "shape": "one_way", "from": ["reporting"], "to": ["ticketing"], "at": "4s", "for": "1500ms"},
    {"kind": "slow", "service": "customers", "at": "1500ms", "for": "2s", "factor": 50},
    {"kind": "crash", "service": "reporting", "instance": 1, "at": "3s", "for": "500ms"}
  ],
  "expectations": [
    {"check": "goodput", "workload": "agents", "min_ratio": 0.99},
    {"check": "goodput", "workload": "managers", "min_ratio": 0.99},
    {"check": "slo", "workload": "agents", "window": "1s", "latency": {"quantile": 0.99, "max": "100ms"}},
    {"check": "no_unauthenticated"},
    {"check": "no_lost_writes", "service": "ticketing"},
    {"check": "no_duplicate_effects", "service": "ticketing"},
    {"check": "no_duplicate_effects", "service": "notifications"},
    {"check": "no_lost_writes", "service": "notify-jobs"},
    {"check": "convergence", "service": "ticketing", "replicas": ["reporting"], "within": "1s"},
    {"check": "breaker", "service": "desk", "to": "customers", "state": "open", "when": "ever"},
    {"check": "breaker", "service": "desk", "to": "customers", "state": "closed", "when": "at_end"},
    {"check": "metastability", "workload": "managers", "trigger_end": "3500ms", "within": "1s", "window": "500ms", "goodput_min_ratio": 0.99},
    {"check": "retry_amplification", "service": "ticketing", "max": 1.2},
    {"check": "queue_growth", "service": "ticketing", "max_depth": 50},
    {"check": "blast_radius", "window": "1s", "error_rate_max": 0.25, "max_services": 0}
  ]
}
)json";
}

}  // namespace meshsim::harness
