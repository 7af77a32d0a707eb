// The checker functions, one per expectation kind (see registry.cpp).
#pragma once

#include "harness/checkers/checker.hpp"

namespace meshsim::harness::detail {

check_result check_slo(const expectation_config& e, const run_view& run);
check_result check_blast_radius(const expectation_config& e, const run_view& run);
check_result check_retry_amplification(const expectation_config& e, const run_view& run);
check_result check_goodput(const expectation_config& e, const run_view& run);
check_result check_queue_growth(const expectation_config& e, const run_view& run);
check_result check_metastability(const expectation_config& e, const run_view& run);
check_result check_breaker(const expectation_config& e, const run_view& run);
check_result check_no_lost_writes(const expectation_config& e, const run_view& run);
check_result check_no_duplicate_effects(const expectation_config& e, const run_view& run);
check_result check_no_unauthenticated(const expectation_config& e, const run_view& run);
check_result check_convergence(const expectation_config& e, const run_view& run);
check_result check_no_lost_updates(const expectation_config& e, const run_view& run);

}  // namespace meshsim::harness::detail
