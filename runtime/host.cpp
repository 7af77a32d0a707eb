// The real runtime's host, nodes and wire (see host.hpp). Real clocks and timed
// Boost.Fiber waits on purpose: outside the determinism lint.
#include "runtime/host.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>
#include <boost/fiber/fixedsize_stack.hpp>
#include <boost/fiber/operations.hpp>

#include "runtime/asio_scheduler.hpp"
#include "runtime/host_impl.hpp"
#include "runtime/http_edge.hpp"
#include "sim/rpc_detail.hpp"

namespace meshsim::real {

namespace {
const boost::asio::ip::address loopback = boost::asio::ip::address_v4::loopback();
}

// ---------------------------------------------------------------- the wire

std::string encode_frame(const sim::message& msg) {
    nlohmann::json head = nlohmann::json::array();
    for (const auto& [k, v] : msg.head) head.push_back({k, v});
    nlohmann::json j = {{"f", {msg.from.node, msg.from.port}},
                        {"t", {msg.to.node, msg.to.port}},
                        {"h", std::move(head)},
                        {"b", msg.body},
                        {"s", msg.status},
                        {"i", msg.id},
                        {"r", msg.bounce_if_refused}};
    if (msg.corrupted) j["c"] = true;  // a link fault's corruption
    const std::vector<std::uint8_t> cbor = nlohmann::json::to_cbor(j);
    std::string out(4 + cbor.size(), '\0');
    const auto n = static_cast<std::uint32_t>(cbor.size());
    out[0] = static_cast<char>(n >> 24);
    out[1] = static_cast<char>(n >> 16);
    out[2] = static_cast<char>(n >> 8);
    out[3] = static_cast<char>(n);
    std::copy(cbor.begin(), cbor.end(), out.begin() + 4);
    return out;
}

std::optional<sim::message> decode_frame(const std::vector<std::uint8_t>& payload) {
    const nlohmann::json j = nlohmann::json::from_cbor(payload, true, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    try {
        sim::message m;
        m.from = {j.at("f").at(0).get<sim::node_id>(), j.at("f").at(1).get<sim::port_id>()};
        m.to = {j.at("t").at(0).get<sim::node_id>(), j.at("t").at(1).get<sim::port_id>()};
        for (const auto& kv : j.at("h")) m.head.set(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
        m.body = j.at("b");
        m.status = j.at("s").get<std::uint16_t>();
        m.id = j.at("i").get<std::uint64_t>();
        m.bounce_if_refused = j.at("r").get<bool>();
        m.corrupted = j.value("c", false);
        return m;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;  // a frame this version cannot read: dropped, as garbage would be
    }
}

// One accepted connection: reads frames and hands them to its node.
class in_conn : public std::enable_shared_from_this<in_conn> {
public:
    in_conn(tcp::socket s, node& owner) : socket_(std::move(s)), owner_(owner) {}
    void start() { read_length(); }
    void close() {
        boost::system::error_code ignored;
        socket_.close(ignored);
        closed_ = true;
    }

private:
    void read_length() {
        boost::asio::async_read(socket_, boost::asio::buffer(length_),
                                [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                                    if (ec || self->closed_) return self->close();
                                    const std::uint32_t n = std::uint32_t{self->length_[0]} << 24 |
                                                            std::uint32_t{self->length_[1]} << 16 |
                                                            std::uint32_t{self->length_[2]} << 8 | self->length_[3];
                                    if (n > max_frame_bytes) return self->close();
                                    self->payload_.resize(n);
                                    self->read_payload();
                                });
    }
    void read_payload() {
        boost::asio::async_read(socket_, boost::asio::buffer(payload_),
                                [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                                    if (ec || self->closed_) return self->close();
                                    if (std::optional<sim::message> m = decode_frame(self->payload_))
                                        self->owner_.arrived(std::move(*m));
                                    self->read_length();
                                });
    }
    tcp::socket socket_;
    node& owner_;
    std::uint8_t length_[4]{};
    std::vector<std::uint8_t> payload_;
    bool closed_ = false;
};

// The connection from one node to another: frames queue while it connects and are
// written in order. A refusal or reset bounces what was not sent (when asked).
class out_link : public std::enable_shared_from_this<out_link> {
public:
    out_link(boost::asio::io_context& io, node& owner, sim::node_id to) : socket_(io), owner_(owner), to_(to) {}

    void connect(std::uint16_t port) {
        socket_.async_connect(tcp::endpoint(loopback, port), [self = shared_from_this()](boost::system::error_code ec) {
            if (self->dead_) return;
            if (ec) return self->fail();
            boost::system::error_code ignored;
            self->socket_.set_option(tcp::no_delay(true), ignored);
            self->open_ = true;
            self->watch();
            self->write_next();
        });
    }
    void push(std::string frame, sim::message stub) {
        queue_.push_back({std::move(frame), std::move(stub)});
        if (open_ && !writing_) write_next();
    }
    // The owner crashed: what was in flight is lost with it.
    void close() {
        dead_ = true;
        queue_.clear();
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

private:
    struct outgoing {
        std::string frame;
        sim::message stub;  // the message without its body: enough to bounce it
    };
    void write_next() {
        if (queue_.empty() || dead_) {
            writing_ = false;
            return;
        }
        writing_ = true;
        // Everything queued goes out in one write (frames stay whole and in order).
        batch_.clear();
        while (!queue_.empty() && batch_.size() < 256 * 1024) {
            batch_ += queue_.front().frame;
            queue_.pop_front();
        }
        boost::asio::async_write(socket_, boost::asio::buffer(batch_),
                                 [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                                     if (self->dead_) return;
                                     if (ec) return self->fail();
                                     self->write_next();
                                 });
    }
    // The peer never writes on this connection: any read completing means it closed.
    void watch() {
        socket_.async_read_some(boost::asio::buffer(probe_),
                                [self = shared_from_this()](boost::system::error_code, std::size_t) {
                                    if (!self->dead_) self->fail();
                                });
    }
    void fail() {
        dead_ = true;
        boost::system::error_code ignored;
        socket_.close(ignored);
        std::deque<outgoing> unsent = std::move(queue_);
        queue_.clear();
        owner_.link_failed(to_, this);  // may free the owner's reference: self keeps us alive
        for (const outgoing& o : unsent) {
            if (o.stub.bounce_if_refused) owner_.bounce_to_self(o.stub, "node_down");
        }
    }

    tcp::socket socket_;
    node& owner_;
    sim::node_id to_;
    std::deque<outgoing> queue_;
    std::string batch_;
    std::uint8_t probe_[1]{};
    bool open_ = false;
    bool writing_ = false;
    bool dead_ = false;
};

// ---------------------------------------------------------------- node

node::node(host_impl& h, sim::node_id id, std::string name, std::function<void(sim::runtime&)> boot, std::uint16_t port)
    : host_(h),
      id_(id),
      name_(std::move(name)),
      boot_(std::move(boot)),
      port_(port),
      acceptor_(h.io),
      fault_random_(h.options.seed, name_ + "/service-faults") {}

std::string_view node::name_of(sim::node_id id) const {
    return id < host_.nodes.size() ? std::string_view(host_.nodes[id]->node_name()) : std::string_view();
}

sim::time_point node::now() const { return host_.now(); }

void node::sleep_until(sim::time_point deadline) {
    while (now() < deadline) park(current_fiber(), deadline);
}

void node::compute(sim::duration work) { sleep_until(sim::saturating_add(now(), sim::scaled(work, slowness))); }

sim::random_stream& node::random(std::string_view name) {
    auto it = streams_.find(name);
    if (it == streams_.end()) {
        const std::string full = name_ + "#" + std::to_string(incarnation_) + "/" + std::string(name);
        it = streams_.emplace(std::string(name), sim::random_stream(host_.options.seed, full)).first;
    }
    return it->second;
}

void node::spawn(std::string_view, std::function<void()> body) {
    if (!up_) return;  // a process that is gone starts nothing
    host_.spawn(id_, std::move(body));
}

sim::fiber_ref node::current_fiber() { return host_.current_fiber(); }
sim::wake_reason node::park(sim::fiber_ref self, sim::time_point deadline) { return host_.park(self, deadline); }
void node::unpark(sim::fiber_ref ref) { host_.unpark(ref); }

void node::bind(sim::port_id port) {
    std::unique_ptr<mailbox>& box = boxes_[port];
    if (!box) box = std::make_unique<mailbox>();
    box->bound = true;
}

void node::unbind(sim::port_id port) {
    const auto it = boxes_.find(port);
    if (it == boxes_.end() || !it->second->bound) return;
    it->second->bound = false;
    it->second->queue.clear();
    it->second->receivers.wake_all(*this);
}

void node::send(sim::message&& msg) {
    if (!up_) return;
    msg.from.node = id_;
    host_.send(*this, std::move(msg));
}

std::optional<sim::message> node::receive(sim::port_id port, sim::time_point deadline) {
    while (true) {
        const auto it = boxes_.find(port);
        if (it == boxes_.end() || !it->second->bound) return std::nullopt;
        mailbox& box = *it->second;
        if (!box.queue.empty()) {
            sim::message msg = std::move(box.queue.front());
            box.queue.pop_front();
            return msg;
        }
        if (sim::wait_on(*this, box.receivers, deadline) == sim::wake_reason::timed_out) {
            if (!box.bound || box.queue.empty()) return std::nullopt;
        }
    }
}

sim::request_fault node::fault_for_request(sim::port_id port, std::string_view path) {
    if (service_faults_.empty()) return {};
    return service_faults_.evaluate(port, path, fault_random_);
}

// Real mode keeps no trace (no hash to fold). Logs, state changes and RPC records
// become events in the simulation's detail formats (the RPC events' in
// sim/rpc_detail.hpp) only when the host's sink asked for their kind (meshsim serve
// --events).
void node::log(std::string_view event, const nlohmann::json& fields) {
    if (!host_.records(sim::event_kind::log)) return;
    std::string detail(event);
    if (!fields.is_null()) detail += ' ' + fields.dump();
    host_.emit(sim::event_kind::log, id_, 0, 0, std::move(detail));
}

void node::record_state(std::string_view component, std::string_view state, std::string_view fields) {
    if (!host_.records(sim::event_kind::state)) return;
    host_.emit(sim::event_kind::state, id_, 0, 0,
               std::string(component) + "=" + std::string(state) + std::string(fields));
}

// The RPC events' detail as the kernel writes it (sim/rpc_detail.hpp).
void node::record_attempt(const sim::attempt_record& a) {
    if (!host_.records(sim::event_kind::rpc_attempt)) return;
    std::string buffer;
    const std::string_view detail =
        sim::write_attempt_detail(buffer, a, name_of(a.to), a.sent.time_since_epoch().count());
    host_.emit(sim::event_kind::rpc_attempt, id_, a.status, a.attempt, std::string(detail));
}

void node::record_serve(const sim::serve_record& s) {
    if (!host_.records(sim::event_kind::rpc_serve)) return;
    std::string buffer;
    const std::string_view detail = sim::write_serve_detail(
        buffer, s, name_of(s.from), s.arrived.time_since_epoch().count(), s.started.time_since_epoch().count());
    host_.emit(sim::event_kind::rpc_serve, id_, s.status, s.from, std::string(detail));
}

void node::open_socket() {
    boost::system::error_code ec;
    acceptor_.open(tcp::v4(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(tcp::endpoint(loopback, port_), ec);
    if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        throw host_error("127.0.0.1:" + std::to_string(port_) + " (" + name_ + "): " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
}

void node::open_store(const std::string& dir) { store_.open(dir + "/" + name_ + ".store"); }

void node::accept_next() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
        if (ec) return;  // closed (a crash or the end of the run)
        if (!up_) return;
        boost::system::error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
        auto conn = std::make_shared<in_conn>(std::move(s), *this);
        std::erase_if(incoming_, [](const std::weak_ptr<in_conn>& w) { return w.expired(); });
        incoming_.push_back(conn);
        conn->start();
        accept_next();
    });
}

void node::start() {
    if (up_) return;
    if (!acceptor_.is_open()) open_socket();  // a restart binds its port again
    streams_.clear();
    ++incarnation_;  // as the simulation counts: the first process is incarnation 1
    up_ = true;
    paused_ = false;
    accept_next();
    host_.spawn(id_, [this] { boot_(*this); });
}

void node::close_sockets() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& w : incoming_) {
        if (auto c = w.lock()) c->close();
    }
    incoming_.clear();
    for (auto& [to, link] : links_) link->close();
    links_.clear();
}

void node::crash() {
    if (!up_) return;
    up_ = false;
    paused_ = false;
    close_sockets();
    // The old process unwinds before anything else runs (a restart must not find its
    // fibers unbinding the new process's ports), as the simulation's crash does.
    resumed_.notify_all();
    host_.kill_fibers(id_);
    for (auto& [port, box] : boxes_) {
        box->bound = false;
        box->queue.clear();
    }
    store_.lose_unsynced();
    resumed_.notify_all();
}

void node::close_all() {
    close_sockets();
    store_.close();
}

void node::set_paused(bool p) {
    paused_ = p;
    if (!p) resumed_.notify_all();
}

void node::wait_while_paused(std::unique_lock<boost::fibers::mutex>& lock) {
    while (paused_ && up_) resumed_.wait(lock);
}

void node::arrived(sim::message&& msg) {
    if (!up_) return;
    const auto it = boxes_.find(msg.to.port);
    if (it != boxes_.end() && it->second->bound) {
        it->second->queue.push_back(std::move(msg));
        it->second->receivers.wake_one(*this);
        return;
    }
    if (!msg.bounce_if_refused) return;
    sim::message b;
    b.from = msg.to;
    b.to = msg.from;
    b.head = std::move(msg.head);
    b.head.set(std::string(sim::bounce_header), "port_unbound");
    b.body = msg.id;
    host_.send(*this, std::move(b));
}

void node::link_failed(sim::node_id to, const out_link* link) {
    const auto it = links_.find(to);
    if (it != links_.end() && it->second.get() == link) links_.erase(it);
}

void node::bounce_to_self(const sim::message& stub, std::string_view why) {
    sim::message b;
    b.from = stub.to;
    b.to = stub.from;
    b.head = stub.head;
    b.head.set(std::string(sim::bounce_header), std::string(why));
    b.body = stub.id;
    b.id = host_.next_message_id++;
    arrived(std::move(b));
}

// ---------------------------------------------------------------- host_impl

host_impl::host_impl(host_options o)
    : options(std::move(o)),
      shaper(io, options.seed, options.base_latency, [this](link_shaper::frame&& f) { transmit(std::move(f)); }) {}

host_impl::~host_impl() {
    edges.clear();
    nodes.clear();
}

sim::time_point host_impl::now() const {
    if (!running && epoch_ == std::chrono::steady_clock::time_point{}) return sim::time_zero;
    return sim::time_zero + std::chrono::duration_cast<sim::duration>(std::chrono::steady_clock::now() -
                                                                      epoch_);  // determinism: allowed (real runtime)
}

void host_impl::emit(sim::event_kind kind, sim::node_id node_id, std::uint64_t a, std::uint64_t b, std::string detail) {
    if (sink) sink(sim::trace_event{now(), kind, node_id, a, b, std::move(detail)});
}

void host_impl::send(node& from, sim::message msg) {
    msg.id = next_message_id++;
    const sim::node_id to = msg.to.node;
    if (to >= nodes.size()) return;  // no such node: nobody will ever answer
    link_shaper::plan plan;
    if (!shaper.idle()) {
        plan = shaper.shape(from.self(), to);
        if (plan.what == link_shaper::plan::fate::lost || plan.what == link_shaper::plan::fate::cut_dropped) return;
        if (plan.corrupt) {
            // Cannot be decoded: the receiver learns that much and nothing else.
            msg.corrupted = true;
            msg.body = nullptr;
        }
    }
    link_shaper::frame f;
    f.from = from.self();
    f.to = to;
    f.incarnation = from.incarnation();
    f.stub.from = msg.from;
    f.stub.to = msg.to;
    f.stub.id = msg.id;
    f.stub.bounce_if_refused = msg.bounce_if_refused;
    if (msg.bounce_if_refused) f.stub.head = msg.head;
    f.bytes = encode_frame(msg);
    if (plan.what == link_shaper::plan::fate::held) return shaper.hold(std::move(f));
    if (plan.delays.empty()) return transmit(std::move(f));  // no fault anywhere: the common case
    // Each copy keeps its own delay (a duplicate is a second copy); copies without one go now.
    for (std::size_t i = 0; i < plan.delays.size(); ++i) {
        link_shaper::frame copy;
        if (i + 1 < plan.delays.size()) {
            copy = f;
        } else {
            copy = std::move(f);
        }
        if (plan.delays[i].count() > 0) {
            shaper.later(plan.delays[i], std::move(copy));
        } else {
            transmit(std::move(copy));
        }
    }
}

void host_impl::transmit(link_shaper::frame&& f) {
    if (f.from >= nodes.size() || f.to >= nodes.size()) return;
    node& from = *nodes[f.from];
    if (!from.up() || from.incarnation() != f.incarnation) return;  // its process is gone, and its bytes with it
    // Every message crosses a real socket, even to the sender's own node.
    std::shared_ptr<out_link>& link = from.links_for_send()[f.to];
    if (!link) {
        link = std::make_shared<out_link>(io, from, f.to);
        link->connect(nodes[f.to]->port());
    }
    link->push(std::move(f.bytes), std::move(f.stub));
}

void host_impl::spawn(sim::node_id owner, std::function<void()> body) {
    std::uint32_t index = 0;
    if (free_slots_.empty()) {
        index = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    } else {
        index = free_slots_.back();
        free_slots_.pop_back();
    }
    fiber_slot& s = slots_[index];
    s.in_use = true;
    s.owner = owner;
    s.killed = false;
    s.may_unwind = false;
    s.parked = false;
    s.woken = false;
    s.seq = next_seq_++;
    ++live_fibers_;
    boost::fibers::fiber(
        std::allocator_arg, boost::fibers::fixedsize_stack(options.fiber_stack_bytes),
        [this, index, body = std::move(body)]() mutable {
            slot_of_fiber_[boost::this_fiber::get_id()] = index;
            try {
                if (!slots_[index].killed) body();
            } catch (const sim::fiber_killed&) {
                // the node crashed: its code runs no further
            } catch (const std::exception& e) {
                ++fiber_error_count;
                const sim::node_id owner_id = slots_[index].owner;
                std::fprintf(stderr, "meshsim serve: a fiber of %s ended with: %s\n",
                             owner_id < nodes.size() ? nodes[owner_id]->node_name().c_str() : "the host", e.what());
            }
            body = nullptr;  // its captures go while the node still exists
            slot_of_fiber_.erase(boost::this_fiber::get_id());
            fiber_slot& done = slots_[index];
            done.in_use = false;
            ++done.token;
            free_slots_.push_back(index);
            --live_fibers_;
        })
        .detach();
}

sim::fiber_ref host_impl::current_fiber() {
    const auto it = slot_of_fiber_.find(boost::this_fiber::get_id());
    if (it == slot_of_fiber_.end()) throw std::logic_error("meshsim real runtime: waiting outside a runtime fiber");
    return {it->second, slots_[it->second].token};
}

sim::wake_reason host_impl::park(sim::fiber_ref self, sim::time_point deadline) {
    fiber_slot& s = slots_[self.slot];
    std::unique_lock<boost::fibers::mutex> lock(mutex);
    const auto unwind = [&] {
        while (!s.may_unwind) s.cv->wait(lock);
        throw sim::fiber_killed{};
    };
    if (s.killed) unwind();
    if (s.token != self.token) return sim::wake_reason::woken;  // a stale ref: nothing to wait for
    s.parked = true;
    s.woken = false;
    const auto ready = [&s] { return s.woken || s.killed; };
    if (deadline == sim::time_never) {
        s.cv->wait(lock, ready);
    } else {
        s.cv->wait_until(lock, steady_of(deadline), ready);
    }
    s.parked = false;
    ++s.token;
    const bool woken = s.woken;
    if (!s.killed && s.owner < nodes.size()) nodes[s.owner]->wait_while_paused(lock);
    if (s.killed) unwind();
    return woken ? sim::wake_reason::woken : sim::wake_reason::timed_out;
}

void host_impl::unpark(sim::fiber_ref ref) {
    if (ref.slot >= slots_.size()) return;
    fiber_slot& s = slots_[ref.slot];
    if (!s.in_use || s.token != ref.token || !s.parked || s.woken) return;
    s.woken = true;
    s.cv->notify_one();
}

std::size_t host_impl::live_fibers_of(sim::node_id owner) const {
    std::size_t n = 0;
    for (const fiber_slot& s : slots_) n += s.in_use && s.owner == owner ? 1 : 0;
    return n;
}

void host_impl::kill_fibers(sim::node_id owner) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> victims;  // (seq, slot), newest first
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
        fiber_slot& s = slots_[i];
        if (!s.in_use || s.owner != owner || s.killed) continue;
        s.killed = true;
        s.may_unwind = false;
        victims.emplace_back(s.seq, i);
    }
    std::sort(victims.rbegin(), victims.rend());
    for (const auto& [seq, index] : victims) {
        fiber_slot& s = slots_[index];
        if (!s.in_use || s.seq != seq) continue;
        s.may_unwind = true;
        s.cv->notify_all();
        // The caller is the one running: wait here until that fiber has unwound.
        if (current_is(index)) continue;
        // Yielding alone would starve the io_context (Asio handlers run only once no
        // fiber is ready): a victim waiting for I/O (an HTTP edge's read) would never
        // wake. After a few yields, sleep so the handlers run.
        for (int turns = 0; s.in_use && s.seq == seq; ++turns) {
            if (turns < 8) {
                boost::this_fiber::yield();
            } else {
                boost::this_fiber::sleep_for(std::chrono::microseconds(100));
            }
        }
    }
}

