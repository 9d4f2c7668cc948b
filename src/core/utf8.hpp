// UTF-8 text handling for messages that end up in JSON (FailureReason, status files).
#pragma once

#include <string>
#include <cstdint>
#include <string_view>

namespace sluice {

// The first `max_chars` characters of `text`, with every byte that is not part of a valid UTF-8
// sequence replaced by U+FFFD, so the result is always valid UTF-8.
std::string utf8_prefix(std::string_view text, size_t max_chars);

}  // namespace sluice
