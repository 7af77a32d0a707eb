// A FIFO queue on a circular buffer that keeps its storage: once it has grown to
// the largest backlog it sees, pushing and popping allocate nothing. (std::deque
// frees a block each time a queue drains past it and allocates one as it refills,
// which is every few messages for a mailbox that holds one message at a time.)
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace meshsim::sim {

template <typename T>
class ring_queue {
public:
    ring_queue() = default;
    ring_queue(const ring_queue&) = delete;
    ring_queue& operator=(const ring_queue&) = delete;
    ring_queue(ring_queue&& other) noexcept
        : items_(std::exchange(other.items_, nullptr)),
          capacity_(std::exchange(other.capacity_, 0)),
          head_(std::exchange(other.head_, 0)),
          size_(std::exchange(other.size_, 0)) {}
    ring_queue& operator=(ring_queue&& other) noexcept {
        if (this != &other) {
            release();
            items_ = std::exchange(other.items_, nullptr);
            capacity_ = std::exchange(other.capacity_, 0);
            head_ = std::exchange(other.head_, 0);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    ~ring_queue() { release(); }

    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }

    T& front() { return items_[head_]; }
    const T& front() const { return items_[head_]; }
    // The i-th item from the front.
    T& operator[](std::size_t i) { return items_[(head_ + i) & (capacity_ - 1)]; }
    const T& operator[](std::size_t i) const { return items_[(head_ + i) & (capacity_ - 1)]; }

    template <typename... Args>
    T& emplace_back(Args&&... args) {
        if (size_ == capacity_) grow();
        T* slot = items_ + ((head_ + size_) & (capacity_ - 1));
        std::construct_at(slot, std::forward<Args>(args)...);
        ++size_;
        return *slot;
    }
    void push_back(T&& value) { emplace_back(std::move(value)); }
    void push_back(const T& value) { emplace_back(value); }

    void pop_front() {
        std::destroy_at(items_ + head_);
        head_ = (head_ + 1) & (capacity_ - 1);
        --size_;
    }

    // Removes the item at position i (0 = front), keeping the order of the rest.
    void erase_at(std::size_t i) {
        for (; i + 1 < size_; ++i) (*this)[i] = std::move((*this)[i + 1]);
        std::destroy_at(&(*this)[size_ - 1]);
        --size_;
    }

    void clear() {
        while (size_ > 0) pop_front();
        head_ = 0;
    }

private:
    void grow() {
        const std::size_t capacity = capacity_ == 0 ? 4 : capacity_ * 2;  // a power of two
        T* items = std::allocator<T>{}.allocate(capacity);
        for (std::size_t i = 0; i < size_; ++i) {
            std::construct_at(items + i, std::move((*this)[i]));
            std::destroy_at(&(*this)[i]);
        }
        if (items_ != nullptr) std::allocator<T>{}.deallocate(items_, capacity_);
        items_ = items;
        capacity_ = capacity;
        head_ = 0;
    }

    void release() {
        clear();
        if (items_ != nullptr) std::allocator<T>{}.deallocate(items_, capacity_);
        items_ = nullptr;
        capacity_ = 0;
    }

    T* items_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

}  // namespace meshsim::sim
