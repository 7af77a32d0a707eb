#include "sim/invariant.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace meshsim::sim {

namespace {

thread_local invariant_scope* innermost = nullptr;

// __FILE__ as the compiler was given it (absolute, or relative under ccache): shown
// from the repository root, found from this file's own path.
std::string_view source_path(const char* file) {
    constexpr std::string_view self = __FILE__;
    constexpr std::string_view self_in_repo = "sim/invariant.cpp";
    const std::string_view root = self.substr(0, self.size() - self_in_repo.size());
    std::string_view path = file;
    if (path.starts_with(root)) path.remove_prefix(root.size());
    return path;
}

std::string describe(const char* what, const char* condition, const char* file, int line) {
    return std::string(what) + " (" + condition + ", " + std::string(source_path(file)) + ":" + std::to_string(line) +
           ")";
}

}  // namespace

invariant_violation invariant_violation::with_note(const std::string& note) const {
    return invariant_violation(std::string(what()) + note, seed_, at_);
}

invariant_scope::invariant_scope(std::uint64_t seed, const time_point& now)
    : seed_(seed), now_(&now), outer_(innermost) {
    innermost = this;
}

invariant_scope::~invariant_scope() {
    // Scopes end in the reverse order they began, unless simulations on one thread
    // overlap; then unlink this one wherever it is.
    for (invariant_scope** link = &innermost; *link != nullptr; link = &(*link)->outer_) {
        if (*link == this) {
            *link = outer_;
            break;
        }
    }
}

invariant_scope* invariant_scope::current() { return innermost; }

invariant_violation invariant_scope::report(const std::string& message) {
    invariant_violation v("invariant broken at virtual time " + format_time_hms(*now_) + " (seed " +
                              std::to_string(seed_) + "): " + message,
                          seed_, *now_);
    if (!first_) first_ = v;
    return v;
}

namespace detail {

void invariant_failed(const char* what, const char* condition, const char* file, int line) {
    const std::string message = describe(what, condition, file, line);
    if (invariant_scope* scope = invariant_scope::current()) throw scope->report(message);
    throw invariant_violation("invariant broken outside a simulation: " + message, std::nullopt, std::nullopt);
}

bool invariant_failed_nothrow(const char* what, const char* condition, const char* file, int line) noexcept {
    try {
        if (invariant_scope* scope = invariant_scope::current()) {
            scope->report(describe(what, condition, file, line));
            return false;
        }
        // No event loop will ever throw it: stop here, loudly, rather than run on broken.
        std::fprintf(stderr, "meshsim: internal error: invariant broken outside a simulation: %s\n",
                     describe(what, condition, file, line).c_str());
    } catch (...) {
        std::fprintf(stderr, "meshsim: internal error: invariant broken: %s (%s, %s:%d)\n", what, condition, file,
                     line);
    }
    std::abort();
}

}  // namespace detail

}  // namespace meshsim::sim
