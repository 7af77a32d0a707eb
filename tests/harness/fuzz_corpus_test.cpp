// Replays the scenario loader's fuzz corpus (tests/harness/fuzz_corpus/: the seeds,
// a minimized corpus from harness/fuzz/scenario_fuzz.cpp and every crasher it found)
// with the normal build: the loader must never throw, and must produce either a
// scenario or errors (warnings may come with a scenario), never both and never neither.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness/scenario/loader.hpp"

using namespace meshsim::harness;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> corpus_files() {
    const fs::path dir = fs::path(MESHSIM_SOURCE_DIR) / "tests/harness/fuzz_corpus";
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

}  // namespace

TEST_CASE("every fuzz corpus file loads to a scenario or to diagnostics, without throwing",
          "[harness][scenario][fuzz]") {
    const auto files = corpus_files();
    REQUIRE(files.size() >= 20);
    int scenarios = 0;
    for (const auto& path : files) {
        INFO(path.filename().string());

        diagnostics from_file;
        std::optional<scenario> loaded;
        REQUIRE_NOTHROW(loaded = load_scenario_file(path, from_file));
        CHECK(loaded.has_value() == (from_file.count() == 0));  // a scenario exactly when no errors
        if (!from_file.empty()) {
            std::string text;
            REQUIRE_NOTHROW(text = from_file.format());
            CHECK_FALSE(text.empty());
        }

        // The same bytes through the in-memory entry point (what the fuzzer calls).
        diagnostics from_text;
        std::optional<scenario> loaded_text;
        REQUIRE_NOTHROW(loaded_text = load_scenario_text(slurp(path), path.filename().string(), from_text));
        CHECK(loaded_text.has_value() == loaded.has_value());
        CHECK(from_text.count() == from_file.count());
        CHECK(from_text.warnings() == from_file.warnings());
        if (loaded) ++scenarios;
    }
    // The seeds include the example scenarios, which are valid.
    CHECK(scenarios >= 5);
}
