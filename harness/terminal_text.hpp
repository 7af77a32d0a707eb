// Text that came from input (names, file paths, messages), made safe to print: for
// a terminal, where a control character, an escape sequence or a newline could
// forge lines or drive the terminal, and for a POSIX shell, where a pasted word
// must stay one word and never run anything.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace meshsim::harness {

// Why code point C must not reach a terminal from input, or "" when it may:
// "control character" (C0, DEL, C1), "bidirectional control" (U+061C, U+200E/F,
// U+202A-E, U+2066-9) or "line separator" (U+2028/9). The one list both the
// escaping below and the scenario loader's refusal of such names use.
std::string_view unsafe_code_point_kind(std::uint32_t c);

// TEXT with every C0/C1 control character, DEL, Unicode line/paragraph separator
// and bidirectional control escaped (\n, \t, \r, \x1b, \u202e) and every byte that
// is not valid UTF-8 written as \xNN. Printable text (any script) is unchanged.
std::string printable(std::string_view text);

// printable() applied to each line of TEXT, keeping its line breaks: for text that
// is already several lines (diagnostics), where a line break is structure.
std::string printable_lines(std::string_view text);

// TEXT as one word for a POSIX shell: unchanged when it has only characters no
// shell treats specially, otherwise in single quotes ("" becomes ''). A word with
// control characters would still print on several lines: see needs_printf_word.
std::string shell_quote(std::string_view text);

// True when TEXT cannot be written on one printable line even quoted (it has a
// control character or is not printable UTF-8).
bool needs_printf_word(std::string_view text);

// A printf(1) format (without its quotes) that prints TEXT exactly: % doubled,
// backslash doubled, single quotes closed and reopened, every byte outside
// printable ASCII as an octal escape.
std::string printf_format(std::string_view text);

}  // namespace meshsim::harness
