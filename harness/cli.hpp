// The `meshsim` command line: run, bench (and, as they land, validate and list).
// Exit codes: 0 all expectations hold, 1 an expectation failed, 2 bad input,
// 3 internal error.
#pragma once

namespace meshsim::harness {

enum exit_code : int { exit_pass = 0, exit_fail = 1, exit_bad_input = 2, exit_internal = 3 };

int run_cli(int argc, char** argv);

}  // namespace meshsim::harness
