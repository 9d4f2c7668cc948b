// The two CRC-32C implementations behind sluice::crc32c, exposed so the tests can compare them.
// Same convention as crc32c(): `crc` is the value returned for the previous piece (0 to start).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::crc32c_internal {

uint32_t crc32c_table(const void* data, size_t len, uint32_t crc);  // slice-by-8, any CPU

bool hardware_supported();  // the CPU has SSE4.2 (checked once)
// The SSE4.2 crc32 instruction; only call when hardware_supported().
uint32_t crc32c_hardware(const void* data, size_t len, uint32_t crc);

}  // namespace sluice::crc32c_internal
