// One space-separated token of an RPC event's detail (rpc_attempt, rpc_serve), as
// both runtimes write it and reports/ read it back: "-" when empty; a space or '%'
// inside is written %20 or %25, so that only the last field may hold spaces.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace meshsim::sim {

// `text` itself when nothing needs escaping, else its escaped form built in `escaped`.
inline std::string_view detail_token(std::string_view text, std::string& escaped) {
    if (text.empty()) return "-";
    // A loop, not find_first_of(" %"): that is a memchr per character, twice per RPC.
    if (std::none_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '%'; })) return text;
    for (const char c : text) {
        if (c == ' ') {
            escaped += "%20";
        } else if (c == '%') {
            escaped += "%25";
        } else {
            escaped += c;
        }
    }
    return escaped;
}

}  // namespace meshsim::sim
