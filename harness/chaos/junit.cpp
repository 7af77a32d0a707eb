#include "harness/chaos/junit.hpp"

#include <cstdio>

#include "harness/terminal_text.hpp"

namespace meshsim::harness {

namespace {

std::string seconds(double s) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", s < 0 ? 0.0 : s);
    return buf;
}

std::string str(const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace

std::string xml_escape(std::string_view text, bool attribute) {
    // printable_lines leaves only printable UTF-8 and line breaks.
    const std::string safe = printable_lines(text);
    std::string out;
    out.reserve(safe.size());
    for (std::size_t i = 0; i < safe.size(); ++i) {
        const char c = safe[i];
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            case '\n': out += attribute ? "&#10;" : "\n"; break;
            default:
                // U+FFFE and U+FFFF (EF BF BE/BF) are not XML characters.
                if (static_cast<unsigned char>(c) == 0xEF && i + 2 < safe.size() &&
                    static_cast<unsigned char>(safe[i + 1]) == 0xBF &&
                    (static_cast<unsigned char>(safe[i + 2]) & 0xFE) == 0xBE) {
                    out += static_cast<unsigned char>(safe[i + 2]) == 0xBE ? "\\ufffe" : "\\uffff";
                    i += 2;
                } else {
                    out += c;
                }
        }
    }
    return out;
}

std::string junit_xml(const nlohmann::json& sweep) {
    const std::string scenario = str(sweep, "scenario");
    const nlohmann::json& totals = sweep["totals"];
    const std::string counts = "tests=\"" + std::to_string(totals["seeds"].get<std::uint64_t>()) + "\" failures=\"" +
                               std::to_string(totals["failed"].get<std::uint64_t>()) + "\" errors=\"" +
                               std::to_string(totals["errors"].get<std::uint64_t>()) + "\"";
    const std::string time = seconds(sweep["time_s"].get<double>());
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<testsuites name=\"meshsim sweep\" " + counts + " time=\"" + time + "\">\n";
    out += "  <testsuite name=\"" + xml_escape(scenario, true) + "\" " + counts + " skipped=\"0\" time=\"" + time +
           "\">\n";
    for (const nlohmann::json& r : sweep["results"]) {
        const std::string verdict = str(r, "verdict");
        out += "    <testcase name=\"seed=" + std::to_string(r["seed"].get<std::uint64_t>()) + "\" classname=\"" +
               xml_escape(scenario, true) + "\" time=\"" + seconds(r["wall_s"].get<double>()) + "\"";
        if (verdict == "pass") {
            out += "/>\n";
            continue;
        }
        std::string message;
        if (verdict == "error") {
            message = "meshsim internal error: " + str(r, "error");
        } else {
            for (const nlohmann::json& c : r["failed_checks"]) {
                message += (message.empty() ? "" : "; ") + str(c, "label") + ": expected " + str(c, "expected") +
                           ", measured " + str(c, "measured");
            }
        }
        const std::string reproduce = str(r, "reproduce");
        const std::string element = verdict == "error" ? "error" : "failure";
        const std::string type = verdict == "error" ? "internal_error" : "expectation";
        std::string body = "trace_hash=" + str(r, "trace_hash") + "\n";
        if (verdict == "error") {
            body += str(r, "error") + "\n";
        } else {
            for (const nlohmann::json& c : r["failed_checks"]) {
                body += "FAIL " + str(c, "label") + ": expected " + str(c, "expected") + ", measured " +
                        str(c, "measured") + "\n";
            }
        }
        body += "reproduce: " + reproduce + "\n";
        out += ">\n      <" + element + " message=\"" + xml_escape(message + "; reproduce: " + reproduce, true) +
               "\" type=\"" + type + "\">" + xml_escape(body, false) + "</" + element + ">\n    </testcase>\n";
    }
    out += "  </testsuite>\n</testsuites>\n";
    return out;
}

}  // namespace meshsim::harness
