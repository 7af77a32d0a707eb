#include "runtime/file_store.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include "runtime/host.hpp"

namespace meshsim::real {

file_store::~file_store() { close(); }

void file_store::open(const std::string& path) {
    close();
    path_ = path;
    // O_NOFOLLOW: never write through a symlink someone left in the data directory.
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd_ < 0) throw host_error("cannot create the store file " + path + ": " + std::strerror(errno));
    current_.clear();
    unsynced_.clear();
}

void file_store::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void file_store::put(const std::string& key, nlohmann::json value) {
    unsynced_ += nlohmann::json{{"k", key}, {"v", value}}.dump();
    unsynced_ += '\n';
    current_[key] = std::move(value);
}

bool file_store::erase(const std::string& key) {
    const auto it = current_.find(key);
    if (it == current_.end()) return false;
    current_.erase(it);
    unsynced_ += nlohmann::json{{"k", key}, {"erase", true}}.dump();
    unsynced_ += '\n';
    return true;
}

std::optional<nlohmann::json> file_store::get(const std::string& key) const {
    const auto it = current_.find(key);
    if (it == current_.end()) return std::nullopt;
    return it->second;
}

void file_store::sync() {
    ++syncs_;
    if (unsynced_.empty() || fd_ < 0) return;
    std::size_t done = 0;
    while (done < unsynced_.size()) {
        const ssize_t n = ::write(fd_, unsynced_.data() + done, unsynced_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("store " + path_ + ": write failed: " + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
    if (::fdatasync(fd_) != 0) throw std::runtime_error("store " + path_ + ": fsync failed: " + std::strerror(errno));
    unsynced_.clear();
}

std::vector<std::string> file_store::keys(std::string_view prefix) const {
    std::vector<std::string> out;
    for (auto it = current_.lower_bound(prefix); it != current_.end() && it->first.starts_with(prefix); ++it)
        out.push_back(it->first);
    return out;
}

void file_store::lose_unsynced() {
    unsynced_.clear();
    current_.clear();
    std::ifstream in(path_);
    std::string line;
    while (std::getline(in, line)) {
        const nlohmann::json op = nlohmann::json::parse(line, nullptr, false);
        if (!op.is_object() || !op.contains("k")) continue;  // a torn last line: the write never completed
        const std::string key = op["k"].get<std::string>();
        if (op.contains("erase")) {
            current_.erase(key);
        } else {
            current_[key] = op.value("v", nlohmann::json());
        }
    }
}

}  // namespace meshsim::real
