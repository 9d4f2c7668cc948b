// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by TFRecord framing and by
// the FastFile disk cache's block checksums. Uses the SSE4.2 crc32 instruction when the CPU has
// it (checked once at run time), else a slice-by-8 table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice {

// CRC-32C of data, continuing from `crc` (the value returned for the previous piece; 0 to start).
// crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const void* data, size_t len, uint32_t crc = 0);
inline uint32_t crc32c(std::string_view s, uint32_t crc = 0) { return crc32c(s.data(), s.size(), crc); }

// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
inline uint32_t mask_crc32c(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

}  // namespace sluice
