#include "core/human_size.hpp"

#include <fmt/core.h>

namespace sluice {

std::string human_size(double bytes, int byte_decimals) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return fmt::format("{:.{}f} {}", bytes, u == 0 ? byte_decimals : 1, kUnits[u]);
}

}  // namespace sluice