bool host_impl::current_is(std::uint32_t index) const {
    const auto it = slot_of_fiber_.find(boost::this_fiber::get_id());
    return it != slot_of_fiber_.end() && it->second == index;
}

void host_impl::stop_now(run_end why) {
    if (!running || shutting_down || stop_pending) return;
    stop_pending = true;
    end_reason = why;
    unpark(main_control);
}

run_end host_impl::run(sim::duration length) {
    boost::fibers::use_scheduling_algorithm<asio_round_robin>(io);
    epoch_ = std::chrono::steady_clock::now();  // determinism: allowed (real runtime)
    running = true;
    boost::asio::signal_set signals(io);
    if (options.handle_signals) {
        signals.add(SIGINT);
        signals.add(SIGTERM);
        signals.async_wait([this](boost::system::error_code ec, int) {
            if (!ec) stop_now(run_end::signalled);
        });
    }
    // A stop() from another thread lands here through the io_context.
    boost::asio::steady_timer poll_stop(io);
    std::function<void()> poll = [&] {
        poll_stop.expires_after(std::chrono::milliseconds(20));
        poll_stop.async_wait([&](boost::system::error_code ec) {
            if (ec) return;
            if (stop_requested.load()) stop_now(run_end::stopped);
            poll();
        });
    };
    poll();
    for (auto& e : edges) e->start();
    for (const sim::node_id id : boot_list) {
        nodes[id]->start();
        emit(sim::event_kind::node_start, id, nodes[id]->incarnation());
    }
    for (auto& [when, action] : actions) {
        spawn(sim::no_node, [this, when = when, &action = action] {
            while (now() < when) park(current_fiber(), when);
            action();
        });
    }
    spawn(sim::no_node, [this, length, &signals, &poll_stop] {
        const sim::time_point end = sim::saturating_add(sim::time_zero, length);
        while (!stop_pending && now() < end) {
            main_control = current_fiber();
            park(main_control, end);
        }
        // The end: every node goes down quietly (no events: the run is over, not a
        // crash), control code stops, and the loop ends once every fiber unwound.
        shutting_down = true;
        boost::system::error_code ignored;
        signals.cancel(ignored);
        poll_stop.cancel(ignored);
        shaper.clear();
        for (auto& e : edges) e->close();
        for (auto& n : nodes) n->crash();
        kill_fibers(sim::no_node);
        // This fiber too is in the no_node list: it is not parked, so it carries on.
        while (live_fibers() > 1) boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
        io.stop();
    });
    io.run();
    running = false;
    return end_reason;
}

