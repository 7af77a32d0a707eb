// Message headers are packed into one buffer; they must behave exactly as the plain
// list of string pairs they replaced: the order pairs were first set in, a value
// replaced where it stands, erase, absent against empty, the wire-size estimate.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "sim/message.hpp"

using meshsim::sim::headers;

namespace {
using model = std::vector<std::pair<std::string, std::string>>;

void model_set(model& m, const std::string& key, const std::string& value) {
    for (auto& [k, v] : m) {
        if (k == key) {
            v = value;
            return;
        }
    }
    m.emplace_back(key, value);
}

bool model_erase(model& m, const std::string& key) {
    for (auto it = m.begin(); it != m.end(); ++it) {
        if (it->first == key) {
            m.erase(it);
            return true;
        }
    }
    return false;
}

model listed(const headers& h) {
    model out;
    for (const auto& [k, v] : h) out.emplace_back(std::string(k), std::string(v));
    return out;
}

std::size_t model_size_bytes(const model& m) {
    std::size_t n = 0;
    for (const auto& [k, v] : m) n += k.size() + v.size() + 4;
    return n;
}

// Keys that collide often, with the edge cases among them: empty, 16 characters (one
// past the short-string buffer), 300 characters, a NUL byte, a prefix of another key.
std::string key_of(std::uint8_t pick) {
    switch (pick % 8) {
        case 0: return "";
        case 1: return "x-correlation-id";
        case 2: return std::string(300, 'k');
        case 3: return std::string("nul\0key", 7);
        case 4: return "x";
        case 5: return "x-";
        case 6: return "traceparent";
        default: return ":path";
    }
}
}  // namespace

TEST_CASE("headers behave as an ordered list of string pairs under any mix of set, erase and copy") {
    rc::prop("every read equals the model's",
             [](const std::vector<std::tuple<std::uint8_t, std::uint8_t, std::string>>& steps) {
                 headers h;
                 model m;
                 for (const auto& [op, pick, value] : steps) {
                     const std::string key = key_of(pick);
                     switch (op % 4) {
                         case 0:
                         case 1:
                             h.set(key, value);
                             model_set(m, key, value);
                             break;
                         case 2: RC_ASSERT(h.erase(key) == model_erase(m, key)); break;
                         default: {
                             const headers copy = h;  // a copy reads the same and is independent
                             h = copy;
                             break;
                         }
                     }
                     RC_ASSERT(listed(h) == m);
                     RC_ASSERT(h.size() == m.size());
                     RC_ASSERT(h.empty() == m.empty());
                     RC_ASSERT(h.size_bytes() == model_size_bytes(m));
                     for (std::uint8_t k = 0; k < 8; ++k) {
                         const std::string probe = key_of(k);
                         std::optional<std::string> want;
                         for (const auto& [mk, mv] : m) {
                             if (mk == probe) want = mv;
                         }
                         const std::optional<std::string_view> got = h.find(probe);
                         RC_ASSERT(got.has_value() == want.has_value());
                         if (want) RC_ASSERT(std::string(*got) == *want);
                         RC_ASSERT(h.get(probe, "fallback") == want.value_or("fallback"));
                     }
                 }
             });
}

TEST_CASE("a header that is absent differs from one set to the empty string") {
    headers h;
    CHECK_FALSE(h.find("a").has_value());
    CHECK(h.get("a", "none") == "none");
    h.set("a", "");
    REQUIRE(h.find("a").has_value());
    CHECK(h.find("a")->empty());
    CHECK(h.get("a", "none").empty());
    CHECK(h.size_bytes() == 5);  // "a" + "" + four
    CHECK_FALSE(h.find(std::string_view()).has_value());
    h.set(std::string_view(), std::string_view());  // an empty key whose view is null
    CHECK(h.find(std::string_view()) == "");
    CHECK(h.erase(""));
    CHECK_FALSE(h.erase("b"));
    CHECK(h.erase("a"));
    CHECK(h.empty());
    CHECK(h.size_bytes() == 0);
}

TEST_CASE("a header can be set from a view of the same headers, even when the buffer grows") {
    headers h;
    h.set("a", std::string(200, 'v'));
    h.set("b", *h.find("a"));  // appending 200 bytes past the reserved 256 moves the buffer
    h.set("c", *h.find("b"));
    h.set("a", h.find("c")->substr(0, 3));  // a shorter value from itself, in place
    h.set("c", *h.find("c"));
    for (const auto& [k, v] : h) {
        if (k == "a")
            CHECK(v == "vvv");
        else
            CHECK(v == std::string(200, 'v'));
    }
    CHECK(h.size() == 3);
}

TEST_CASE("ten thousand headers keep their order and values") {
    headers h;
    for (int i = 0; i < 10000; ++i) h.set("k" + std::to_string(i), std::to_string(i * 7));
    for (int i = 0; i < 10000; i += 2) h.set("k" + std::to_string(i), "even");  // replaced where they stand
    int i = 0;
    for (const auto& [k, v] : h) {
        CHECK(k == "k" + std::to_string(i));
        CHECK(v == (i % 2 == 0 ? std::string("even") : std::to_string(i * 7)));
        ++i;
    }
    CHECK(i == 10000);
    CHECK(h.find("k9999") == "69993");
}
