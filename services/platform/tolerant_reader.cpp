#include "services/platform/tolerant_reader.hpp"

namespace meshsim::svc {

const nlohmann::json* tolerant_reader::lookup(std::string_view key) const {
    if (!body_->is_object()) return nullptr;
    auto it = body_->find(key);
    if (it == body_->end() || it->is_null()) return nullptr;
    return &*it;
}

}  // namespace meshsim::svc
