// The positioned JSON parser: exact diagnostics for broken documents, positions of
// values and keys, limits against hostile input, and "never crashes" properties.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "harness/scenario/json_source.hpp"

using meshsim::harness::diagnostics;
using meshsim::harness::json_limits;
using meshsim::harness::json_source;
using meshsim::harness::parse_json;
using meshsim::harness::source_position;

namespace {

// "line:column: message" of the one diagnostic a broken text must produce.
std::string syntax_error(std::string_view text, const json_limits& limits = {}) {
    diagnostics out;
    const auto parsed = parse_json(text, "doc.json", out, limits);
    if (parsed) return "parsed";
    const auto all = out.sorted();
    if (all.size() != 1) return "expected one diagnostic, got " + std::to_string(all.size());
    return std::to_string(all[0].line) + ":" + std::to_string(all[0].column) + ": " + all[0].message;
}

nlohmann::json parse_ok(std::string_view text) {
    diagnostics out;
    auto parsed = parse_json(text, "doc.json", out);
    INFO(out.format());
    REQUIRE(parsed);
    return parsed->value();
}

std::string where(const std::optional<source_position>& at) {
    if (!at) return "nowhere";
    return std::to_string(at->line) + ":" + std::to_string(at->column) + "@" + std::to_string(at->offset);
}

}  // namespace

