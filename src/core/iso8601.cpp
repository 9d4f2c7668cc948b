#include "core/iso8601.hpp"

#include <ctime>
#include <string>

namespace sluice {
namespace {

// The decimal number in text[pos, pos + n), or -1 when a character is not a digit.
int digits(std::string_view text, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<int64_t> parse_iso8601_ns(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fff…](Z|+00:00)
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') || t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  const int year = digits(t, 0, 4), month = digits(t, 5, 2), day = digits(t, 8, 2);
  const int hour = digits(t, 11, 2), minute = digits(t, 14, 2), second = digits(t, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  size_t i = 19;
  int64_t frac_ns = 0;
  if (t[i] == '.') {
    int64_t scale = 100'000'000;
    size_t first = ++i;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) {
      frac_ns += (t[i] - '0') * scale;
      scale /= 10;
    }
    if (i == first) return std::nullopt;
  }
  const std::string_view zone = t.substr(i);
  if (zone != "Z" && zone != "z" && zone != "+00:00" && zone != "-00:00") return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const int64_t secs = static_cast<int64_t>(::timegm(&tm));
  // Years past 2262 (or before 1677) do not fit in int64 nanoseconds: not a time here rather than
  // an overflow.
  if (secs >= INT64_MAX / 1'000'000'000 - 1 || secs <= INT64_MIN / 1'000'000'000 + 1) return std::nullopt;
  return secs * 1'000'000'000 + frac_ns;
}

}  // namespace sluice
