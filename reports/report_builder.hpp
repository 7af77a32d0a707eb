// The report builders: each turns one run's events (as written to events.jsonl)
// and its summary.json into one report file. The registry below is the one list of
// them; `meshsim run --out DIR` and `meshsim report DIR` both feed every builder in
// it the same way, so their files are byte-identical. Builders hold bounded memory:
// they aggregate, and keep a deterministic sample of the requests.
#pragma once

#include <memory>
#include <ostream>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshsim::report {

class report_builder {
public:
    virtual ~report_builder() = default;
    // One events.jsonl object (only the written level's events), in order.
    virtual void add_event(const nlohmann::json& event) = 0;
    // After the last event: the run's summary.json. Writes the whole file.
    virtual void write(const nlohmann::json& summary, std::ostream& out) = 0;
};

struct report_format {
    std::string_view file_name;  // "report.html", "trace.json", "otlp.json"
    std::string_view what;       // one line for --help / docs
    std::unique_ptr<report_builder> (*make)();
};

const std::vector<report_format>& report_formats();  // the one registry

std::unique_ptr<report_builder> make_html_report();   // ht, reports/html.cpp
std::unique_ptr<report_builder> make_chrome_trace();  // tr, reports/chrome_trace.cpp
std::unique_ptr<report_builder> make_otlp_traces();   // tr, reports/otlp_traces.cpp

}  // namespace meshsim::report
