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

}  // namespace meshsim::harness