TEST_CASE("each broken JSON document gets exactly one diagnostic at the right place", "[scenario][json]") {
    struct broken {
        std::string text;
        std::string expected;
    };
    const std::vector<broken> table = {
        {"", "1:1: unexpected end of input; expected a value"},
        {"   \n  ", "2:3: unexpected end of input; expected a value"},
        {"{", "1:2: unexpected end of input; expected a string key in double quotes"},
        {"{\"a\": 1", "1:8: unexpected end of input; expected ',' or '}' after object member"},
        {"{\"a\": 1\n \"b\": 2}", "2:2: expected ',' or '}' after object member"},
        {"[1, 2", "1:6: unexpected end of input; expected ',' or ']' after array element"},
        {"[1 2]", "1:4: expected ',' or ']' after array element"},
        {"{\"a\" 1}", "1:6: expected ':' after object key"},
        {"{\"a\": 1,}", "1:9: trailing comma before '}'"},
        {"[1,\n 2,\n]", "3:1: trailing comma before ']'"},
        {"{\"a\": }", "1:7: expected a value, got '}'"},
        {"{a: 1}", "1:2: object keys must be strings in double quotes"},
        {"{'a': 1}", "1:2: object keys must be in double quotes, not single quotes"},
        {"{\"a\": 'x'}", "1:7: strings must be in double quotes, not single quotes"},
        {"{\"name\": \"x\",\n \"name\": \"y\"}", "2:2: duplicate key \"name\" (first defined at line 1, column 2)"},
        {"\"abc", "1:1: unterminated string"},
        {"{\"a\": \"abc\n\"}", "1:7: unterminated string (a string cannot span lines; write \\n for a line break)"},
        {"\"a\tb\"", "1:3: control character U+0009 must be escaped in a string"},
        {"\"\\x\"", "1:2: invalid escape sequence '\\x' in string"},
        {"\"\\u12G4\"", "1:2: \\u must be followed by four hexadecimal digits"},
        {"\"\\uD83D\"", "1:2: unpaired UTF-16 surrogate U+D83D in \\u escape"},
        {"\"\\uDE00\"", "1:2: unpaired UTF-16 surrogate U+DE00 in \\u escape"},
        {"\"\\uD83D\\u0041\"", "1:2: unpaired UTF-16 surrogate U+D83D in \\u escape"},
        {"\"ab\xff\"", "1:4: invalid UTF-8 in string"},
        {"\"\xc0\xaf\"", "1:2: invalid UTF-8 in string"},          // overlong '/'
        {"\"\xed\xa0\x80\"", "1:2: invalid UTF-8 in string"},      // encoded surrogate
        {"\"\xf4\x90\x80\x80\"", "1:2: invalid UTF-8 in string"},  // above U+10FFFF
        {"\"\xe2\x82\"", "1:2: invalid UTF-8 in string"},          // truncated
        {"[\"\xc3\xa9\xc3\xa9\", x]", "1:8: expected a value, got \"x\" (strings must be in double quotes)"},
        {"01", "1:1: leading zeros are not allowed in numbers"},
        {"-", "1:2: expected a digit after '-'"},
        {"1.", "1:3: expected a digit after the decimal point"},
        {"1.e5", "1:3: expected a digit after the decimal point"},
        {"1e", "1:3: expected a digit in the exponent"},
        {"1e+", "1:4: expected a digit in the exponent"},
        {"+1", "1:1: numbers must not start with '+'"},
        {".5", "1:1: numbers must start with a digit, e.g. 0.5"},
        {"0x1F", "1:2: unexpected 'x' in number"},
        {"1.5.3", "1:4: unexpected '.' in number"},
        {"1e400", "1:1: number is too large"},
        {"-1e400", "1:1: number is too large"},
        {"NaN", "1:1: NaN and Infinity are not allowed in JSON"},
        {"[Infinity]", "1:2: NaN and Infinity are not allowed in JSON"},
        {"-Infinity", "1:1: NaN and Infinity are not allowed in JSON"},
        {"True", "1:1: unknown literal \"True\" (did you mean true?)"},
        {"nul", "1:1: unknown literal \"nul\" (did you mean null?)"},
        {"undefined", "1:1: expected a value, got \"undefined\" (strings must be in double quotes)"},
        {"{\"a\": 1} x", "1:10: unexpected 'x' after the end of the JSON value"},
        {"{} {}", "1:4: unexpected '{' after the end of the JSON value"},
        {std::string("{} \0 x", 6), "1:4: unexpected character U+0000 after the end of the JSON value"},
        {std::string("12\0", 3), "1:3: unexpected character U+0000 after the end of the JSON value"},
        {std::string("[1, \0]", 6), "1:5: expected a value, got character U+0000"},
        {"// comment\n{}", "1:1: comments are not allowed in JSON"},
        {"{\"a\": 1, /* b */ \"c\": 2}", "1:10: comments are not allowed in JSON"},
        {"{\"a\": 1 // why\n}", "1:9: comments are not allowed in JSON"},
        {"{} // trailing", "1:4: comments are not allowed in JSON"},
        {"[1, \x01]", "1:5: expected a value, got character U+0001"},
        {"[\xe2\x80\x9cx\xe2\x80\x9d]", "1:2: expected a value, got character U+201C"},
        {"[\xff]", "1:2: expected a value, got byte 0xFF (not UTF-8)"},
        {"\xef\xbb\xbf[1,]", "1:4: trailing comma before ']'"},
        {"{\"\xc3\xa9t\xc3\xa9\": 1 2}", "1:11: expected ',' or '}' after object member"},
        {"\r\n\r\n  x", "3:3: expected a value, got \"x\" (strings must be in double quotes)"},
        {"\r\r  x", "3:3: expected a value, got \"x\" (strings must be in double quotes)"},
    };
    for (const broken& b : table) {
        INFO("document: " << b.text);
        CHECK(syntax_error(b.text) == b.expected);
    }
}

