// ISO 8601 UTC times as AWS and Sluice write them: "2026-11-25T22:35:01Z", with optional
// fractional seconds ("…:01.123456Z") and "+00:00" (or "-00:00", "z") for the zone.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice {

// Nanoseconds since the epoch, or nullopt when `text` is not such a time (another zone, a field out
// of range, a year whose nanoseconds do not fit in 64 bits). Digits past nanoseconds are ignored.
std::optional<int64_t> parse_iso8601_ns(std::string_view text);

}  // namespace sluice
