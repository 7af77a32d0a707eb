#include "sim/message.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <stdexcept>

namespace meshsim::sim {

namespace {
std::uint32_t read_u32(const char* at) {
    std::uint32_t v = 0;
    std::memcpy(&v, at, sizeof v);
    return v;
}

void write_u32(char* at, std::uint32_t v) { std::memcpy(at, &v, sizeof v); }

std::uint32_t checked_length(std::size_t n) {
    if (n > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("a header key or value over 4 GiB");
    return static_cast<std::uint32_t>(n);
}
}  // namespace

headers::pair headers::iterator::operator*() const {
    const std::uint32_t key_size = read_u32(at_), value_size = read_u32(at_ + sizeof(std::uint32_t));
    const char* key = at_ + record_head;
    return {std::string_view(key, key_size), std::string_view(key + key_size, value_size)};
}

headers::iterator& headers::iterator::operator++() {
    at_ += record_head + read_u32(at_) + read_u32(at_ + sizeof(std::uint32_t));
    return *this;
}

headers::headers(const headers& other)
    : data_(other.size_ == 0 ? nullptr : new char[other.size_]), size_(other.size_), capacity_(other.size_) {
    if (size_ != 0) std::memcpy(data_, other.data_, size_);
}

headers& headers::operator=(const headers& other) {
    if (this != &other) *this = headers(other);
    return *this;
}

std::uint32_t headers::find_record(std::string_view key) const {
    for (std::uint32_t at = 0; at != size_;) {
        const std::uint32_t key_size = read_u32(data_ + at), value_size = read_u32(data_ + at + sizeof(std::uint32_t));
        // (memcmp takes no null pointer, even for no bytes: an empty string_view's may be null)
        if (key_size == key.size() &&
            (key_size == 0 || std::memcmp(data_ + at + record_head, key.data(), key_size) == 0))
            return at;
        at += record_head + key_size + value_size;
    }
    return size_;
}

bool headers::views_into_data(std::string_view text) const {
    const std::less<const char*> before;
    return !text.empty() && !before(text.data(), data_) && before(text.data(), data_ + size_);
}

std::size_t headers::size() const { return static_cast<std::size_t>(std::distance(begin(), end())); }

void headers::reserve_more(std::size_t more) {
    const std::size_t needed = std::size_t{size_} + more;
    if (needed <= capacity_) return;
    // A request's nine headers take about 250 bytes: one allocation, not four doublings.
    const std::size_t grown = std::max<std::size_t>({needed, std::size_t{capacity_} + capacity_ / 2, 256});
    const std::uint32_t capacity = checked_length(grown);
    char* data = new char[capacity];
    if (size_ != 0) std::memcpy(data, data_, size_);
    delete[] data_;
    data_ = data;
    capacity_ = capacity;
}

void headers::set(std::string_view key, std::string_view value) {
    if (views_into_data(key) || views_into_data(value)) {  // set("b", *find("a")): growing could move what it reads
        set(std::string(key), std::string(value));
        return;
    }
    const std::uint32_t value_size = checked_length(value.size());
    if (const std::uint32_t at = find_record(key); at != size_) {
        const std::uint32_t old_size = read_u32(data_ + at + sizeof(std::uint32_t));
        if (value_size > old_size) reserve_more(value_size - old_size);
        char* value_at = data_ + at + record_head + key.size();
        if (value_size != old_size) {  // the pairs after it move
            std::memmove(value_at + value_size, value_at + old_size, size_ - (value_at + old_size - data_));
            size_ = size_ - old_size + value_size;
        }
        if (value_size != 0) std::memcpy(value_at, value.data(), value_size);
        write_u32(data_ + at + sizeof(std::uint32_t), value_size);
        return;
    }
    const std::uint32_t key_size = checked_length(key.size());
    reserve_more(std::size_t{record_head} + key_size + value_size);
    char* out = data_ + size_;
    write_u32(out, key_size);
    write_u32(out + sizeof(std::uint32_t), value_size);
    if (key_size != 0) std::memcpy(out + record_head, key.data(), key_size);
    if (value_size != 0) std::memcpy(out + record_head + key_size, value.data(), value_size);
    size_ += record_head + key_size + value_size;
}

std::optional<std::string_view> headers::find(std::string_view key) const {
    const std::uint32_t at = find_record(key);
    if (at == size_) return std::nullopt;
    return std::string_view(data_ + at + record_head + key.size(), read_u32(data_ + at + sizeof(std::uint32_t)));
}

std::string headers::get(std::string_view key, std::string_view fallback) const {
    const std::optional<std::string_view> v = find(key);
    return std::string(v ? *v : fallback);
}

bool headers::erase(std::string_view key) {
    const std::uint32_t at = find_record(key);
    if (at == size_) return false;
    const std::uint32_t length = record_head + read_u32(data_ + at) + read_u32(data_ + at + sizeof(std::uint32_t));
    std::memmove(data_ + at, data_ + at + length, size_ - at - length);
    size_ -= length;
    return true;
}

}  // namespace meshsim::sim
