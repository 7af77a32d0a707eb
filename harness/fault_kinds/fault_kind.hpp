// Fault kinds, registered once (registry.cpp): each kind reads its own keys of a
// scenario fault with the positioned reader and turns what it read into kernel
// fault specs once the world knows the nodes; and back: writes a kernel fault (a
// scenario's or a nemesis's) as the scenario entry that reads as it, for summary.json. Its name is the kernel's (the
// parameter struct's `name`), so a scenario's "kind", a nemesis's kinds, the trace
// and summary.json say the same word. A new kind: its kernel struct, its file here
// (one fault_kind_info) and one line in registry.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/scenario/reader.hpp"
#include "sim/kernel/faults.hpp"

namespace meshsim::harness {

// The world's answer to "which nodes run this service": one name per instance, or
// just instance `instance` (1-based; 0 = every instance).
class fault_nodes {
public:
    virtual ~fault_nodes() = default;
    virtual std::vector<std::string> of(const std::string& service, std::uint32_t instance) const = 0;
    std::vector<std::string> of(const std::vector<std::string>& services) const;
    // The port services serve requests on (where request faults apply).
    virtual sim::port_id service_port() const = 0;
};

// One kernel fault a scenario fault becomes, with the node it targets ("" when it
// targets several): the node ends its label in the trace ("faults[5] cache-1").
struct placed_fault {
    std::string node;
    sim::kernel::fault_params what;
};

// What a kind read from one scenario fault (declared in scenario/model.hpp).
class fault_parameters {
public:
    virtual ~fault_parameters() = default;
    virtual std::vector<placed_fault> place(const fault_nodes& nodes) const = 0;
};

// What a kind's reader may do besides reading its object: remember the names it
// read, which the loader checks once every service is known.
class fault_reading {
public:
    virtual ~fault_reading() = default;
    virtual void service_named(const value_reader& at, const std::string& service) = 0;
    // An endpoint path of `service` (any version).
    virtual void endpoint_named(const value_reader& at, const std::string& service, const std::string& path) = 0;
};

// The target most kinds share: "service" (required) and "instance" (1-based; default
// every instance). Written into the fault's common part, which the loader checks.
struct fault_target {
    std::string service;
    std::uint32_t instance = 0;
};
fault_target read_fault_target(object_reader& r, fault_reading& names, std::uint32_t default_instance = 0);

// The inverse of fault_nodes: which service instance a node is.
class fault_node_names {
public:
    virtual ~fault_node_names() = default;
    // Service and 1-based instance of a node; service "" when it is no service's instance.
    virtual fault_target instance_of(const std::string& node) const = 0;
    // How many instances the service runs (0 for no such service).
    virtual std::uint32_t instance_count(const std::string& service) const = 0;
};
// A target as read_fault_target reads it: "service", and "instance" unless every one.
void write_fault_target(nlohmann::json& entry, const fault_target& t);
// The nodes as one target: one instance, or every instance of one service; nullopt otherwise.
std::optional<fault_target> target_of(const std::vector<std::string>& nodes, const fault_node_names& names);
// The nodes as whole services (every instance of each, nothing else), in the order
// they first appear; nullopt otherwise.
std::optional<std::vector<std::string>> services_of(const std::vector<std::string>& nodes,
                                                    const fault_node_names& names);

struct fault_kind_info {
    sim::kernel::fault_kind kernel_kind;  // its name
    std::string_view description;         // one line, for `meshsim list`
    // Reads the kind's own keys (the loader read "kind", "at", "for", "repeat_every" and
    // "repeat_until"; the reader finishes the object afterwards). Sets target to what
    // the fault targets (service "" for none); null on a wrong file is fine.
    std::shared_ptr<const fault_parameters> (*read)(object_reader& r, fault_reading& names, fault_target& target);
    // The inverse of read and place: writes the kind's keys of the scenario entry that
    // places `what` (of this kind) into `entry` (which has "kind", "at" and "for").
    // False when no scenario entry places it (nodes that are no whole target).
    bool (*write)(const sim::kernel::fault_params& what, const fault_node_names& names, nlohmann::json& entry);

    std::string_view name() const { return sim::kernel::to_string(kernel_kind); }
};

// A fault on each targeted instance: make(node), or make(node, nodes) when it needs
// more of the world (the service port), gives the kernel parameters for one.
template <class Make>
std::shared_ptr<const fault_parameters> on_each_instance(fault_target target, Make make) {
    class each final : public fault_parameters {
    public:
        each(fault_target t, Make m) : target_(std::move(t)), make_(std::move(m)) {}
        std::vector<placed_fault> place(const fault_nodes& nodes) const override {
            std::vector<placed_fault> placed;
            for (std::string& node : nodes.of(target_.service, target_.instance)) {
                sim::kernel::fault_params what = [&] {
                    if constexpr (std::is_invocable_v<const Make&, const std::string&, const fault_nodes&>) {
                        return sim::kernel::fault_params(make_(node, nodes));
                    } else {
                        return sim::kernel::fault_params(make_(node));
                    }
                }();
                placed.push_back({std::move(node), std::move(what)});
            }
            return placed;
        }

    private:
        fault_target target_;
        Make make_;
    };
    return std::make_shared<const each>(std::move(target), std::move(make));
}

// Every fault kind, in the order `meshsim list` and "must be one of" print them.
const std::vector<fault_kind_info>& all_fault_kinds();
const std::vector<std::string_view>& fault_kind_names();
const fault_kind_info* find_fault_kind(std::string_view name);
// For a name a fault kind once had, the message pointing to its name now; else "".
std::string renamed_fault_kind(std::string_view old_name);

}  // namespace meshsim::harness