TEST_CASE("valid JSON parses to the same value nlohmann::json gives", "[scenario][json]") {
    const std::vector<std::string> documents = {"{}",
                                                "[]",
                                                "0",
                                                "-0",
                                                "1.5",
                                                "-2.5e-3",
                                                "1E+2",
                                                "true",
                                                "false",
                                                "null",
                                                "\"\"",
                                                "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
                                                "\"\\u00e9\\u20AC\\ud83d\\ude00\"",
                                                "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
                                                "[1, [2, [3, {\"a\": [true, null]}]]]",
                                                " \t\n\r{ \"a\" : 1 , \"b\" : [ ] } \n",
                                                "9223372036854775807",
                                                "-9223372036854775808",
                                                "18446744073709551615",
                                                "18446744073709551616",
                                                "1e-400",
                                                "\xef\xbb\xbf{\"bom\": true}"};
    for (const auto& text : documents) {
        INFO("document: " << text);
        const auto expected = nlohmann::json::parse(text);
        CHECK(parse_ok(text) == expected);
    }
}

TEST_CASE("integers become int64 or uint64 and everything else double", "[scenario][json]") {
    CHECK(parse_ok("42").is_number_integer());
    CHECK(parse_ok("-42").get<std::int64_t>() == -42);
    CHECK(parse_ok("9223372036854775807").get<std::int64_t>() == INT64_MAX);
    CHECK(parse_ok("9223372036854775808").is_number_unsigned());
    CHECK(parse_ok("9223372036854775808").get<std::uint64_t>() == 9223372036854775808ULL);
    CHECK(parse_ok("-9223372036854775809").is_number_float());
    CHECK(parse_ok("18446744073709551616").is_number_float());
    CHECK(parse_ok("1.0").is_number_float());
    CHECK(parse_ok("1e2").get<double>() == 100.0);
    CHECK(parse_ok("1e-400").get<double>() == 0.0);
    CHECK(std::signbit(parse_ok("-1e-400").get<double>()));
    CHECK(parse_ok("0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                   "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                   "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                   "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001")
              .get<double>() == 0.0);
}

TEST_CASE("positions of nested values and of keys are recorded by JSON pointer", "[scenario][json]") {
    const std::string text =
        "{\n"
        "  \"name\": \"shop\",\n"
        "  \"services\": [\n"
        "    {\"name\": \"api\", \"replicas\": 3},\n"
        "    {\"name\": \"caf\xc3\xa9\", \"tags\": [\"a\", \"b\"]}\n"
        "  ],\n"
        "  \"a/b\": {\"~x\": null}\n"
        "}\n";
    diagnostics out;
    const auto source = parse_json(text, "shop.json", out);
    REQUIRE(source);
    CHECK(where(source->value_position("")) == "1:1@0");
    CHECK(where(source->key_position("/name")) == "2:3@4");
    CHECK(where(source->value_position("/name")) == "2:11@12");
    CHECK(where(source->value_position("/services")) == "3:15@34");
    CHECK(where(source->value_position("/services/0")) == "4:5@40");
    CHECK(where(source->key_position("/services/0/replicas")) == "4:21@56");
    CHECK(where(source->value_position("/services/0/replicas")) == "4:33@68");
    // Columns count characters: the two-byte é moves offsets but not columns.
    CHECK(where(source->value_position("/services/1/tags")) == "5:30@102");
    CHECK(where(source->value_position("/services/1/tags/1")) == "5:36@108");
    CHECK(where(source->value_position("/a~1b/~0x")) == "7:17@135");
    CHECK(where(source->key_position("/a~1b/~0x")) == "7:11@129");
    CHECK_FALSE(source->key_position("/services/0"));
    CHECK_FALSE(source->key_position(""));
    CHECK_FALSE(source->value_position("/missing"));
}

TEST_CASE("positions are exact after escapes, numbers, literals and line breaks", "[scenario][json]") {
    // Escapes make the decoded key shorter than its text; a number ends only where the
    // next byte is seen; CRLF and a lone CR are one line break each.
    const std::string text =
        "{\"a\\\"b\\u00e9\": [1,2 ,-3.5e1],\r\n\"t\":true,\r\"n\" : null, \"s\":\"\\ud83d\\ude00\",\"z\":0}";
    diagnostics out;
    const auto source = parse_json(text, "e.json", out);
    REQUIRE(source);
    CHECK(where(source->key_position("/a\"b\u00e9")) == "1:2@1");
    CHECK(where(source->value_position("/a\"b\u00e9")) == "1:16@15");
    CHECK(where(source->value_position("/a\"b\u00e9/0")) == "1:17@16");
    CHECK(where(source->value_position("/a\"b\u00e9/1")) == "1:19@18");
    CHECK(where(source->value_position("/a\"b\u00e9/2")) == "1:22@21");
    CHECK(where(source->key_position("/t")) == "2:1@31");
    CHECK(where(source->value_position("/t")) == "2:5@35");
    CHECK(where(source->key_position("/n")) == "3:1@41");
    CHECK(where(source->value_position("/n")) == "3:7@47");
    CHECK(where(source->value_position("/s")) == "3:17@57");
    CHECK(where(source->value_position("/z")) == "3:36@76");
}

TEST_CASE("pointers that name no value have no position", "[scenario][json]") {
    diagnostics out;
    const auto source = parse_json(R"({"a": [10, 11], "b~c": {"d/e": 1}, "": 2})", "p.json", out);
    REQUIRE(source);
    CHECK(where(source->value_position("/a/1")) == "1:12@11");
    CHECK(where(source->value_position("/b~0c/d~1e")) == "1:32@31");
    CHECK(where(source->value_position("/")) == "1:40@39");  // the key ""
    CHECK_FALSE(source->value_position("/a/2"));
    CHECK_FALSE(source->value_position("/a/01"));
    CHECK_FALSE(source->value_position("/a/-1"));
    CHECK_FALSE(source->value_position("/a/x"));
    CHECK_FALSE(source->value_position("/b~c"));
    CHECK_FALSE(source->value_position("a"));
    CHECK_FALSE(source->value_position("/a/1/x"));
}

TEST_CASE("long keys at every level of deep nesting cost memory linear in the text", "[scenario][json]") {
    // 256 levels of 50 KB keys: 12.8 MB of text, but storing every value's pointer
    // string would take 1.6 GB.
    const std::string key(50'000, 'k');
    std::string text;
    for (int i = 0; i < 255; ++i) text += "{\"" + key + "\":";
    text += "[1]";
    text += std::string(255, '}');
    diagnostics out;
    const auto source = parse_json(text, "deep.json", out);
    REQUIRE(source);
    std::string pointer;
    for (int i = 0; i < 255; ++i) pointer += "/" + key;
    CHECK(source->value_position(pointer + "/0")->offset == text.size() - 255 - 2);
}

TEST_CASE("nesting deeper than the limit is one diagnostic, without deep recursion", "[scenario][json]") {
    CHECK(syntax_error(std::string(256, '[') + std::string(256, ']')) == "parsed");
    CHECK(syntax_error(std::string(257, '[') + std::string(257, ']')) ==
          "1:257: nesting is deeper than the limit of 256 levels");
    // Far deeper than any machine stack would survive with naive recursion.
    CHECK(syntax_error(std::string(1'000'000, '[')) == "1:257: nesting is deeper than the limit of 256 levels");
    CHECK(syntax_error("{\"a\":{\"a\":{\"a\":1}}}", json_limits{.max_depth = 2}) ==
          "1:11: nesting is deeper than the limit of 2 levels");
}

TEST_CASE("every syntax error names the JSON pointer of the value, or of its container between values",
          "[scenario][json]") {
    struct broken {
        std::string text;
        std::string expected;  // as meshsim validate prints it, without the file name
    };
    const std::vector<broken> table = {
        {"", "1:1: error: unexpected end of input; expected a value (at the root)"},
        {"{\"name\": \"x\",\n \"name\": \"y\"}",
         "2:2: error: duplicate key \"name\" (first defined at line 1, column 2) (at /name)"},
        {"{\"services\": [{\"name\": \"a\", \"name\": \"b\"}]}",
         "1:29: error: duplicate key \"name\" (first defined at line 1, column 16) (at /services/0/name)"},
        {"{\"a\": {\"b\": 1, // why\n}}", "1:16: error: comments are not allowed in JSON (at /a)"},
        {"{\"a\": [1, /* x */ 2]}", "1:11: error: comments are not allowed in JSON (at /a/1)"},
        {"// comment\n{}", "1:1: error: comments are not allowed in JSON (at the root)"},
        {"{\"services\": [{\"name\": \"a\",}]}", "1:28: error: trailing comma before '}' (at /services/0)"},
        {"{\"s\": [1, 2,]}", "1:13: error: trailing comma before ']' (at /s)"},
        {"{\"w\": [{\"name\": \"ab\xff\"}]}", "1:20: error: invalid UTF-8 in string (at /w/0/name)"},
        {"{\"k\xff\": 1}", "1:4: error: invalid UTF-8 in string (at the root)"},
        {"{\"a\": {\"b\": [[1]]}}", "1:14: error: nesting is deeper than the limit of 3 levels (at /a/b/0)"},
        {"{\"f\": [{\"factor\": NaN}]}", "1:19: error: NaN and Infinity are not allowed in JSON (at /f/0/factor)"},
        {"{\"x\": -Infinity}", "1:7: error: NaN and Infinity are not allowed in JSON (at /x)"},
        {"{\"a/b~c\": tru}", "1:11: error: unknown literal \"tru\" (did you mean true?) (at /a~1b~0c)"},
        {"{\"a\": 1} x", "1:10: error: unexpected 'x' after the end of the JSON value (at the root)"},
        {"{\"a\": [1 2]}", "1:10: error: expected ',' or ']' after array element (at /a)"},
        {"{\"a\": {\"b\" 1}}", "1:12: error: expected ':' after object key (at /a/b)"},
    };
    for (const broken& b : table) {
        INFO("document: " << b.text);
        diagnostics out;
        CHECK_FALSE(parse_json(b.text, "f.json", out, json_limits{.max_depth = 3}));
        CHECK(out.format() == "f.json:" + b.expected + "\n");
    }
}

TEST_CASE("a document with more values than the limit is refused where the limit is crossed", "[scenario][json]") {
    CHECK(syntax_error("[1, 2, 3]", json_limits{.max_values = 4}) == "parsed");  // the array and its three numbers
    CHECK(syntax_error("[1, 2, 3, 4]", json_limits{.max_values = 4}) ==
          "1:11: the document has more than 4 values (objects, arrays, strings, numbers, literals), the limit");
    CHECK(syntax_error("{\"a\": {\"b\": 1, \"c\": 2}}", json_limits{.max_values = 3}) ==
          "1:16: the document has more than 3 values (objects, arrays, strings, numbers, literals), the limit");
    // The default bounds memory (about 200 bytes per value): a million values, not 25 million.
    std::string many = "[";
    for (int i = 0; i < 1'000'001; ++i) many += i == 0 ? "1" : ",1";
    many += "]";
    CHECK(syntax_error(many) ==
          "1:2000000: the document has more than 1000000 values (objects, arrays, strings, numbers, literals), "
          "the limit");
}

TEST_CASE("a text larger than the size limit is refused before parsing", "[scenario][json]") {
    diagnostics out;
    CHECK_FALSE(parse_json("[1, 2, 3]", "big.json", out, json_limits{.max_size_bytes = 8}));
    CHECK(out.format() == "big.json: error: file is larger than the limit of 8 bytes\n");
}

TEST_CASE("a file that cannot be read is one diagnostic naming it", "[scenario][json]") {
    diagnostics out;
    CHECK_FALSE(meshsim::harness::load_json_file("/nonexistent/scenario.json", out));
    CHECK(out.format() == "/nonexistent/scenario.json: error: cannot read file: No such file or directory\n");
}

TEST_CASE("control characters from keys cannot break the one-line-per-diagnostic format", "[scenario][json]") {
    diagnostics out;
    CHECK_FALSE(parse_json("{\"a\\nb\": 1, \"a\\nb\": 2}", "f.json", out));
    CHECK(out.format() ==
          "f.json:1:13: error: duplicate key \"a\\nb\" (first defined at line 1, column 2) (at /a\\u000ab)\n");
}

// --- properties ---------------------------------------------------------------------

namespace {

// A parse either succeeds with no diagnostics or fails with exactly one, at a real place.
void check_parse_is_well_behaved(const std::string& text) {
    diagnostics out;
    const auto parsed = parse_json(text, "fuzz.json", out);
    RC_ASSERT(parsed.has_value() == out.empty());
    if (!parsed) {
        RC_ASSERT(out.count() == 1U);
        const auto d = out.sorted().front();
        RC_ASSERT(d.line >= 1);
        RC_ASSERT(d.column >= 1);
        RC_ASSERT(!d.message.empty());
    } else {
        // What we accept, nlohmann accepts too, with the same value.
        RC_ASSERT(nlohmann::json::parse(text, nullptr, false) == parsed->value());
    }
}

std::string encode_utf8(std::uint32_t cp) {
    std::string out;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
}

std::string arbitrary_utf8() {
    const auto code_points = *rc::gen::container<std::vector<std::uint32_t>>(
        rc::gen::oneOf(rc::gen::inRange<std::uint32_t>(0, 0x80), rc::gen::inRange<std::uint32_t>(0x80, 0xD800),
                       rc::gen::inRange<std::uint32_t>(0xE000, 0x110000)));
    std::string out;
    for (const auto cp : code_points) out += encode_utf8(cp);
    return out;
}

nlohmann::json arbitrary_json(int depth) {
    const int kind = *rc::gen::inRange(0, depth > 0 ? 9 : 7);
    switch (kind) {
        case 0: return nullptr;
        case 1: return *rc::gen::arbitrary<bool>();
        case 2: return *rc::gen::arbitrary<std::int64_t>();
        case 3: return *rc::gen::arbitrary<std::uint64_t>();
        case 4: {
            const auto finite = [](double d) { return std::isfinite(d); };
            return *rc::gen::suchThat(rc::gen::arbitrary<double>(), finite);
        }
        case 5:
        case 6: return arbitrary_utf8();
        case 7: {
            nlohmann::json array = nlohmann::json::array();
            const int size = *rc::gen::inRange(0, 5);
            for (int i = 0; i < size; ++i) array.push_back(arbitrary_json(depth - 1));
            return array;
        }
        default: {
            nlohmann::json object = nlohmann::json::object();
            const int size = *rc::gen::inRange(0, 5);
            for (int i = 0; i < size; ++i) object[arbitrary_utf8()] = arbitrary_json(depth - 1);
            return object;
        }
    }
}

const std::string valid_scenario = R"({
  "name": "checkout",
  "seed": 7,
  "services": [
    {"name": "api", "replicas": 2, "endpoints": [{"path": "/v1/cart", "latency": "2ms"}]},
    {"name": "payments", "replicas": 1, "error_rate": 0.01}
  ],
  "calls": [{"from": "api", "to": "payments", "timeout": "250ms", "retry": {"max_attempts": 3, "jitter": "full"}}],
  "faults": [{"kind": "partition", "at": "10s", "for": "5s", "groups": [["api"], ["payments"]]}],
  "expectations": {"availability_min": 0.99, "note": "caf\u00e9 \ud83d\ude00 \"quoted\""}
})";

}  // namespace

