// A FIFO queue on a circular buffer that keeps its storage: once it has grown to
// the largest backlog it sees, pushing and popping allocate nothing. (std::deque
// frees a block each time a queue drains past it and allocates one as it refills,
// which is every few messages for a mailbox that holds one message at a time.)
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace meshsim::sim {

// Inline > 0 (a power of two): the first Inline items live in the queue object
// itself, so a queue that rarely holds more (a mailbox holding one message, a wait
// list with one waiter) never touches a separate allocation: one cache miss less
// each time another fiber or the network reaches it.
template <typename T, std::size_t Inline = 0>
class ring_queue {
    static_assert((Inline & (Inline - 1)) == 0, "the inline capacity is 0 or a power of two");

public:
    ring_queue() { use_inline(); }
    ring_queue(const ring_queue&) = delete;
    ring_queue& operator=(const ring_queue&) = delete;
    ring_queue(ring_queue&& other) noexcept { take(other); }
    ring_queue& operator=(ring_queue&& other) noexcept {
        if (this != &other) {
            release();
            take(other);
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

    // Grows the storage to hold at least n items, so pushing up to n allocates nothing.
    void reserve(std::size_t n) {
        while (capacity_ < n) grow();
    }

private:
    struct no_storage {};
    struct inline_storage {
        alignas(T) unsigned char bytes[Inline * sizeof(T)];
    };

    T* inline_items() {
        if constexpr (Inline == 0) {
            return nullptr;
        } else {
            return reinterpret_cast<T*>(inline_.bytes);
        }
    }
    bool on_heap() const { return items_ != nullptr && capacity_ > Inline; }
    void use_inline() {
        items_ = inline_items();
        capacity_ = Inline;
        head_ = 0;
        size_ = 0;
    }

    // Moves other's items in (stealing its heap buffer, or moving its inline items
    // one by one) and leaves other empty on its inline storage. *this holds nothing.
    void take(ring_queue& other) noexcept {
        if (other.on_heap()) {
            items_ = other.items_;
            capacity_ = other.capacity_;
            head_ = other.head_;
            size_ = other.size_;
            other.use_inline();
            return;
        }
        use_inline();
        for (std::size_t i = 0; i < other.size_; ++i) std::construct_at(items_ + i, std::move(other[i]));
        size_ = other.size_;
        other.clear();
    }

    void grow() {
        const std::size_t capacity = capacity_ == 0 ? 4 : capacity_ * 2;  // a power of two
        T* items = std::allocator<T>{}.allocate(capacity);
        for (std::size_t i = 0; i < size_; ++i) {
            std::construct_at(items + i, std::move((*this)[i]));
            std::destroy_at(&(*this)[i]);
        }
        if (on_heap()) std::allocator<T>{}.deallocate(items_, capacity_);
        items_ = items;
        capacity_ = capacity;
        head_ = 0;
    }

    void release() {
        clear();
        if (on_heap()) std::allocator<T>{}.deallocate(items_, capacity_);
        use_inline();
    }

    T* items_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
    [[no_unique_address]] std::conditional_t<Inline == 0, no_storage, inline_storage> inline_;
};

}  // namespace meshsim::sim
