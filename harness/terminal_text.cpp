#include "harness/terminal_text.hpp"

#include <cstdint>
#include <cstdio>

namespace meshsim::harness {

namespace {

// Length of the valid UTF-8 sequence at the start of TEXT and its code point, or 0.
std::size_t decode_utf8(std::string_view text, std::uint32_t& code_point) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    std::uint32_t min = 0;
    if (lead < 0x80) {
        code_point = lead;
        return 1;
    } else if ((lead & 0xE0) == 0xC0) {
        length = 2, min = 0x80, code_point = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3, min = 0x800, code_point = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4, min = 0x10000, code_point = lead & 0x07;
    } else {
        return 0;
    }
    if (text.size() < length) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80) return 0;
        code_point = code_point << 6 | (byte(i) & 0x3F);
    }
    if (code_point < min || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) return 0;
    return length;
}

bool is_unsafe(std::uint32_t c) { return !unsafe_code_point_kind(c).empty(); }

bool is_shell_safe(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == '/' || c == ',' || c == ':' || c == '=' || c == '+' || c == '@' || c == '%';
}

}  // namespace

std::string_view unsafe_code_point_kind(std::uint32_t c) {
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return "control character";
    if (c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069)) {
        return "bidirectional control";
    }
    if (c == 0x2028 || c == 0x2029) return "line separator";
    return {};
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    char escape[16];
    while (!text.empty()) {
        std::uint32_t c = 0;
        const std::size_t n = decode_utf8(text, c);
        if (n == 0) {
            std::snprintf(escape, sizeof escape, "\\x%02x", static_cast<unsigned char>(text[0]));
            out += escape;
            text.remove_prefix(1);
            continue;
        }
        if (!is_unsafe(c)) {
            out.append(text.substr(0, n));
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x80) {
            std::snprintf(escape, sizeof escape, "\\x%02x", static_cast<unsigned>(c));
            out += escape;
        } else {
            std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
            out += escape;
        }
        text.remove_prefix(n);
    }
    return out;
}

std::string printable_lines(std::string_view text) {
    std::string out;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        out += printable(text.substr(0, end));
        if (end == std::string_view::npos) break;
        out += '\n';
        text.remove_prefix(end + 1);
    }
    return out;
}

std::string shell_quote(std::string_view text) {
    bool plain = !text.empty();
    for (const char c : text) plain = plain && is_shell_safe(c);
    if (plain) return std::string(text);
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

bool needs_printf_word(std::string_view text) { return printable(text) != text; }

std::string printf_format(std::string_view text) {
    std::string out;
    char escape[8];
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '%') {
            out += "%%";
        } else if (ch == '\\') {
            out += "\\\\";
        } else if (ch == '\'') {
            out += "'\\''";
        } else if (c < 0x20 || c >= 0x7F) {
            std::snprintf(escape, sizeof escape, "\\%03o", static_cast<unsigned>(c));
            out += escape;
        } else {
            out += ch;
        }
    }
    return out;
}

}  // namespace meshsim::harness
