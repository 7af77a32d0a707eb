#include <algorithm>

#include "harness/kinds/kinds.hpp"
#include "harness/kinds/service_kind.hpp"

namespace meshsim::harness {

const std::vector<service_kind>& all_service_kinds() {
    static const std::vector<service_kind> kinds = {
        {"synthetic",
         "the service template as a queueing station: instances x concurrency, FIFO/LIFO queue (CoDel, "
         "criticality), API keys, rate limits; per endpoint service time, calls, writes (events may add fields) or "
         "replica records (tolerant or strict reader)",
         "concurrency, queue, endpoints, api_keys, rate_limit, auth", read_synthetic, run_synthetic},
        // operations
        {"registry",
         "service discovery: instances of services with a \"discovery\" key register and heartbeat; entries "
         "expire after the TTL; callers resolve through it from a cached list",
         "ttl, expiry_check", read_registry, run_registry},
        {"autoscaler",
         "adds and removes instances of a stateless service by utilisation (requests in the system per slot); "
         "callers follow through the mesh's pool",
         "service, min, initial, scale_up_at, scale_down_at, sample, interval, cooldown, startup, drain",
         read_autoscaler, run_autoscaler},
        // messaging
        {"broker",
         "event streams: topics as durable append-only logs (one partition per instance), per-group offsets, "
         "at-least-once delivery; producers name it in a write's publish_to with a topic",
         "ack_timeout, max_batch", read_broker, run_broker},
        {"consumer",
         "a consumer group reading one topic of a broker: each event processed with a service time, then acked; "
         "dedupe by event id; its effects are replica records of the event's source",
         "broker, topic, service_time, dedupe, poll_interval, max_batch", read_consumer, run_consumer},
        {"job_queue",
         "a durable job queue: POST /jobs answers 202 once the job is synced; workers take jobs, failed or "
         "unreported attempts are retried with backoff, then dead-lettered after max_attempts",
         "max_attempts, in_flight, backoff_base, backoff_max, visibility_timeout", read_job_queue, run_job_queue},
        {"worker",
         "async workers of a job_queue: each job run with a service time; dedupe by job id; poison jobs "
         "(poison_rate) fail every attempt, error_rate fails single attempts",
         "queue, service_time, dedupe, concurrency, poison_rate, error_rate, poll_interval", read_worker, run_worker},
        {"webhook",
         "webhook delivery: takes its publishers' events (202 once queued durably) and POSTs each to every "
         "subscriber endpoint, retrying with backoff until accepted, dead-lettering after max_attempts",
         "subscribers, max_attempts, in_flight, backoff_base, backoff_max, delivery_timeout", read_webhook,
         run_webhook},
        {"reconciler",
         "anti-entropy: every interval lists a source of truth's records and a replica's copies and sends "
         "each missing one to the replica endpoint (repairs what lost events left out)",
         "source, replica, endpoint, version, api_key, interval, page_size", read_reconciler, run_reconciler},
        // The platform group.
        {"gateway",
         "an aggregating front door: each endpoint calls its parts in parallel; a failed optional part gives a "
         "partial 200 (counted), a failed required one a 502",
         "concurrency, queue, endpoints (each with calls), api_keys, rate_limit", read_gateway, run_synthetic},
        {"database",
         "a service-wide durable store: synthetic writes naming it keep their records and dedupe keys there "
         "(synced before the answer); instances are shards by key; POST /records is a queueing station",
         "concurrency, queue, service_time, rate_limit", read_database, run_database},
        {"kv",
         "a versioned key-value store: GET /get gives value and version, PUT /put with if_version is a "
         "compare-and-set (409 on a stale version); workloads with \"contend\" are its read-modify-write clients",
         "concurrency, queue, service_time, rate_limit", read_kv, run_kv},
        {"auth",
         "issues API keys and revokes them on a schedule; synthetic services with \"auth\" validate keys "
         "against it through a cache (cache_ttl)",
         "keys, revoke, concurrency, queue, service_time, rate_limit", read_auth, run_auth},
    };
    return kinds;
}

const service_kind* find_service_kind(std::string_view name) {
    const auto& all = all_service_kinds();
    const auto it = std::find_if(all.begin(), all.end(), [&](const service_kind& k) { return k.name == name; });
    return it == all.end() ? nullptr : &*it;
}

std::vector<std::string_view> service_kind_names() {
    std::vector<std::string_view> names;
    for (const service_kind& k : all_service_kinds()) names.push_back(k.name);
    return names;
}

}  // namespace meshsim::harness
