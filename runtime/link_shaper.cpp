// Network faults on the real wire (see link_shaper.hpp). Real clock on purpose:
// outside the determinism lint.
#include "runtime/link_shaper.hpp"

#include <algorithm>

namespace meshsim::real {

namespace {

std::vector<bool> node_set(const std::vector<sim::node_id>& ids) {
    std::vector<bool> set;
    for (const sim::node_id id : ids) {
        if (id >= set.size()) set.resize(static_cast<std::size_t>(id) + 1, false);
        set[id] = true;
    }
    return set;
}

bool covers(const std::vector<bool>& set, sim::node_id id) { return set.empty() || (id < set.size() && set[id]); }

}  // namespace

link_shaper::link_shaper(boost::asio::io_context& io, std::uint64_t seed, sim::duration base_latency,
                         transmit_fn transmit)
    : timer_(io), rng_(seed, "real-network"), base_latency_(base_latency), transmit_(std::move(transmit)) {}

const sim::kernel::link_config* link_shaper::overlay_for(sim::node_id from, sim::node_id to) const {
    for (auto it = overlays_.rbegin(); it != overlays_.rend(); ++it) {
        if (covers(it->from, from) && covers(it->to, to)) return &it->config;
    }
    return nullptr;
}

const link_shaper::cut* link_shaper::cut_for(sim::node_id from, sim::node_id to) const {
    const cut* found = nullptr;
    for (const cut& c : cuts_) {
        if (!c.matrix.blocks(from, to)) continue;
        if (c.mode == sim::kernel::cut_mode::drop) return &c;
        found = &c;
    }
    return found;
}

link_shaper::plan link_shaper::shape(sim::node_id from, sim::node_id to) {
    plan p;
    if (const cut* c = cut_for(from, to)) {
        p.what = c->mode == sim::kernel::cut_mode::drop ? plan::fate::cut_dropped : plan::fate::held;
        ++(c->mode == sim::kernel::cut_mode::drop ? counts_.cut_dropped : counts_.held);
        return p;
    }
    const sim::kernel::link_config* l = overlay_for(from, to);
    if (l == nullptr) {
        p.delays.push_back(sim::duration{0});
        return p;
    }
    link_memory& m = memory_[{from, to}];
    if (l->loss > 0) {
        const bool lost =
            l->loss_correlation > 0 && rng_.bernoulli(l->loss_correlation) ? m.last_lost : rng_.bernoulli(l->loss);
        m.last_lost = lost;
        if (lost) {
            ++counts_.lost;
            p.what = plan::fate::lost;
            return p;
        }
    }
    if (l->corrupt > 0 && rng_.bernoulli(l->corrupt)) {
        p.corrupt = true;
        ++counts_.corrupted;
    }
    if (l->duplicate > 0 && rng_.bernoulli(l->duplicate)) {
        p.delays.push_back(copy_delay(*l, m));
        ++counts_.duplicated;
    }
    p.delays.push_back(copy_delay(*l, m));
    return p;
}

sim::duration link_shaper::copy_delay(const sim::kernel::link_config& l, link_memory& m) {
    sim::duration delay = l.latency.sample(rng_);
    if (l.jitter.count() != 0) {
        sim::duration j;
        if (l.delay_correlation > 0 && rng_.bernoulli(l.delay_correlation)) {
            j = m.last_jitter;
        } else {
            const auto span = static_cast<double>(l.jitter.count());
            j = sim::duration{static_cast<std::int64_t>(rng_.uniform(-span, span))};
        }
        m.last_jitter = j;
        delay = std::max(sim::saturating_add(delay, j), sim::duration{0});
    }
    if (l.reorder > 0 && rng_.bernoulli(l.reorder)) {
        ++counts_.reordered;
        return sim::duration{0};  // netem's reorder: sent at once, it overtakes the delayed ones
    }
    // The loopback already carries it the base latency's way.
    return std::max(delay - base_latency_, sim::duration{0});
}

void link_shaper::later(sim::duration delay, frame f) {
    ++counts_.delayed;
    const auto when = std::chrono::steady_clock::now() +  // determinism: allowed (real runtime)
                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay);
    delayed_.emplace(when, std::move(f));
    if (when < armed_for_) arm();
}

void link_shaper::hold(frame f) { held_.push_back(std::move(f)); }

void link_shaper::arm() {
    if (delayed_.empty()) {
        armed_for_ = std::chrono::steady_clock::time_point::max();
        timer_.cancel();
        return;
    }
    armed_for_ = delayed_.begin()->first;
    timer_.expires_at(armed_for_);  // cancels the wait for a later time, if any
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) fire();
    });
}

void link_shaper::fire() {
    armed_for_ = std::chrono::steady_clock::time_point::max();
    const auto now = std::chrono::steady_clock::now();  // determinism: allowed (real runtime)
    std::vector<frame> due;
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
        due.push_back(std::move(delayed_.begin()->second));
        delayed_.erase(delayed_.begin());
    }
    for (frame& f : due) {
        // A cut that appeared while the frame was on its way (the simulation's cut_in_flight).
        if (const cut* c = cut_for(f.from, f.to)) {
            if (c->mode == sim::kernel::cut_mode::drop) {
                ++counts_.cut_dropped;
            } else {
                ++counts_.held;
                held_.push_back(std::move(f));
            }
            continue;
        }
        transmit_(std::move(f));
    }
    arm();
}

std::uint64_t link_shaper::add_overlay(std::vector<sim::node_id> from, std::vector<sim::node_id> to,
                                       sim::kernel::link_config config) {
    const std::uint64_t id = next_handle_++;
    overlays_.push_back({id, node_set(from), node_set(to), std::move(config)});
    return id;
}

void link_shaper::remove_overlay(std::uint64_t id) {
    std::erase_if(overlays_, [id](const overlay& o) { return o.id == id; });
}

std::uint64_t link_shaper::add_cut(sim::kernel::cut_matrix matrix, sim::kernel::cut_mode mode) {
    const std::uint64_t id = next_handle_++;
    cuts_.push_back({id, std::move(matrix), mode});
    return id;
}

void link_shaper::heal(std::uint64_t id) {
    std::erase_if(cuts_, [id](const cut& c) { return c.id == id; });
    std::vector<frame> release;
    std::vector<frame> still_held;
    for (frame& f : held_) (cut_for(f.from, f.to) != nullptr ? still_held : release).push_back(std::move(f));
    held_ = std::move(still_held);
    counts_.released += release.size();
    for (frame& f : release) transmit_(std::move(f));
}

void link_shaper::clear() {
    delayed_.clear();
    held_.clear();
    overlays_.clear();
    cuts_.clear();
    armed_for_ = std::chrono::steady_clock::time_point::max();
    timer_.cancel();
}

}  // namespace meshsim::real
