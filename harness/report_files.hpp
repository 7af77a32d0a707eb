// The report files of a run (reports/report_builder.hpp's registry) written into its
// output directory: fed the events as events.jsonl has them, then the summary as
// summary.json has it, and renamed into place whole. `meshsim run --out DIR` feeds
// the events as they are written; `meshsim report DIR` reads them back from DIR,
// line by line; both go through this class, so their files are byte-identical.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/output_dir.hpp"
#include "reports/report_builder.hpp"

namespace meshsim::harness {

class report_files {
public:
    report_files();

    // One line of events.jsonl ('\n' optional). false with `error` set when it is not
    // a JSON object with an integer t_ns and a string kind.
    bool add_event_line(std::string_view line, std::string& error);
    std::uint64_t events() const { return events_; }

    // summary.json's text. Writes every report into DIR, each through a temporary file
    // renamed into place; false with `error` set at the first that fails (the ones
    // already renamed stay: each is whole).
    bool write(const output_dir& dir, const nlohmann::json& summary, std::string& error);

    // The files write() writes, in registry order.
    static std::vector<std::string> file_names();

private:
    std::vector<std::unique_ptr<report::report_builder>> builders_;
    std::uint64_t events_ = 0;
};

// summary.json's text parsed as `meshsim report` accepts it: a JSON object of a
// schema the report builders read. nullopt with `error` set (one sentence) otherwise.
std::optional<nlohmann::json> parse_summary(std::string_view text, std::string& error);

// The summary schemas the report builders read.
inline constexpr std::string_view report_summary_schemas[] = {"meshsim.summary/1", "meshsim.summary/2"};

}  // namespace meshsim::harness
