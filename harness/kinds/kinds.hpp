// Every service kind's entry points, one pair per kind (each kind's own file), for
// the registry. Nothing else calls them: the loader and the world go through
// find_service_kind().
#pragma once

#include "harness/kinds/service_kind.hpp"

namespace meshsim::harness {

void read_synthetic(object_reader& r, service_config& s, kind_reader& load);
void run_synthetic(instance_env& env);

// operations (discovery.cpp)
void read_registry(object_reader& r, service_config& s, kind_reader& load);
void run_registry(instance_env& env);
// autoscaler.cpp
void read_autoscaler(object_reader& r, service_config& s, kind_reader& load);
void run_autoscaler(instance_env& env);
// The messaging group: event streams (broker, consumer), async jobs (job_queue, worker).
void read_broker(object_reader& r, service_config& s, kind_reader& load);
void run_broker(instance_env& env);
void read_consumer(object_reader& r, service_config& s, kind_reader& load);
void run_consumer(instance_env& env);
void read_job_queue(object_reader& r, service_config& s, kind_reader& load);
void run_job_queue(instance_env& env);
void read_worker(object_reader& r, service_config& s, kind_reader& load);
void run_worker(instance_env& env);
void read_webhook(object_reader& r, service_config& s, kind_reader& load);
void run_webhook(instance_env& env);
void read_reconciler(object_reader& r, service_config& s, kind_reader& load);
void run_reconciler(instance_env& env);
// The platform group (gateway: the synthetic station with aggregating endpoints, run by run_synthetic).
void read_gateway(object_reader& r, service_config& s, kind_reader& load);
void read_database(object_reader& r, service_config& s, kind_reader& load);
void run_database(instance_env& env);
void read_kv(object_reader& r, service_config& s, kind_reader& load);
void run_kv(instance_env& env);
void read_auth(object_reader& r, service_config& s, kind_reader& load);
void run_auth(instance_env& env);

}  // namespace meshsim::harness
