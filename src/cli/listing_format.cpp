#include "cli/listing_format.hpp"

#include <fmt/core.h>

#include <cmath>
#include <ctime>

namespace sluice::cli {

std::string listing_date(int64_t ns) {
  std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// awscli/customizations/s3/utils.py human_readable_size.
std::string human_readable_size(uint64_t bytes) {
  if (bytes == 1) return "1 Byte";
  if (bytes < 1024) return fmt::format("{} Bytes", bytes);
  static constexpr const char* kSuffixes[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  const double b = static_cast<double>(bytes);
  for (int i = 0; i < 6; ++i) {
    const double unit = std::pow(1024.0, i + 2);
    if (std::round(b / unit * 1024.0) < 1024.0 || i == 5) return fmt::format("{:.1f} {}", 1024.0 * b / unit, kSuffixes[i]);
  }
  return {};  // not reached
}

std::string listing_summary(uint64_t objects, uint64_t bytes, bool human_readable) {
  return fmt::format("\nTotal Objects: {}\n   Total Size: {}\n", objects,
                     human_readable ? human_readable_size(bytes) : std::to_string(bytes));
}

}  // namespace sluice::cli
