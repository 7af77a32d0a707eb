#include "services/platform/config_errors.hpp"

#include <charconv>

namespace meshsim::svc {

std::string format_number(double value) {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

namespace {
void append(config_errors& errors, std::string_view name, std::string_view rule, const std::string& got) {
    std::string line(name);
    line += " must be ";
    line += rule;
    line += ", got ";
    line += got;
    errors.push_back(std::move(line));
}
}  // namespace

void require(config_errors& errors, bool ok, std::string_view name, std::string_view rule, double value) {
    if (!ok) append(errors, name, rule, format_number(value));
}

void require(config_errors& errors, bool ok, std::string_view name, std::string_view rule, sim::duration value) {
    if (!ok) append(errors, name, rule, sim::format_duration(value));
}

}  // namespace meshsim::svc
