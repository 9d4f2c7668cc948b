// Sizes for people: "1.5 GiB". Logs, status messages and the CLI's progress lines.
#pragma once

#include <string>

namespace sluice {

// Binary units (B, KiB, MiB, GiB, TiB) with one decimal; bytes below 1 KiB with `byte_decimals`
// decimals ("6.0 B" in job logs, "6 B" in the CLI's progress lines).
std::string human_size(double bytes, int byte_decimals = 1);

}  // namespace sluice
