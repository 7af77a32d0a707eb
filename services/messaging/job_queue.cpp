#include "services/messaging/job_queue.hpp"

#include <exception>

namespace meshsim::svc {

nlohmann::json to_json(const job& j) {
    return {{"id", j.id},
            {"kind", j.kind},
            {"payload", j.payload},
            {"attempts", j.attempts},
            {"not_before_ns", j.not_before.time_since_epoch().count()},
            {"last_error", j.last_error}};
}

std::optional<job> job_from_json(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return std::nullopt;
    job out;
    out.id = j["id"].get<std::string>();
    out.kind = j.value("kind", std::string{});
    out.payload = j.value("payload", nlohmann::json{});
    out.attempts = j.value("attempts", std::uint32_t{0});
    out.not_before = sim::time_point{sim::duration{j.value("not_before_ns", std::int64_t{0})}};
    out.last_error = j.value("last_error", std::string{});
    return out;
}

config_errors job_queue_config::validate() const {
    config_errors errors;
    require(errors, worker_count >= 1, "worker_count", ">= 1", static_cast<double>(worker_count));
    require(errors, max_attempts >= 1, "max_attempts", ">= 1", max_attempts);
    for (auto& line : backoff.validate()) errors.push_back("backoff." + line);
    return errors;
}

job_queue::job_queue(sim::runtime& rt, std::string name, job_queue_config config, job_handler handler)
    : rt_(rt), name_(std::move(name)), config_(config), handler_(std::move(handler)), backoff_(config.backoff) {}

bool job_queue::enqueue(const std::string& id, const std::string& kind, nlohmann::json payload) {
    sim::store& disk = rt_.durable_store();
    if (disk.get(job_key(id)) || disk.get(dead_key(id))) return false;
    job j{id, kind, std::move(payload), 0, rt_.now(), {}};
    disk.put(job_key(id), to_json(j));
    disk.sync();
    schedule(j);
    return true;
}

void job_queue::start() {
    for (const auto& key : rt_.durable_store().keys(name_ + "/job/")) {
        auto j = job_from_json(*rt_.durable_store().get(key));
        // Jobs enqueued before start() are scheduled already: twice would run them concurrently.
        if (j && active_.count(j->id) == 0) schedule(*j);
    }
    for (std::size_t i = 0; i < config_.worker_count; ++i) {
        rt_.spawn(name_ + "-worker", [this] { work_forever(); });
    }
}

void job_queue::schedule(const job& j) {
    active_.insert(j.id);
    ready_.emplace(std::pair{j.not_before, next_sequence_++}, j.id);
    idle_workers_.wake_one(rt_);
}

std::size_t job_queue::pending() const { return rt_.durable_store().keys(name_ + "/job/").size(); }

std::vector<job> job_queue::dead_letters() const {
    std::vector<job> out;
    for (const auto& key : rt_.durable_store().keys(name_ + "/dead/")) {
        if (auto j = job_from_json(*rt_.durable_store().get(key))) out.push_back(std::move(*j));
    }
    return out;
}

bool job_queue::redrive(const std::string& id) {
    sim::store& disk = rt_.durable_store();
    auto stored = disk.get(dead_key(id));
    if (!stored) return false;
    auto j = job_from_json(*stored);
    if (!j) return false;
    j->attempts = 0;
    j->not_before = rt_.now();
    disk.erase(dead_key(id));
    disk.put(job_key(id), to_json(*j));
    disk.sync();
    schedule(*j);
    return true;
}

void job_queue::work_forever() {
    while (true) {
        if (auto id = next_ready()) run(*id);
    }
}

// The next job due now, or nothing after waiting for one to become due.
std::optional<std::string> job_queue::next_ready() {
    auto first = ready_.begin();
    if (first == ready_.end()) {
        sim::wait_on(rt_, idle_workers_, sim::time_never);
        return std::nullopt;
    }
    if (first->first.first > rt_.now()) {
        sim::wait_on(rt_, idle_workers_, first->first.first);
        return std::nullopt;
    }
    std::string id = first->second;
    ready_.erase(first);
    return id;
}

void job_queue::run(const std::string& id) {
    sim::store& disk = rt_.durable_store();
    auto stored = disk.get(job_key(id));
    if (!stored) {  // completed or dead-lettered since it was scheduled
        active_.erase(id);
        return;
    }
    job j = *job_from_json(*stored);
    if (j.attempts >= config_.max_attempts) {
        // The last attempt was cut short by a crash: its count is spent.
        const std::string error = j.last_error.empty() ? "interrupted" : j.last_error;
        dead_letter(std::move(j), error);
        return;
    }
    ++j.attempts;
    disk.put(job_key(id), to_json(j));
    disk.sync();
    const job_outcome result = invoke(j);
    if (result.ok) {
        disk.erase(job_key(id));
        disk.sync();
        active_.erase(id);
        ++completed_;
        rt_.log("job_done", {{"queue", name_}, {"job", id}, {"attempt", j.attempts}});
        return;
    }
    on_failure(std::move(j), result.error);
}

job_outcome job_queue::invoke(const job& j) {
    try {
        return handler_(j);
    } catch (const sim::fiber_killed&) {
        throw;
    } catch (const std::exception& e) {
        return job_outcome::failure(e.what());
    }
}

void job_queue::on_failure(job j, const std::string& error) {
    ++failed_attempts_;
    rt_.log("job_failed", {{"queue", name_}, {"job", j.id}, {"attempt", j.attempts}, {"error", error}});
    if (j.attempts >= config_.max_attempts) {
        dead_letter(std::move(j), error);
        return;
    }
    // Decorrelated jitter wants the previous delay; the bound of the previous
    // retry is a fair stand-in that needs no extra state on disk.
    const sim::duration previous = j.attempts >= 2 ? backoff_.exponential_bound(j.attempts - 2) : sim::duration{0};
    j.not_before = rt_.now() + backoff_.delay(j.attempts - 1, previous, rt_.random(name_ + "/backoff"));
    j.last_error = error;
    rt_.durable_store().put(job_key(j.id), to_json(j));
    rt_.durable_store().sync();
    schedule(j);
}

void job_queue::dead_letter(job j, const std::string& error) {
    j.last_error = error;
    sim::store& disk = rt_.durable_store();
    disk.erase(job_key(j.id));
    disk.put(dead_key(j.id), to_json(j));
    disk.sync();
    active_.erase(j.id);
    rt_.log("job_dead_lettered", {{"queue", name_}, {"job", j.id}, {"attempts", j.attempts}, {"error", error}});
}

}  // namespace meshsim::svc
