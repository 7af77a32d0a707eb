#include "harness/memory_reserve.hpp"

#include <cstdlib>
#include <new>

namespace meshsim::harness {

namespace {

void* reserve = nullptr;

void give_back_and_fail() {
    release_memory_reserve();
    throw std::bad_alloc();
}

}  // namespace

void set_aside_memory_reserve(std::size_t bytes) {
    release_memory_reserve();
    reserve = std::malloc(bytes);
    if (reserve != nullptr) std::set_new_handler(give_back_and_fail);
}

void release_memory_reserve() {
    std::free(reserve);
    reserve = nullptr;
    std::set_new_handler(nullptr);
}

}  // namespace meshsim::harness
