#include "sim/kernel/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <new>

namespace meshsim::sim::kernel {

namespace {
// Blocks start at this many stacks and double up to the cap: few mappings for a
// big run, little address space for a small one.
constexpr std::size_t first_block_stacks = 64;
constexpr std::size_t max_block_stacks = 4096;

std::size_t page_rounded(std::size_t bytes) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return std::max(page, (bytes + page - 1) / page * page);
}
}  // namespace

stack_pool::stack_pool(std::size_t stack_bytes) : stack_bytes_(page_rounded(stack_bytes)) {}

stack_pool::~stack_pool() {
    for (const block& b : blocks_) ::munmap(b.base, b.bytes);
}

void stack_pool::add_block() {
    const std::size_t stacks = std::clamp(created_, first_block_stacks, max_block_stacks);
    const std::size_t bytes = stacks * stack_bytes_;
    // Room for every stack on the free list first, so deallocate never allocates.
    free_.reserve(created_ + stacks);
    blocks_.reserve(blocks_.size() + 1);
    // Address space only: the kernel backs a page when a fiber first touches it.
    void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    blocks_.push_back({base, bytes});
    // Pushed highest first, so stacks are handed out in address order.
    for (std::size_t i = stacks; i-- > 0;) free_.push_back(static_cast<char*>(base) + i * stack_bytes_);
    created_ += stacks;
}

boost::context::stack_context stack_pool::allocate() {
    if (free_.empty()) add_block();
    void* low = free_.back();
    free_.pop_back();
    boost::context::stack_context sc;
    sc.size = stack_bytes_;
    sc.sp = static_cast<char*>(low) + stack_bytes_;  // stacks grow down
    return sc;
}

void stack_pool::deallocate(boost::context::stack_context& sc) noexcept {
    free_.push_back(static_cast<char*>(sc.sp) - sc.size);  // never reallocates: reserved in add_block
}

}  // namespace meshsim::sim::kernel