// ---------------------------------------------------------------- host

host::host(host_options options) : impl_(std::make_unique<host_impl>(std::move(options))) {}
host::~host() = default;

sim::node_id host::add_node(std::string name, std::function<void(sim::runtime&)> boot, std::uint16_t port) {
    const auto id = static_cast<sim::node_id>(impl_->nodes.size());
    impl_->nodes.push_back(std::make_unique<node>(*impl_, id, std::move(name), std::move(boot), port));
    return id;
}

void host::add_http_edge(sim::node_id target, sim::port_id service_port, std::uint16_t port) {
    impl_->edges.push_back(std::make_unique<http_edge>(*impl_, target, service_port, port));
}

void host::open() {
    try {
        for (auto& n : impl_->nodes) n->open_socket();
        for (auto& e : impl_->edges) e->open();
        for (auto& n : impl_->nodes) n->open_store(impl_->options.data_dir);
    } catch (...) {
        // Nothing stays listening after an error.
        for (auto& n : impl_->nodes) n->close_all();
        for (auto& e : impl_->edges) e->close();
        throw;
    }
}

std::uint16_t host::port_of(sim::node_id id) const { return impl_->nodes.at(id)->port(); }
std::uint16_t host::http_port_of(sim::node_id id) const {
    for (const auto& e : impl_->edges) {
        if (e->target() == id) return e->port();
    }
    return 0;
}
std::size_t host::node_count() const { return impl_->nodes.size(); }
const std::string& host::name_of(sim::node_id id) const { return impl_->nodes.at(id)->node_name(); }
void host::start_at_begin(sim::node_id id) { impl_->boot_list.push_back(id); }
void host::at(sim::time_point when, std::function<void()> action) {
    impl_->actions.emplace_back(when, std::move(action));
}

