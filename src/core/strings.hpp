// ASCII text helpers shared by the layers: case mapping, case-insensitive comparison, trimming,
// escaping for messages.
// ASCII only on purpose: header names, INI keys, policy keys and JSON field names are ASCII, and
// the C library's tolower depends on the locale.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

inline constexpr std::string_view kWhitespace = " \t\r\n\f\v";

bool ascii_isdigit(char c);
bool ascii_isalnum(char c);

char ascii_lower(char c);
std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);

// Equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);

// `s` without the leading and/or trailing characters in `chars`.
std::string_view trim(std::string_view s, std::string_view chars = kWhitespace);
std::string_view trim_left(std::string_view s, std::string_view chars = kWhitespace);
std::string_view trim_right(std::string_view s, std::string_view chars = kWhitespace);

// %XX escapes (either hex case) decoded once; a '%' not followed by two hex digits is kept as is.
// '+' becomes a space only when plus_is_space (form encoding, S3's encoding-type=url); SigV4
// query strings keep it literal.
std::string percent_decode(std::string_view s, bool plus_is_space);

// `s` as one word of a POSIX shell command, as Python's shlex.quote writes it: unchanged when it is
// made only of letters, digits and @%+=:,./-_, else single-quoted (a ' as '"'"').
std::string shell_quote(std::string_view s);

// `s` for a message: control bytes as \xHH, at most `max` bytes, "..." when cut.
std::string escaped(std::string_view s, size_t max = 200);

}  // namespace sluice
