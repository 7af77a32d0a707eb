// Diagnostics: the one-line format, deterministic ordering, and "did you mean".
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "harness/scenario/diagnostics.hpp"

using meshsim::harness::diagnostic;
using meshsim::harness::diagnostics;
using meshsim::harness::did_you_mean;
using meshsim::harness::edit_distance;
using meshsim::harness::format_diagnostic;

TEST_CASE("a diagnostic prints as file:line:column: error: message (at pointer)", "[scenario][diagnostics]") {
    CHECK(format_diagnostic({"s.json", 3, 14, "/services/0/replicas", "replicas must be >= 1, got 0"}) ==
          "s.json:3:14: error: replicas must be >= 1, got 0 (at /services/0/replicas)");
    // The pointer "" is the document itself: printed, not left out (a syntax error too has a pointer).
    CHECK(format_diagnostic({"s.json", 1, 1, "", "unterminated string"}) ==
          "s.json:1:1: error: unterminated string (at the root)");
    CHECK(format_diagnostic({"s.json", 1, 2, "/a~1b", "duplicate key \"a/b\""}) ==
          "s.json:1:2: error: duplicate key \"a/b\" (at /a~1b)");
    CHECK(format_diagnostic({"s.json", 0, 0, "", "cannot read file"}) == "s.json: error: cannot read file");
}

TEST_CASE("diagnostics print sorted by position, equal positions in report order", "[scenario][diagnostics]") {
    diagnostics out;
    out.error("b.json", {1, 1, 0}, "/b", "in b");
    out.error("a.json", {10, 2, 0}, "/x", "second");
    out.error("a.json", {2, 7, 0}, "/y", "first");
    out.error("a.json", {10, 2, 0}, "/x", "third, same place as second");
    out.error("a.json", {10, 1, 0}, "/z", "before second");
    CHECK(out.count() == 5);
    CHECK(out.format() ==
          "a.json:2:7: error: first (at /y)\n"
          "a.json:10:1: error: before second (at /z)\n"
          "a.json:10:2: error: second (at /x)\n"
          "a.json:10:2: error: third, same place as second (at /x)\n"
          "b.json:1:1: error: in b (at /b)\n");
}

TEST_CASE("past the kept limit, diagnostics are counted and summarised", "[scenario][diagnostics]") {
    diagnostics out(2);
    for (int i = 0; i < 5; ++i) out.error("f.json", {i + 1, 1, 0}, "/p", "problem " + std::to_string(i));
    CHECK(out.count() == 5);
    CHECK(out.sorted().size() == 2);
    CHECK(out.format() ==
          "f.json:1:1: error: problem 0 (at /p)\n"
          "f.json:2:1: error: problem 1 (at /p)\n"
          "3 more error(s) not shown\n");
}

TEST_CASE("edit distance counts a swap of neighbours as one edit", "[scenario][diagnostics]") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("abc", "") == 3);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("retries", "retries") == 0);
    CHECK(edit_distance("retires", "retries") == 1);  // swap
    CHECK(edit_distance("retry", "retries") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("ca", "abc") == 3);  // optimal string alignment, not full Damerau
}

TEST_CASE("did you mean suggests the closest candidate within the threshold", "[scenario][diagnostics]") {
    const std::vector<std::string> keys = {"name", "replicas", "retries", "timeout", "endpoints"};
    CHECK(did_you_mean("retires", keys) == "retries");
    CHECK(did_you_mean("replica", keys) == "replicas");
    CHECK(did_you_mean("timout", keys) == "timeout");
    CHECK(did_you_mean("endpiont", keys) == "endpoints");  // distance 2
    CHECK(did_you_mean("Name", keys) == "name");
    CHECK_FALSE(did_you_mean("colour", keys));
    CHECK_FALSE(did_you_mean("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", keys));
    CHECK_FALSE(did_you_mean("x", {"y"}));  // one letter is no evidence of a typo
    CHECK_FALSE(did_you_mean("anything", std::vector<std::string>{}));
}

TEST_CASE("did you mean allows more edits for longer words", "[scenario][diagnostics]") {
    // 18 characters: up to 6 edits.
    CHECK(did_you_mean("max_attemptsxxxxx", {"max_attempts"}) == "max_attempts");
    CHECK_FALSE(did_you_mean("max_attemptsxxxxxxxx", {"max_attempts"}));
}

TEST_CASE("did you mean breaks ties alphabetically", "[scenario][diagnostics]") {
    CHECK(did_you_mean("cat", {"hat", "bat", "mat"}) == "bat");
    CHECK(did_you_mean("cat", {"mat", "hat"}) == "hat");
}

TEST_CASE("quote escapes and shortens text for messages", "[scenario][diagnostics]") {
    using meshsim::harness::quote;
    CHECK(quote("plain") == "\"plain\"");
    CHECK(quote("a\"b\\c\nd\x01") == "\"a\\\"b\\\\c\\nd\\u0001\"");
    CHECK(quote("abcdef", 3) == "\"abc...\"");
    CHECK(quote("\xc3\xa9\xc3\xa9\xc3\xa9", 2) == "\"\xc3\xa9\xc3\xa9...\"");  // never half a character
}