void host::start(sim::node_id id) {
    node& n = *impl_->nodes.at(id);
    if (n.up() || impl_->shutting_down) return;
    n.start();
    impl_->emit(sim::event_kind::node_start, id, n.incarnation());
}
void host::crash(sim::node_id id) {
    node& n = *impl_->nodes.at(id);
    if (!n.up() || impl_->shutting_down) return;
    n.crash();
    impl_->emit(sim::event_kind::node_crash, id, n.incarnation());
}
void host::restart(sim::node_id id) {
    if (impl_->shutting_down) return;
    node& n = *impl_->nodes.at(id);
    if (n.up()) {
        n.crash();
        impl_->emit(sim::event_kind::node_crash, id, n.incarnation());
    }
    n.start();
    impl_->emit(sim::event_kind::node_restart, id, n.incarnation());
}
void host::pause(sim::node_id id) {
    node& n = *impl_->nodes.at(id);
    if (!n.up() || n.paused() || impl_->shutting_down) return;
    n.set_paused(true);
    impl_->emit(sim::event_kind::node_pause, id);
}
void host::resume(sim::node_id id) {
    node& n = *impl_->nodes.at(id);
    if (!n.paused()) return;
    n.set_paused(false);
    impl_->emit(sim::event_kind::node_resume, id);
}
void host::set_slowness(sim::node_id id, double factor) { impl_->nodes.at(id)->slowness = factor; }
sim::kernel::service_fault_table& host::service_faults(sim::node_id id) {
    return impl_->nodes.at(id)->service_faults();
}
bool host::is_up(sim::node_id id) const { return impl_->nodes.at(id)->up(); }

