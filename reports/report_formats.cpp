// The one registry of report files: `meshsim run` and `meshsim report` write each of
// them, in this order, and --help and docs/outputs.md list them from here.
#include "reports/report_builder.hpp"

namespace meshsim::report {

const std::vector<report_format>& report_formats() {
    static const std::vector<report_format> formats = {
        {"report.html", "a self-contained page: verdict, faults, per-service lanes, latency, breakers, checks",
         &make_html_report},
        {"trace.json", "Chrome Trace Event format for ui.perfetto.dev: handler slices, RPCs, faults, counters",
         &make_chrome_trace},
        {"otlp.json", "OpenTelemetry OTLP/JSON traces (client and server spans) for Jaeger's UI", &make_otlp_traces},
    };
    return formats;
}

}  // namespace meshsim::report
