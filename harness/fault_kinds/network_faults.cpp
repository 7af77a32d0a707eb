// Faults of the network between services: a degraded link, a partition.
#include <set>

#include "harness/fault_kinds/fault_kind.hpp"
#include "harness/scenario/link_reader.hpp"

namespace meshsim::harness {

namespace k = sim::kernel;

namespace {

// Links from the target's instances to `to`'s (every node when empty).
class link_parameters final : public fault_parameters {
public:
    link_parameters(fault_target from, std::string to, k::link_config link)
        : from_(std::move(from)), to_(std::move(to)), link_(std::move(link)) {}
    std::vector<placed_fault> place(const fault_nodes& nodes) const override {
        return {{"", k::link_fault{nodes.of(from_.service, from_.instance),
                                   to_.empty() ? std::vector<std::string>{} : nodes.of(to_, 0), link_}}};
    }

private:
    fault_target from_;
    std::string to_;
    k::link_config link_;
};

class partition_parameters final : public fault_parameters {
public:
    k::partition_shape shape = k::partition_shape::groups;
    k::cut_mode mode = k::cut_mode::drop;
    std::vector<std::vector<std::string>> groups;  // services
    std::vector<std::string> from, to;             // one_way: services
    fault_target isolated;                         // isolate

    std::vector<placed_fault> place(const fault_nodes& nodes) const override {
        k::partition_fault p;
        p.shape = shape;
        p.mode = mode;
        for (const auto& g : groups) p.groups.push_back(nodes.of(g));
        p.from = nodes.of(from);
        p.to = nodes.of(to);
        if (shape == k::partition_shape::isolate) {
            const auto node = nodes.of(isolated.service, isolated.instance);
            if (!node.empty()) p.node = node.front();
        }
        return {{"", std::move(p)}};
    }
};

}  // namespace

fault_kind_info link_fault_kind() {
    return {
        k::fault_kind::link,
        "latency, jitter, loss, duplication, reordering, corruption, bandwidth on links from a service",
        [](object_reader& r, fault_reading& names, fault_target& target) -> std::shared_ptr<const fault_parameters> {
            target = read_fault_target(r, names);
            const std::string to = r.optional<std::string>("to", "", {.non_empty = true});
            if (!to.empty()) names.service_named(r.member("to"), to);
            const k::link_config link = read_link(r, k::link_config{});
            for (const std::string& e : link.validate("link")) r.error(e);
            return std::make_shared<const link_parameters>(target, to, link);
        },
        [](const k::fault_params& what, const fault_node_names& names, nlohmann::json& entry) {
            const auto& f = std::get<k::link_fault>(what);
            const auto from = target_of(f.from, names);
            if (from) write_fault_target(entry, *from);
            bool written = from.has_value();
            if (!f.to.empty()) {
                const auto to = services_of(f.to, names);
                written = written && to && to->size() == 1;
                if (to && !to->empty()) entry["to"] = to->front();
            }
            write_link(entry, f.config, k::link_config{});
            return written;
        }};
}

fault_kind_info partition_fault_kind() {
    return {
        k::fault_kind::partition, "cut: groups, one_way, halves, random_halves, isolate, majorities_ring, bridge",
        [](object_reader& r, fault_reading& names, fault_target& target) -> std::shared_ptr<const fault_parameters> {
            auto p = std::make_shared<partition_parameters>();
            const auto services = [&](const value_reader& list, std::vector<std::string>& into) {
                for (const value_reader& name : list.array({.min_items = 1})) {
                    into.push_back(name.as<std::string>());
                    names.service_named(name, into.back());
                }
            };
            using k::partition_shape;
            p->shape = r.choice<partition_shape>("shape",
                                                 {{"groups", partition_shape::groups},
                                                  {"one_way", partition_shape::one_way},
                                                  {"halves", partition_shape::halves},
                                                  {"random_halves", partition_shape::random_halves},
                                                  {"isolate", partition_shape::isolate},
                                                  {"majorities_ring", partition_shape::majorities_ring},
                                                  {"bridge", partition_shape::bridge}},
                                                 partition_shape::groups);
            p->mode =
                r.choice<k::cut_mode>("mode", {{"drop", k::cut_mode::drop}, {"hold", k::cut_mode::hold}}, p->mode);
            if (p->shape == partition_shape::groups) {
                for (const value_reader& group : r.array("groups", {.min_items = 2})) {
                    p->groups.emplace_back();
                    services(group, p->groups.back());
                }
                std::set<std::string> seen;
                for (const auto& group : p->groups) {
                    for (const auto& name : group) {
                        if (!name.empty() && !seen.insert(name).second)
                            r.error("groups", "partition names service " + quote(name) + " twice");
                    }
                }
            } else if (p->shape == partition_shape::one_way) {
                services(r.member("from"), p->from);
                services(r.member("to"), p->to);
                if (!r.has("from") || !r.has("to")) r.error("a one_way partition needs \"from\" and \"to\"");
            } else if (p->shape == partition_shape::isolate) {
                p->isolated = read_fault_target(r, names, 1);
                target = p->isolated;
            }
            return p;
        },
        [](const k::fault_params& what, const fault_node_names& names, nlohmann::json& entry) {
            const auto& f = std::get<k::partition_fault>(what);
            entry["shape"] = k::to_string(f.shape);
            if (f.mode != k::cut_mode::drop) entry["mode"] = "hold";
            using k::partition_shape;
            switch (f.shape) {
                case partition_shape::groups: {
                    entry["groups"] = nlohmann::json::array();
                    for (const auto& group : f.groups) {
                        const auto services = services_of(group, names);
                        if (!services) return false;
                        entry["groups"].push_back(*services);
                    }
                    return true;
                }
                case partition_shape::one_way: {
                    const auto from = services_of(f.from, names);
                    const auto to = services_of(f.to, names);
                    if (from) entry["from"] = *from;
                    if (to) entry["to"] = *to;
                    return from && to;
                }
                case partition_shape::isolate: {
                    // The reader's default instance is 1: write it always.
                    const fault_target t = names.instance_of(f.node);
                    if (t.service.empty()) return false;
                    entry["service"] = t.service;
                    entry["instance"] = t.instance;
                    return true;
                }
                default: return true;
            }
        }};
}

}  // namespace meshsim::harness
