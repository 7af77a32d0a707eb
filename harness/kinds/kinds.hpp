// Every service kind's entry points, one pair per kind (each kind's own file), for
// the registry. Nothing else calls them: the loader and the world go through
// find_service_kind().
#pragma once

#include "harness/kinds/service_kind.hpp"

namespace meshsim::harness {

void read_synthetic(object_reader& r, service_config& s, kind_reader& load);
void run_synthetic(instance_env& env);

// The platform group (gateway: the synthetic station with aggregating endpoints, run by run_synthetic).
void read_gateway(object_reader& r, service_config& s, kind_reader& load);
void read_database(object_reader& r, service_config& s, kind_reader& load);
void run_database(instance_env& env);
void read_kv(object_reader& r, service_config& s, kind_reader& load);
void run_kv(instance_env& env);
void read_auth(object_reader& r, service_config& s, kind_reader& load);
void run_auth(instance_env& env);

}  // namespace meshsim::harness
