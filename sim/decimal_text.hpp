// An unsigned number as decimal text on the stack, for hot paths that would
// otherwise build a std::string per event or per request (trace details, call ids).
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshsim::sim {

class decimal_text {
public:
    explicit decimal_text(std::uint64_t v)
        : size_(static_cast<std::size_t>(std::to_chars(buf_, buf_ + sizeof buf_, v).ptr - buf_)) {}
    std::string_view view() const { return {buf_, size_}; }

private:
    char buf_[20];  // 18,446,744,073,709,551,615 has 20 digits
    std::size_t size_;
};

}  // namespace meshsim::sim
