#include "core/crc32c.hpp"

#include <array>
#include <cstring>

#include "core/crc32c_internal.hpp"

#if defined(__x86_64__)
#define SLUICE_CRC32C_X86 1
#include <nmmintrin.h>
#endif

namespace sluice {
namespace crc32c_internal {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

// kTable[0] is the byte-at-a-time table; kTable[k][b] is the CRC of byte b followed by k zero bytes.
constexpr std::array<std::array<uint32_t, 256>, 8> make_table() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1) ? kPoly : 0);
    t[0][b] = c;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (int k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
  return t;
}
constexpr auto kTable = make_table();
static_assert(kTable[0][1] == 0xF26B8303u);

inline uint32_t load_le32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

uint32_t crc32c_table(const void* data, size_t len, uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  for (; len >= 8; p += 8, len -= 8) {
    const uint32_t lo = load_le32(p) ^ c;
    const uint32_t hi = load_le32(p + 4);
    c = kTable[7][lo & 0xff] ^ kTable[6][(lo >> 8) & 0xff] ^ kTable[5][(lo >> 16) & 0xff] ^
        kTable[4][lo >> 24] ^ kTable[3][hi & 0xff] ^ kTable[2][(hi >> 8) & 0xff] ^
        kTable[1][(hi >> 16) & 0xff] ^ kTable[0][hi >> 24];
  }
  for (; len > 0; ++p, --len) c = (c >> 8) ^ kTable[0][(c ^ *p) & 0xff];
  return ~c;
}

#ifdef SLUICE_CRC32C_X86

bool hardware_supported() {
  static const bool supported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return supported;
}

__attribute__((target("sse4.2"))) uint32_t crc32c_hardware(const void* data, size_t len, uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  // Bytes up to an 8-byte boundary, then 8 bytes at a time, then the tail.
  while (len > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(c, *p++);
    --len;
  }
  uint64_t c64 = c;
  for (; len >= 8; p += 8, len -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c64 = _mm_crc32_u64(c64, word);
  }
  c = static_cast<uint32_t>(c64);
  for (; len > 0; ++p, --len) c = _mm_crc32_u8(c, *p);
  return ~c;
}

#else

bool hardware_supported() { return false; }
uint32_t crc32c_hardware(const void* data, size_t len, uint32_t crc) { return crc32c_table(data, len, crc); }

#endif

}  // namespace crc32c_internal

uint32_t crc32c(const void* data, size_t len, uint32_t crc) {
  if (crc32c_internal::hardware_supported()) return crc32c_internal::crc32c_hardware(data, len, crc);
  return crc32c_internal::crc32c_table(data, len, crc);
}

}  // namespace sluice
