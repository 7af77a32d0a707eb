// Keys several checkers share, read the same way by each: the service or workload a
// check is about (remembered for the loader's reference check) and ratios.
#pragma once

#include <string>
#include <string_view>

#include "harness/checkers/checker.hpp"

namespace meshsim::harness::detail {

// "service": required, or optional ("" when missing).
std::string read_service(object_reader& r, expectation_names& names, bool required);
// "workload", optional ("" = every workload).
std::string read_workload(object_reader& r, expectation_names& names);
// A required share in [0, 1].
double read_ratio(object_reader& r, std::string_view key);

// What a request check is about: one service (and endpoint), one workload, or every workload.
struct request_subject {
    std::string service{};
    std::string endpoint{};  // "" = every endpoint of the service
    std::string workload{};
};
// "workload buyers", "service back /charge", "every workload".
std::string subject_of(const request_subject& s);
// As subject_of, but "any workload" for the whole: "no request of any workload".
std::string any_subject_of(const request_subject& s);

}  // namespace meshsim::harness::detail
