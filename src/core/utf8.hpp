// UTF-8 text handling for messages that end up in JSON (FailureReason, status files).
#pragma once

#include <optional>
#include <string>
#include <vector>
#include <cstdint>
#include <string_view>

namespace sluice {

// The first `max_chars` characters of `text`, with every byte that is not part of a valid UTF-8
// sequence replaced by U+FFFD, so the result is always valid UTF-8.
std::string utf8_prefix(std::string_view text, size_t max_chars);

// Characters in `text` counted by their first bytes, any byte that is not a continuation byte
// (10xxxxxx) starting one: what a user sees as the length of valid text, and never a refusal.
size_t utf8_char_count(std::string_view text);

// The code points of `text`; nullopt when any byte is not part of a valid sequence (overlong
// forms, surrogates and values past U+10FFFF included).
std::optional<std::vector<uint32_t>> decode_utf8(std::string_view text);

// The code point of the valid sequence at text[i], advancing i past it; nullopt (i unchanged) when
// the bytes there are not one.
std::optional<uint32_t> decode_utf8_at(std::string_view text, size_t& i);

// Appends the UTF-8 encoding of code point `cp` (at most U+10FFFF).
void append_utf8(std::string& out, uint32_t cp);

}  // namespace sluice
