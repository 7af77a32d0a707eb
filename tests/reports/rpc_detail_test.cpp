// The RPC events' detail text (sim/rpc_detail.hpp), which both runtimes write and
// reports/ decodes: pinned byte for byte for one attempt and one serve, and read back
// field for field for hostile names, ids and paths (spaces, '%', "%20" itself, empty
// fields, bytes that are not UTF-8) and times at the extremes.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "reports/events_jsonl.hpp"
#include "sim/rpc_detail.hpp"

using namespace meshsim;

namespace {

sim::time_point at_ns(std::int64_t ns) { return sim::time_point(sim::duration(ns)); }

// A token's field as it reads back: "-" when it was empty.
std::string read_back(const std::string& text) { return text.empty() ? "-" : text; }

const std::vector<std::string> hostile_tokens = {
    "",      "-",         " ",           "two  spaces",   "%",    "%20",
    "%25%2", "100% sure", "caf\xc3\xa9", "bad \xff utf8", "a\tb", "x-correlation",
};

}  // namespace

TEST_CASE("the attempt and serve details are written as docs/outputs.md gives them") {
    const sim::attempt_record attempt{.status = 503,
                                      .attempt = 2,
                                      .outcome = "http_error",
                                      .correlation_id = "c 1%",
                                      .method = "GET",
                                      .path = "/a path",
                                      .reason = "queue_full",
                                      .to = 3,
                                      .sent = at_ns(920154),
                                      .trace_id = "03d8d7c9fda2ae6ee38006ae371bf5ca",
                                      .span_id = "b3461d6cab2416bc",
                                      .parent_span_id = ""};
    std::string buffer;
    CHECK(sim::write_attempt_detail(buffer, attempt, "gate way", 920154) ==
          "http_error queue_full c%201%25 gate%20way 920154 03d8d7c9fda2ae6ee38006ae371bf5ca "
          "b3461d6cab2416bc - GET /a path");

    const sim::serve_record served{.status = 200,
                                   .reason = "ok",
                                   .correlation_id = "",
                                   .method = "POST",
                                   .path = "/p",
                                   .from = 1,
                                   .arrived = at_ns(5),
                                   .started = at_ns(7),
                                   .trace_id = "",
                                   .span_id = "s",
                                   .parent_span_id = "p"};
    // The same buffer again, holding the longer detail before: the view is the new one alone.
    CHECK(sim::write_serve_detail(buffer, served, "", 5, 7) == "ok - - 5 7 - s p POST /p");
}

TEST_CASE("the RPC details read back field for field, hostile tokens and extreme times included") {
    const std::vector<std::int64_t> times = {std::numeric_limits<std::int64_t>::min(), -1, 0, 1,
                                             std::numeric_limits<std::int64_t>::max()};
    for (const std::string& token : hostile_tokens) {
        for (const std::int64_t ns : times) {
            CAPTURE(token, ns);
            const std::string path = "/p " + token;
            const sim::attempt_record attempt{.status = 0,
                                              .attempt = 1,
                                              .outcome = "ok",
                                              .correlation_id = token,
                                              .method = token,
                                              .path = path,
                                              .reason = "",
                                              .to = 0,
                                              .sent = at_ns(ns),
                                              .trace_id = "t",
                                              .span_id = "s",
                                              .parent_span_id = "p"};
            std::string buffer;
            const auto a = report::decode_rpc_attempt(sim::write_attempt_detail(buffer, attempt, token, ns));
            REQUIRE(a);
            CHECK(a->outcome == "ok");
            CHECK(a->reason == "-");
            CHECK(a->correlation == read_back(token));
            CHECK(a->to == read_back(token));
            CHECK(a->sent_ns == std::max<std::int64_t>(0, ns));  // a time before the start is written 0
            CHECK(a->method == read_back(token));
            CHECK(a->path == "/p " + token);

            const sim::serve_record served{.status = 500,
                                           .reason = "handler",
                                           .correlation_id = token,
                                           .method = token,
                                           .path = token,
                                           .from = 0,
                                           .arrived = at_ns(ns),
                                           .started = at_ns(ns),
                                           .trace_id = "t",
                                           .span_id = "s",
                                           .parent_span_id = ""};
            const auto s = report::decode_rpc_serve(sim::write_serve_detail(buffer, served, token, ns, ns));
            REQUIRE(s);
            CHECK(s->reason == "handler");
            CHECK(s->correlation == read_back(token));
            CHECK(s->from == read_back(token));
            CHECK(s->arrived_ns == std::max<std::int64_t>(0, ns));
            CHECK(s->started_ns == std::max<std::int64_t>(0, ns));
            CHECK(s->parent == "-");
            CHECK(s->method == read_back(token));
            CHECK(s->path == token);
        }
    }
}

TEST_CASE("a detail whose every token character is escaped fits the buffer it is written into") {
    // The worst case for the buffer's size: three bytes for every token byte, empty
    // fields written as dashes, the longest times. (Under ASan a byte past it fails.)
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{100'000}}) {
        CAPTURE(n);
        const std::string percents(n, '%');
        const std::string spaces(n, ' ');
        const sim::serve_record served{.status = 0,
                                       .reason = "",
                                       .correlation_id = percents,
                                       .method = spaces,
                                       .path = "",
                                       .from = 0,
                                       .arrived = at_ns(0),
                                       .started = at_ns(0),
                                       .trace_id = "",
                                       .span_id = "",
                                       .parent_span_id = ""};
        std::string buffer;
        const std::int64_t max = std::numeric_limits<std::int64_t>::max();
        const std::string_view detail = sim::write_serve_detail(buffer, served, percents, max, max);
        // Three tokens of 3n bytes (or "-"), two 19-digit times, four dashes, nine spaces.
        CHECK(detail.size() == (n == 0 ? 3 : 9 * n) + 2 * 19 + 4 + 9);
        const auto s = report::decode_rpc_serve(detail);
        REQUIRE(s);
        CHECK(s->correlation == read_back(percents));
        CHECK(s->from == read_back(percents));
        CHECK(s->method == read_back(spaces));
        CHECK(s->arrived_ns == max);
        CHECK(s->path.empty());
        CHECK(detail.data() == buffer.data());
        CHECK(detail.size() <= buffer.size());
    }
}

TEST_CASE("any correlation id, node name, method and path read back from an attempt's detail") {
    rc::prop("decode(append(record)) gives the record's fields", [] {
        const auto correlation = *rc::gen::arbitrary<std::string>();
        const auto to = *rc::gen::arbitrary<std::string>();
        const auto method = *rc::gen::arbitrary<std::string>();
        const auto path = *rc::gen::arbitrary<std::string>();
        const auto sent = *rc::gen::arbitrary<std::int64_t>();
        const sim::attempt_record attempt{.status = 0,
                                          .attempt = 1,
                                          .outcome = "timeout",
                                          .correlation_id = correlation,
                                          .method = method,
                                          .path = path,
                                          .reason = "",
                                          .to = 0,
                                          .sent = at_ns(sent),
                                          .trace_id = "t",
                                          .span_id = "s",
                                          .parent_span_id = "p"};
        std::string buffer;
        const auto a = report::decode_rpc_attempt(sim::write_attempt_detail(buffer, attempt, to, sent));
        RC_ASSERT(a.has_value());
        RC_ASSERT(a->correlation == read_back(correlation));
        RC_ASSERT(a->to == read_back(to));
        RC_ASSERT(a->method == read_back(method));
        RC_ASSERT(a->path == path);
        RC_ASSERT(a->sent_ns == std::max<std::int64_t>(0, sent));
    });
}