TEST_CASE("the parser never throws or crashes", "[scenario][json][property]") {
    rc::prop("on arbitrary bytes", [](const std::string& text) { check_parse_is_well_behaved(text); });

    rc::prop("on arbitrary strings of JSON punctuation", [] {
        const auto text = *rc::gen::container<std::string>(
            rc::gen::elementOf(std::string("{}[]\":,0123456789-+.eEtrufalsn \n\\u/*'\xc3\xa9\xff")));
        check_parse_is_well_behaved(text);
    });

    rc::prop("on mutations of a valid document", [] {
        std::string text = valid_scenario;
        const int mutations = *rc::gen::inRange(1, 6);
        for (int i = 0; i < mutations; ++i) {
            const auto at = *rc::gen::inRange<std::size_t>(0, text.size());
            const auto byte =
                *rc::gen::oneOf(rc::gen::elementOf(std::string("{}[]\",:\\ \n0-.e/x")), rc::gen::arbitrary<char>());
            switch (*rc::gen::inRange(0, 4)) {
                case 0: text.erase(at, 1); break;
                case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), byte); break;
                case 2: text[at] = byte; break;
                default: text.resize(at); break;  // truncation
            }
        }
        check_parse_is_well_behaved(text);
    });
}

TEST_CASE("any document nlohmann::json dumps parses back to an equal value", "[scenario][json][property]") {
    rc::prop("dump round trip", [] {
        const nlohmann::json value = arbitrary_json(3);
        const int indent = *rc::gen::element(-1, 0, 2);
        const bool ensure_ascii = *rc::gen::arbitrary<bool>();
        const std::string text = value.dump(indent, ' ', ensure_ascii);
        diagnostics out;
        const auto parsed = parse_json(text, "dump.json", out);
        RC_ASSERT(out.empty());
        RC_ASSERT(parsed.has_value());
        RC_ASSERT(parsed->value() == value);
    });
}

