#include "harness/cli.hpp"

int main(int argc, char** argv) { return meshsim::harness::run_cli(argc, argv); }
