// The gateway: an aggregating front door. Each of its endpoints calls the services
// whose parts it combines, in parallel, and degrades gracefully: a failed optional
// part ("required": false) leaves it out of a 200 answer that is counted as partial
// (the endpoint's "partial" in summary.json); only a failed required part fails the
// request (502). It is the synthetic station (same keys, same serving and calling
// code, run_synthetic) with its endpoints checked to be aggregations.
#include "harness/kinds/kinds.hpp"

namespace meshsim::harness {

void read_gateway(object_reader& r, service_config& s, kind_reader& load) {
    load.read_station_keys(r, s, true);
    const value_reader list = r.member("endpoints");
    if (!list.is_array()) return;  // reported by the station's read
    const array_reader items = list.array();
    for (std::size_t i = 0; i < s.endpoints.size() && i < items.size(); ++i) {
        if (!items[i].is_object()) continue;  // reported too
        object_reader item = items[i].object();
        endpoint_config& e = s.endpoints[i];
        if (!item.has("calls") || (item.member("calls").is_array() && e.calls.empty())) {
            item.error("calls",
                       "a gateway endpoint aggregates: give it \"calls\" to the services whose parts it combines");
        }
        if (item.has("fanout") && e.fanout != fanout_mode::parallel) {
            item.error("fanout", "a gateway calls its parts in parallel: leave \"fanout\" out");
        }
        e.fanout = fanout_mode::parallel;
        for (const std::string_view key : {"write", "replica", "read"}) {
            if (item.has(key)) {
                item.error(key, "a gateway endpoint only aggregates calls: \"" + std::string(key) +
                                    "\" belongs to a synthetic service's endpoint");
            }
        }
    }
}

}  // namespace meshsim::harness
