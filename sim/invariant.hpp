// Invariants that run in every build (both CI builds define NDEBUG, so `assert`
// never does). A broken invariant is a bug in meshsim, or code using it against its
// contract, never bad input: it stops the run and names the seed and the virtual
// time, so the failure replays exactly.
//
//     MESHSIM_INVARIANT(at >= now_, "an event is never scheduled in the past");
//
// throws invariant_violation. Where throwing would terminate (destructors, noexcept
// code, a fiber's very end), MESHSIM_INVARIANT_HOLDS(condition, what) reports
// instead and evaluates to the condition, so the caller can skip the broken step;
// the simulation throws the report at its next step. A run stops on the first
// violation whichever way it was reported, and even if some catch swallowed it.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "sim/time.hpp"

namespace meshsim::sim {

class invariant_violation : public std::logic_error {
public:
    // `seed` and `at` are empty when the invariant broke outside a simulation.
    invariant_violation(const std::string& message, std::optional<std::uint64_t> seed, std::optional<time_point> at)
        : std::logic_error(message), seed_(seed), at_(at) {}

    std::optional<std::uint64_t> seed() const { return seed_; }
    // The simulation's true virtual time when it broke (not a node's skewed clock).
    std::optional<time_point> at() const { return at_; }
    // The same violation with `note` appended to its message (a reproduce command).
    invariant_violation with_note(const std::string& note) const;

private:
    std::optional<std::uint64_t> seed_;
    std::optional<time_point> at_;
};

// Where invariants break: a simulation installs one for its lifetime on its thread
// (one simulation = one thread), so a check anywhere below it, in the kernel or a
// service, can name the seed and the virtual time without being handed them.
class invariant_scope {
public:
    // `now` must outlive the scope: it is read only when an invariant breaks.
    invariant_scope(std::uint64_t seed, const time_point& now);
    ~invariant_scope();
    invariant_scope(const invariant_scope&) = delete;
    invariant_scope& operator=(const invariant_scope&) = delete;

    // Throws the first violation reported in this scope, if any: the event loop
    // calls it at every step.
    void throw_if_broken() const {
        if (first_) [[unlikely]]
            throw *first_;
    }
    bool broken() const { return first_.has_value(); }

    // The innermost scope of this thread, or nullptr.
    static invariant_scope* current();
    // The violation, stamped with this scope's seed and time; kept if it is the first.
    invariant_violation report(const std::string& message);

private:
    std::uint64_t seed_;
    const time_point* now_;
    invariant_scope* outer_;
    std::optional<invariant_violation> first_;
};

namespace detail {
[[noreturn]] void invariant_failed(const char* what, const char* condition, const char* file, int line);
bool invariant_failed_nothrow(const char* what, const char* condition, const char* file, int line) noexcept;
}  // namespace detail

}  // namespace meshsim::sim

#define MESHSIM_INVARIANT(condition, what)                                                    \
    do {                                                                                      \
        if (!(condition)) [[unlikely]]                                                        \
            ::meshsim::sim::detail::invariant_failed((what), #condition, __FILE__, __LINE__); \
    } while (false)

#define MESHSIM_INVARIANT_HOLDS(condition, what) \
    (static_cast<bool>(condition) ||             \
     ::meshsim::sim::detail::invariant_failed_nothrow((what), #condition, __FILE__, __LINE__))
