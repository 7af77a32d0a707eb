// Idempotent consumers: a dedup record per event id / idempotency key, kept in
// the consumer's own durable store and written in the same local transaction
// (one sync) as the effect, so a redelivered event has no second effect.
#pragma once

#include <functional>
#include <string>

#include "sim/runtime.hpp"

namespace meshsim::svc {

enum class apply_result : std::uint8_t { applied, duplicate };

class idempotent_consumer {
public:
    // Dedup records live under "<prefix>/seen/<key>" in `store`.
    idempotent_consumer(sim::store& store, std::string prefix);

    bool seen(const std::string& key) const;

    // Runs `effect` unless `key` was applied before. The effect writes the store
    // (without syncing); the dedup record joins those writes and one sync commits
    // both, so a crash keeps both or neither. The effect must not park (no RPC,
    // no sleep): a crash inside it would otherwise split effect and record.
    // Effects on other services carry `key` as their idempotency key instead.
    apply_result apply_once(const std::string& key, const std::function<void(sim::store&)>& effect);

    std::size_t applied_count() const { return applied_; }
    std::size_t duplicate_count() const { return duplicates_; }

private:
    std::string record_key(const std::string& key) const { return prefix_ + "/seen/" + key; }

    sim::store& store_;
    std::string prefix_;
    std::size_t applied_ = 0;     // since this process started
    std::size_t duplicates_ = 0;  // since this process started
};

}  // namespace meshsim::svc
