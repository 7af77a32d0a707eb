#include "services/messaging/idempotent_consumer.hpp"

#include <utility>

#include "services/platform/planted_bug.hpp"

namespace meshsim::svc {

idempotent_consumer::idempotent_consumer(sim::store& store, std::string prefix)
    : store_(store), prefix_(std::move(prefix)) {}

bool idempotent_consumer::seen(const std::string& key) const { return store_.get(record_key(key)).has_value(); }

apply_result idempotent_consumer::apply_once(const std::string& key, const std::function<void(sim::store&)>& effect) {
    // Planted bug (test-only): the dedup record is written but never read.
    if (seen(key) && !planted(planted_bug::consumer_not_idempotent)) {
        ++duplicates_;
        return apply_result::duplicate;
    }
    effect(store_);
    store_.put(record_key(key), true);
    store_.sync();
    ++applied_;
    return apply_result::applied;
}

}  // namespace meshsim::svc
