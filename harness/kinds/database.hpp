// The database kind's client side: how a synthetic write endpoint that names a
// database ("write": {"database": "orders-db"}) keeps its records and dedupe keys
// there instead of in its own instance's store, so every instance of the service
// sees every key (a retry that lands on another instance is deduplicated).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/world/context.hpp"
#include "services/platform/client.hpp"

namespace meshsim::harness {

// Where a database keeps a service's records: table/<service>/<key>, read by
// world::collect_data as that service's stored records.
inline const std::string table_prefix = "table/";

// One caller instance's connection to a database: one edge per database instance
// (a shard), each key always on the same shard (a stable hash of the key).
class database_client {
public:
    database_client(world_context& ctx, sim::runtime& rt, svc::rpc_client& client, const std::string& caller,
                    const std::string& database);
    database_client(const database_client&) = delete;
    database_client& operator=(const database_client&) = delete;

    // Writes the caller's record `key` (a second time only without dedupe); true
    // when the database committed it (synced) or already had it.
    bool write(const std::string& key, bool dedupe, const svc::call_scope& scope);

    // Looks the caller's record `key` up (GET /records/lookup, on the key's shard).
    enum class lookup_result : std::uint8_t { found, missing, failed };
    lookup_result lookup(const std::string& key, const svc::call_scope& scope);

private:
    world_context& ctx_;
    sim::runtime& rt_;
    std::string caller_;
    std::size_t edge_stats_;
    std::vector<std::unique_ptr<svc::call_edge>> shards_;
};

}  // namespace meshsim::harness
