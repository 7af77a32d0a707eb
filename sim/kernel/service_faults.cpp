#include "sim/kernel/service_faults.hpp"

#include <algorithm>

namespace meshsim::sim::kernel {

bool service_fault_rule::matches(port_id p, std::string_view request_path) const {
    if (port != 0 && port != p) return false;
    if (path.empty()) return true;
    if (path.back() == '*') return request_path.starts_with(std::string_view(path).substr(0, path.size() - 1));
    return request_path == path;
}

std::vector<std::string> service_fault_rule::validate(const std::string& what) const {
    std::vector<std::string> errors;
    if (!(delay_probability >= 0 && delay_probability <= 1)) {
        errors.push_back(what + ".delay_probability: must be in [0, 1], got " + std::to_string(delay_probability));
    }
    if (!(abort_probability >= 0 && abort_probability <= 1)) {
        errors.push_back(what + ".abort_probability: must be in [0, 1], got " + std::to_string(abort_probability));
    }
    if (delay.count() < 0) errors.push_back(what + ".delay: must not be negative, got " + format_duration(delay));
    if (abort_probability > 0 && (abort_status < 100 || abort_status > 599)) {
        errors.push_back(what + ".abort_status: must be an HTTP status in [100, 599], got " +
                         std::to_string(abort_status));
    }
    if (delay_probability == 0 && abort_probability == 0) {
        errors.push_back(what + ": neither delay_probability nor abort_probability is set: the rule does nothing");
    }
    return errors;
}

std::uint64_t service_fault_table::add(service_fault_rule rule) {
    rule.id = next_id_++;
    rules_.push_back(std::move(rule));
    return rules_.back().id;
}

void service_fault_table::remove(std::uint64_t id) {
    std::erase_if(rules_, [id](const service_fault_rule& r) { return r.id == id; });
}

request_fault service_fault_table::evaluate(port_id port, std::string_view path, random_stream& rng) const {
    request_fault fault;
    for (const service_fault_rule& rule : rules_) {
        if (!rule.matches(port, path)) continue;
        if (rule.delay_probability > 0 && rng.bernoulli(rule.delay_probability))
            fault.delay = saturating_add(fault.delay, rule.delay);
        if (rule.abort_probability > 0 && rng.bernoulli(rule.abort_probability) && fault.abort_status == 0) {
            fault.abort_status = rule.abort_status;
        }
    }
    return fault;
}

}  // namespace meshsim::sim::kernel
