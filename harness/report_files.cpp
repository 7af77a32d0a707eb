#include "harness/report_files.hpp"

#include <streambuf>

namespace meshsim::harness {

namespace {

// An ostream's characters into an output_file, in chunks.
class output_file_buffer final : public std::streambuf {
public:
    explicit output_file_buffer(output_file& file) : file_(file) { setp(buffer_, buffer_ + sizeof buffer_); }
    ~output_file_buffer() override { sync(); }

protected:
    int_type overflow(int_type c) override {
        sync();
        if (!traits_type::eq_int_type(c, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(c);
            pbump(1);
        }
        return traits_type::not_eof(c);
    }
    int sync() override {
        file_.write(std::string_view(pbase(), static_cast<std::size_t>(pptr() - pbase())));
        setp(buffer_, buffer_ + sizeof buffer_);
        return file_.failed() ? -1 : 0;
    }

private:
    output_file& file_;
    char buffer_[1 << 16];
};

}  // namespace

report_files::report_files() {
    for (const report::report_format& f : report::report_formats()) builders_.push_back(f.make());
}

std::vector<std::string> report_files::file_names() {
    std::vector<std::string> names;
    for (const report::report_format& f : report::report_formats()) names.emplace_back(f.file_name);
    return names;
}

bool report_files::add_event_line(std::string_view line, std::string& error) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
    if (event.is_discarded()) {
        error = "not a JSON value";
        return false;
    }
    if (!event.is_object()) {
        error = "not a JSON object";
        return false;
    }
    const auto t = event.find("t_ns");
    const auto kind = event.find("kind");
    if (t == event.end() || !t->is_number_integer() || kind == event.end() || !kind->is_string()) {
        error = "an event needs an integer \"t_ns\" and a string \"kind\"";
        return false;
    }
    ++events_;
    for (const auto& b : builders_) b->add_event(event);
    return true;
}

bool report_files::write(const output_dir& dir, const nlohmann::json& summary, std::string& error) {
    for (std::size_t i = 0; i < builders_.size(); ++i) {
        std::optional<output_file> file = output_file::create(dir, report::report_formats()[i].file_name, error);
        if (!file) return false;
        {
            output_file_buffer buffer(*file);
            std::ostream out(&buffer);
            builders_[i]->write(summary, out);
            out.flush();
        }
        if (!file->commit()) {
            error = file->error();
            return false;
        }
    }
    return true;
}

std::optional<nlohmann::json> parse_summary(std::string_view text, std::string& error) {
    nlohmann::json summary = nlohmann::json::parse(text, nullptr, false);
    if (summary.is_discarded()) {
        error = text.empty() ? "is empty" : "is not whole JSON (truncated or corrupt)";
        return std::nullopt;
    }
    if (!summary.is_object()) {
        error = "is not a JSON object";
        return std::nullopt;
    }
    const auto schema = summary.find("schema");
    if (schema == summary.end() || !schema->is_string()) {
        error = "has no \"schema\": not a meshsim summary";
        return std::nullopt;
    }
    for (const std::string_view known : report_summary_schemas) {
        if (schema->get<std::string>() == known) return summary;
    }
    std::string expected;
    for (const std::string_view known : report_summary_schemas) {
        expected += std::string(expected.empty() ? "" : " or ") + std::string(known);
    }
    error = "has schema \"" + schema->get<std::string>() + "\"; meshsim report reads " + expected;
    return std::nullopt;
}

}  // namespace meshsim::harness
