// Memory set aside to fail in. Running out of memory must end a run with a message
// (exit 3), never a signal; but unwinding allocates too (nlohmann::json's destructor
// does, and std::terminate follows when it cannot), so the reserve is given back at
// the first failure and the unwinding and the message have room.
#pragma once

#include <cstddef>

namespace meshsim::harness {

// Sets BYTES aside (address space, not touched) and makes the first failing
// operator new give it back and throw std::bad_alloc.
void set_aside_memory_reserve(std::size_t bytes);

// Gives the reserve back now (again: nothing), for failures operator new does not
// see (fiber stacks come from malloc).
void release_memory_reserve();

}  // namespace meshsim::harness
