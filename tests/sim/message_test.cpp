// sim::message's hand-written copy and move (its body lives in a union, so a null
// body is never destroyed): every field copies and moves, every combination of
// null and non-null bodies assigns, and a moved-from message is reusable. The
// ASan build checks that nothing leaks or is freed twice.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "sim/message.hpp"

using namespace meshsim::sim;

namespace {
message full(nlohmann::json body) {
    message m;
    m.from = {1, 2};
    m.to = {3, 4};
    m.head.set("k", "v");
    m.body = std::move(body);
    m.corrupted = true;
    m.id = 5;
    m.size_bytes = 6;
    m.status = 7;
    m.bounce_if_refused = true;
    return m;
}

bool same_envelope(const message& m, const message& want) {
    return m.from == want.from && m.to == want.to && m.head.get("k") == want.head.get("k") &&
           m.head.size() == want.head.size() && m.corrupted == want.corrupted && m.id == want.id &&
           m.size_bytes == want.size_bytes && m.status == want.status && m.bounce_if_refused == want.bounce_if_refused;
}

// Bodies that own memory (a long string, an object, an array) and ones that do not.
std::vector<nlohmann::json> bodies() {
    return {nullptr, 42, std::string(100, 'x'), {{"a", {1, 2, 3}}, {"b", "text"}}, nlohmann::json::array({"x", "y"})};
}
}  // namespace

TEST_CASE("a message copies and moves every field, whatever its body") {
    for (const nlohmann::json& body : bodies()) {
        CAPTURE(body.dump());
        const message original = full(body);
        message copy(original);
        CHECK(same_envelope(copy, original));
        CHECK(copy.body == body);
        CHECK(original.body == body);  // a copy leaves its source alone

        message moved(std::move(copy));
        CHECK(same_envelope(moved, original));
        CHECK(moved.body == body);
        CHECK(copy.body.is_null());  // moved from: the body is gone, the message usable
        copy = full("again");
        CHECK(copy.body.get<std::string>() == "again");
    }
}

TEST_CASE("a message assigns over any body, by copy and by move, and onto itself") {
    for (const nlohmann::json& from : bodies()) {
        for (const nlohmann::json& over : bodies()) {
            CAPTURE(from.dump(), over.dump());
            const message source = full(from);
            message target = full(over);
            target.id = 99;
            target = source;
            CHECK(same_envelope(target, source));
            CHECK(target.body == from);

            message moved_into = full(over);
            message moving = full(from);
            moved_into = std::move(moving);
            CHECK(same_envelope(moved_into, source));
            CHECK(moved_into.body == from);
            CHECK(moving.body.is_null());
        }
        message self = full(from);
        const message& alias = self;
        self = alias;
        CHECK(self.body == from);
        message& same = self;
        self = std::move(same);
        CHECK(self.body == from);
        CHECK(same_envelope(self, full(from)));
    }
}

TEST_CASE("a default message is empty, and a body set later is owned and freed") {
    message m;
    CHECK(m.body.is_null());
    CHECK(m.head.size() == 0);
    CHECK(m.id == 0);
    m.body = std::string(1000, 'y');  // freed by ~message (ASan reports a leak otherwise)
    m.body = nullptr;                 // and this one by the assignment
    m.body["key"] = std::vector<int>(100, 1);
    CHECK(m.body["key"].size() == 100);
}
