// Fiber stacks for the kernel: fixed-size, carved from large anonymous mappings and
// reused newest first (the most recently freed stack is the one still in cache).
//
// Why not boost::fibers::pooled_fixedsize_stack: its boost::pool threads the free
// list through the free stacks themselves, so every stack it carves gets a page
// touched the moment its block is created, and a growing block is walked stack by
// stack. Here the free list lives beside the stacks: a stack's pages are touched only
// when a fiber runs on them (a parked fiber costs the pages it used, no more), and
// creating a block of stacks is one mmap.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include <boost/context/stack_context.hpp>

namespace meshsim::sim::kernel {

class stack_pool {
public:
    explicit stack_pool(std::size_t stack_bytes);
    ~stack_pool();
    stack_pool(const stack_pool&) = delete;
    stack_pool& operator=(const stack_pool&) = delete;

    // Throws std::bad_alloc when no memory is left for another block.
    boost::context::stack_context allocate();
    void deallocate(boost::context::stack_context& sc) noexcept;

    std::size_t stack_bytes() const { return stack_bytes_; }
    std::size_t stacks_created() const { return created_; }
    std::size_t stacks_in_use() const { return created_ - free_.size(); }

private:
    struct block {
        void* base;
        std::size_t bytes;
    };
    void add_block();

    std::size_t stack_bytes_;
    std::size_t created_ = 0;
    std::vector<void*> free_;  // lowest addresses of free stacks; capacity covers every stack
    std::vector<block> blocks_;
};

// The allocator Boost.Fiber copies into each fiber it creates: it shares the pool,
// so a fiber whose stack is freed after the simulation (by Boost.Fiber's dispatcher)
// still has a pool to give it back to.
class pooled_stacks {
public:
    explicit pooled_stacks(std::size_t stack_bytes) : pool_(std::make_shared<stack_pool>(stack_bytes)) {}
    boost::context::stack_context allocate() { return pool_->allocate(); }
    void deallocate(boost::context::stack_context& sc) noexcept { pool_->deallocate(sc); }
    const stack_pool& pool() const { return *pool_; }

private:
    std::shared_ptr<stack_pool> pool_;
};

}  // namespace meshsim::sim::kernel
