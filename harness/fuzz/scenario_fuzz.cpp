// libFuzzer target for the scenario loader: any bytes in, diagnostics or a
// scenario out; never a crash, a hang or unbounded memory. Covers the whole
// loader: JSON parse, validation and building the scenario model. Built with
// clang when MESHSIM_FUZZ is on (see docs/scenario-format.md, "Fuzzing"); its
// corpus and crashers are replayed by tests/harness/fuzz_corpus_test.cpp.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "harness/scenario/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    meshsim::harness::diagnostics out;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto loaded = meshsim::harness::load_scenario_text(text, "fuzz.json", out);
    // The loader's contract: a scenario exactly when there were no errors (warnings allowed).
    if (loaded.has_value() != (out.count() == 0)) std::abort();
    // Formatting the diagnostics (sorting, escaping input text) is part of loading.
    (void)out.format();
    return 0;
}
