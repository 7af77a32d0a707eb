// A node's durable store on disk: an append-only file of JSON lines, one per put or
// erase. Writes stay in the process (and in a buffer) until sync() appends them and
// fsyncs; a crash (lose_unsynced) forgets the buffer and reads the file back.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/runtime.hpp"

namespace meshsim::real {

class file_store final : public sim::store {
public:
    file_store() = default;
    ~file_store() override;
    file_store(const file_store&) = delete;
    file_store& operator=(const file_store&) = delete;

    // Creates (or empties) the file; throws host_error when it cannot.
    void open(const std::string& path);
    void close();

    void put(const std::string& key, nlohmann::json value) override;
    bool erase(const std::string& key) override;
    std::optional<nlohmann::json> get(const std::string& key) const override;
    void sync() override;
    std::vector<std::string> keys(std::string_view prefix = {}) const override;

    // The crash: every write since the last sync is gone.
    void lose_unsynced();
    std::size_t syncs() const { return syncs_; }

private:
    std::string path_;
    int fd_ = -1;
    std::map<std::string, nlohmann::json, std::less<>> current_;
    std::string unsynced_;  // JSON lines not yet in the file
    std::size_t syncs_ = 0;
};

}  // namespace meshsim::real
