#include "harness/checkers/reading.hpp"

namespace meshsim::harness::detail {

std::string read_service(object_reader& r, expectation_names& names, bool required) {
    std::string service = required ? r.required<std::string>("service", {.non_empty = true})
                                   : r.optional<std::string>("service", "", {.non_empty = true});
    if (!service.empty()) names.service(r.member("service"), service);
    return service;
}

std::string read_workload(object_reader& r, expectation_names& names) {
    std::string workload = r.optional<std::string>("workload", "", {.non_empty = true});
    if (!workload.empty()) names.workload(r.member("workload"), workload);
    return workload;
}

double read_ratio(object_reader& r, std::string_view key) { return r.required<double>(key, {.min = 0, .max = 1}); }

std::string subject_of(const request_subject& s) {
    if (!s.workload.empty()) return "workload " + s.workload;
    if (!s.service.empty()) return "service " + s.service + (s.endpoint.empty() ? "" : " " + s.endpoint);
    return "every workload";
}

std::string any_subject_of(const request_subject& s) {
    return s.workload.empty() && s.service.empty() ? "any workload" : subject_of(s);
}

}  // namespace meshsim::harness::detail