std::uint64_t host::add_link_fault(std::vector<sim::node_id> from, std::vector<sim::node_id> to,
                                   sim::kernel::link_config config) {
    return impl_->shaper.add_overlay(std::move(from), std::move(to), std::move(config));
}
void host::remove_link_fault(std::uint64_t id) { impl_->shaper.remove_overlay(id); }
std::uint64_t host::add_cut(sim::kernel::cut_matrix cut, sim::kernel::cut_mode mode) {
    return impl_->shaper.add_cut(std::move(cut), mode);
}
void host::heal(std::uint64_t id) { impl_->shaper.heal(id); }
network_counts host::network() const { return impl_->shaper.counts(); }

void host::set_event_sink(std::function<void(const sim::trace_event&)> sink, sim::event_kind_mask also) {
    impl_->sink = std::move(sink);
    impl_->extra_kinds = also;
}
void host::record(sim::event_kind kind, sim::node_id node_id, std::uint64_t a, std::uint64_t b, std::string detail) {
    impl_->emit(kind, node_id, a, b, std::move(detail));
}

run_end host::run(sim::duration length) { return impl_->run(length); }
void host::stop() { impl_->stop_requested.store(true); }
sim::time_point host::now() const { return impl_->now(); }
const sim::store& host::store_of(sim::node_id id) const { return impl_->nodes.at(id)->disk(); }
std::uint64_t host::messages_sent() const { return impl_->next_message_id - 1; }
std::uint64_t host::fiber_errors() const { return impl_->fiber_error_count; }

void run_on_own_thread(const std::function<void()>& f) {
    std::exception_ptr error;
    std::thread t([&] {
        try {
            f();
        } catch (...) {
            error = std::current_exception();
        }
    });
    t.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace meshsim::real
