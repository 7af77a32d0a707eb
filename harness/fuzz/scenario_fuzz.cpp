// libFuzzer target for the scenario loader: any bytes in, diagnostics or a
// scenario out; never a crash, a hang or unbounded memory. Built with clang when
// MESHSIM_FUZZ is on; its corpus and crashers are replayed by tests/harness.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "harness/scenario/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    meshsim::harness::diagnostics out;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)meshsim::harness::load_scenario_text(text, "fuzz.json", out);
    return 0;
}
