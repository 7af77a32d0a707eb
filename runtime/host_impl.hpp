// Internals of the real runtime (runtime/host.hpp): the node (the seam), its
// connections, the fiber table. Shared by host.cpp and http_edge.cpp only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/mutex.hpp>

#include "runtime/file_store.hpp"
#include "runtime/host.hpp"
#include "runtime/link_shaper.hpp"
#include "sim/sync.hpp"

namespace meshsim::real {

using tcp = boost::asio::ip::tcp;

class node;
class out_link;
class in_conn;
class http_edge;

// The wire: 4-byte big-endian length, then the message as CBOR.
std::string encode_frame(const sim::message& msg);
std::optional<sim::message> decode_frame(const std::vector<std::uint8_t>& payload);
inline constexpr std::uint32_t max_frame_bytes = 16u << 20;

class node final : public sim::runtime {
public:
    node(host_impl& h, sim::node_id id, std::string name, std::function<void(sim::runtime&)> boot, std::uint16_t port);

    // --- the seam ---
    sim::node_id self() const override { return id_; }
    const std::string& node_name() const override { return name_; }
    std::string_view name_of(sim::node_id id) const override;
    sim::time_point now() const override;
    void sleep_until(sim::time_point deadline) override;
    void compute(sim::duration work) override;
    sim::random_stream& random(std::string_view name) override;
    void spawn(std::string_view name, std::function<void()> body) override;
    sim::fiber_ref current_fiber() override;
    sim::wake_reason park(sim::fiber_ref self, sim::time_point deadline) override;
    void unpark(sim::fiber_ref ref) override;
    void bind(sim::port_id port) override;
    void unbind(sim::port_id port) override;
    void send(sim::message&& msg) override;
    std::optional<sim::message> receive(sim::port_id port, sim::time_point deadline) override;
    sim::store& durable_store() override { return store_; }
    sim::request_fault fault_for_request(sim::port_id port, std::string_view path) override;
    void log(std::string_view event, const nlohmann::json& fields) override;
    void record_state(std::string_view component, std::string_view state, std::string_view fields) override;
    void record_attempt(const sim::attempt_record& attempt) override;
    void record_serve(const sim::serve_record& served) override;

    // --- host side ---
    void open_socket();  // binds the listening port (throws host_error)
    void open_store(const std::string& dir);
    void close_all();  // open() failed: nothing stays listening
    std::map<sim::node_id, std::shared_ptr<out_link>>& links_for_send() { return links_; }
    void start();
    void crash();
    bool up() const { return up_; }
    bool paused() const { return paused_; }
    std::uint32_t incarnation() const { return incarnation_; }
    void set_paused(bool p);
    void wait_while_paused(std::unique_lock<boost::fibers::mutex>& lock);
    std::uint16_t port() const { return port_; }
    // A frame arrived for this node (or a bounce for it was made here).
    void arrived(sim::message&& msg);
    void link_failed(sim::node_id to, const out_link* link);
    void bounce_to_self(const sim::message& stub, std::string_view why);
    file_store& disk() { return store_; }
    sim::kernel::service_fault_table& service_faults() { return service_faults_; }
    double slowness = 1.0;

private:
    struct mailbox {
        bool bound = false;
        std::deque<sim::message> queue;
        sim::wait_list receivers;
    };
    void accept_next();
    void close_sockets();

    host_impl& host_;
    sim::node_id id_;
    std::string name_;
    std::function<void(sim::runtime&)> boot_;
    std::uint16_t port_;
    bool up_ = false;
    bool paused_ = false;
    std::uint32_t incarnation_ = 0;
    boost::fibers::condition_variable resumed_;
    tcp::acceptor acceptor_;
    std::map<sim::port_id, std::unique_ptr<mailbox>> boxes_;  // never freed: waiters hold references
    std::map<sim::node_id, std::shared_ptr<out_link>> links_;
    std::vector<std::weak_ptr<in_conn>> incoming_;
    std::map<std::string, sim::random_stream, std::less<>> streams_;
    file_store store_;
    sim::kernel::service_fault_table service_faults_;
    sim::random_stream fault_random_;
};

class host_impl {
public:
    explicit host_impl(host_options o);
    ~host_impl();

    struct fiber_slot {
        std::uint32_t token = 0;
        sim::node_id owner = sim::no_node;  // no_node: control code (not any node's)
        bool in_use = false;
        bool parked = false;
        bool woken = false;
        bool killed = false;
        bool may_unwind = false;  // a killed fiber unwinds only when its turn comes (newest first)
        std::uint64_t seq = 0;    // spawn order
        std::unique_ptr<boost::fibers::condition_variable> cv = std::make_unique<boost::fibers::condition_variable>();
    };

    void spawn(sim::node_id owner, std::function<void()> body);
    sim::fiber_ref current_fiber();
    sim::wake_reason park(sim::fiber_ref self, sim::time_point deadline);
    void unpark(sim::fiber_ref ref);
    // Unwinds every fiber of `owner`, newest first (a fiber spawned later usually runs
    // inside state an earlier one owns), each to its end before the next; called from
    // a fiber of another owner.
    void kill_fibers(sim::node_id owner);
    bool current_is(std::uint32_t slot_index) const;
    std::size_t live_fibers() const { return live_fibers_; }
    std::size_t live_fibers_of(sim::node_id owner) const;
    sim::time_point now() const;
    std::chrono::steady_clock::time_point steady_of(sim::time_point t) const {
        return epoch_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.time_since_epoch());
    }
    void emit(sim::event_kind kind, sim::node_id node, std::uint64_t a = 0, std::uint64_t b = 0,
              std::string detail = {});
    void send(node& from, sim::message msg);
    // Writes a frame on its sender's link to its receiver (opened on first use);
    // dropped when the sender's process that made it is gone.
    void transmit(link_shaper::frame&& f);
    run_end run(sim::duration length);
    void stop_now(run_end why);

    host_options options;
    // Declared first: destroyed last, after every socket.
    boost::asio::io_context io;
    link_shaper shaper;
    std::vector<std::unique_ptr<node>> nodes;
    std::vector<std::unique_ptr<http_edge>> edges;
    std::vector<sim::node_id> boot_list;
    std::vector<std::pair<sim::time_point, std::function<void()>>> actions;
    std::function<void(const sim::trace_event&)> sink;
    sim::event_kind_mask extra_kinds = 0;  // log, state, rpc_attempt, rpc_serve: made only when asked for
    bool records(sim::event_kind kind) const { return sink && (extra_kinds & sim::mask_of(kind)) != 0; }
    boost::fibers::mutex mutex;  // one thread: only for the condition variables' API
    std::chrono::steady_clock::time_point epoch_{};
    bool running = false;
    bool shutting_down = false;
    bool stop_pending = false;
    std::uint64_t next_message_id = 1;
    std::uint64_t fiber_error_count = 0;
    std::atomic<bool> stop_requested{false};
    run_end end_reason = run_end::elapsed;
    sim::fiber_ref main_control{};

private:
    std::deque<fiber_slot> slots_;  // deque: growing keeps references stable
    std::vector<std::uint32_t> free_slots_;
    std::map<boost::fibers::fiber::id, std::uint32_t> slot_of_fiber_;
    std::size_t live_fibers_ = 0;
    std::uint64_t next_seq_ = 1;
};

}  // namespace meshsim::real
