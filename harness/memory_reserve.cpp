#include "harness/memory_reserve.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace meshsim::harness {

namespace {

// Atomic: the sweep's threads may all run out of memory at once; one frees it.
std::atomic<void*> reserve = nullptr;

void give_back_and_fail() {
    release_memory_reserve();
    throw std::bad_alloc();
}

}  // namespace

void set_aside_memory_reserve(std::size_t bytes) {
    release_memory_reserve();
    void* block = std::malloc(bytes);
    reserve.store(block);
    if (block != nullptr) std::set_new_handler(give_back_and_fail);
}

void release_memory_reserve() {
    std::free(reserve.exchange(nullptr));
    std::set_new_handler(nullptr);
}

}  // namespace meshsim::harness
