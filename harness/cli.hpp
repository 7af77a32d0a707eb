// The `meshsim` command line: run, bench (and, as they land, validate and list).
// Exit codes: 0 all expectations hold, 1 an expectation failed, 2 bad input,
// 3 internal error.
#pragma once

#include <string>

namespace meshsim::harness {

enum exit_code : int { exit_pass = 0, exit_fail = 1, exit_bad_input = 2, exit_internal = 3 };

int run_cli(int argc, char** argv);

// One line on stderr for bad input (shown escaped, so it cannot forge lines); returns exit_bad_input.
int bad_input(const std::string& message);

// TEXT in double quotes for a message, cut after 40 bytes (a 5,000-digit seed).
std::string shown(const std::string& text);

}  // namespace meshsim::harness