namespace {

// Checks that every value and key of value (at pointer) has a position at its first
// byte, with the line and column that counting the text up to it gives.
void check_positions(const json_source& source, const std::string& text, const nlohmann::json& value,
                     const std::string& pointer, bool is_member) {
    const auto at = source.value_position(pointer);
    RC_ASSERT(at.has_value());
    RC_ASSERT(at->offset < text.size());
    const char first = text[at->offset];
    if (value.is_object()) RC_ASSERT(first == '{');
    if (value.is_array()) RC_ASSERT(first == '[');
    if (value.is_string()) RC_ASSERT(first == '"');
    if (value.is_number()) RC_ASSERT(first == '-' || (first >= '0' && first <= '9'));
    if (value.is_boolean()) RC_ASSERT(first == (value.get<bool>() ? 't' : 'f'));
    if (value.is_null()) RC_ASSERT(first == 'n');
    int line = 1;
    int column = 1;
    for (std::size_t i = 0; i < at->offset; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++column;
        }
    }
    RC_ASSERT(at->line == line);
    RC_ASSERT(at->column == column);
    const auto key_at = source.key_position(pointer);
    RC_ASSERT(key_at.has_value() == is_member);
    if (key_at) RC_ASSERT(text[key_at->offset] == '"');
    if (value.is_object()) {
        for (const auto& [key, member] : value.items()) {
            check_positions(source, text, member, meshsim::harness::json_pointer_append(pointer, key), true);
        }
    } else if (value.is_array()) {
        for (std::size_t i = 0; i < value.size(); ++i) {
            check_positions(source, text, value[i], pointer + "/" + std::to_string(i), false);
        }
    }
}

}  // namespace

TEST_CASE("every value and key of any document has the position of its first byte", "[scenario][json][property]") {
    rc::prop("positions of dumped documents", [] {
        const nlohmann::json value = arbitrary_json(3);
        const int indent = *rc::gen::element(-1, 0, 2);
        const bool ensure_ascii = *rc::gen::arbitrary<bool>();
        const std::string text = value.dump(indent, ' ', ensure_ascii);
        diagnostics out;
        const auto parsed = parse_json(text, "dump.json", out);
        RC_ASSERT(parsed.has_value());
        check_positions(*parsed, text, parsed->value(), "", false);
    });
}
