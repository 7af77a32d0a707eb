// report.html: a minimal placeholder page from summary.json (replaced by the full report).
#include <string>

#include "reports/report_builder.hpp"

namespace meshsim::report {

namespace {

std::string escaped(const std::string& text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string field(const nlohmann::json& summary, const char* key) {
    const auto it = summary.find(key);
    if (it == summary.end()) return "-";
    return it->is_string() ? it->get<std::string>()
                           : it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class html_report final : public report_builder {
public:
    void add_event(const nlohmann::json&) override {}
    void write(const nlohmann::json& summary, std::ostream& out) override {
        out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>meshsim: "
            << escaped(field(summary, "scenario")) << "</title></head><body>\n<h1>"
            << escaped(field(summary, "scenario")) << ": " << escaped(field(summary, "verdict")) << "</h1>\n<p>seed "
            << escaped(field(summary, "seed")) << ", trace hash " << escaped(field(summary, "trace_hash"))
            << "</p>\n<pre>" << escaped(field(summary, "reproduce")) << "</pre>\n</body></html>\n";
    }
};

}  // namespace

std::unique_ptr<report_builder> make_html_report() { return std::make_unique<html_report>(); }

}  // namespace meshsim::report
