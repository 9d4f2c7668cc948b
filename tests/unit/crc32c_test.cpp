// CRC-32C: the known vectors (RFC 3720 B.4 and the usual check value), incremental against
// one-shot at every split point, the SSE4.2 path against the table on random buffers, and
// TFRecord's masked CRC on a real record.
#include "core/crc32c.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/crc32c_internal.hpp"

namespace sluice {
namespace {

using crc32c_internal::crc32c_hardware;
using crc32c_internal::crc32c_table;
using crc32c_internal::hardware_supported;

std::vector<unsigned char> bytes_of(size_t n, unsigned char (*f)(size_t)) {
  std::vector<unsigned char> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = f(i);
  return v;
}

struct Vector {
  const char* name;
  std::vector<unsigned char> data;
  uint32_t crc;
};

std::vector<Vector> known_vectors() {
  const std::string check = "123456789";
  return {
      {"check", std::vector<unsigned char>(check.begin(), check.end()), 0xE3069283u},
      {"empty", {}, 0u},
      {"32 zeros", std::vector<unsigned char>(32, 0x00), 0x8A9136AAu},
      {"32 ones", std::vector<unsigned char>(32, 0xFF), 0x62A8AB43u},
      {"ascending", bytes_of(32, [](size_t i) { return static_cast<unsigned char>(i); }), 0x46DD794Eu},
      {"descending", bytes_of(32, [](size_t i) { return static_cast<unsigned char>(31 - i); }), 0x113FDB5Cu},
  };
}

TEST(Crc32c, KnownVectors) {
  for (const Vector& v : known_vectors()) {
    SCOPED_TRACE(v.name);
    EXPECT_EQ(crc32c(v.data.data(), v.data.size()), v.crc);
    EXPECT_EQ(crc32c_table(v.data.data(), v.data.size(), 0), v.crc);
    if (hardware_supported()) {
      EXPECT_EQ(crc32c_hardware(v.data.data(), v.data.size(), 0), v.crc);
    }
  }
  EXPECT_EQ(crc32c(std::string_view("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string_view()), 0u);
}

TEST(Crc32c, IncrementalEqualsOneShotAtEverySplit) {
  std::mt19937 rng(1234);
  std::vector<unsigned char> buf(1000);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  const uint32_t whole = crc32c(buf.data(), buf.size());
  EXPECT_EQ(whole, crc32c_table(buf.data(), buf.size(), 0));
  for (size_t split = 0; split <= buf.size(); ++split) {
    const uint32_t first = crc32c(buf.data(), split);
    ASSERT_EQ(crc32c(buf.data() + split, buf.size() - split, first), whole) << "split at " << split;
    const uint32_t t = crc32c_table(buf.data(), split, 0);
    ASSERT_EQ(crc32c_table(buf.data() + split, buf.size() - split, t), whole) << "table, split at " << split;
  }
}

TEST(Crc32c, HardwareMatchesTable) {
  if (!hardware_supported()) GTEST_SKIP() << "this CPU has no SSE4.2";
  std::mt19937_64 rng(42);
  std::vector<unsigned char> buf(70000);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (int i = 0; i < 2000; ++i) {
    const size_t offset = rng() % 16;
    const size_t len = i < 200 ? static_cast<size_t>(i) : rng() % (buf.size() - offset);
    const uint32_t seed = (i % 3 == 0) ? 0 : static_cast<uint32_t>(rng());
    ASSERT_EQ(crc32c_hardware(buf.data() + offset, len, seed), crc32c_table(buf.data() + offset, len, seed))
        << "offset " << offset << " length " << len << " seed " << seed;
  }
}

void put_le32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A TFRecord is: uint64 length, uint32 masked_crc32c(length), data, uint32 masked_crc32c(data),
// all little-endian. The record of "abc" is
// 03 00 00 00 00 00 00 00  b0 99 49 0e  61 62 63  6e 57 f1 21.
TEST(Crc32c, MaskedCrcOfTfRecord) {
  const std::string length("\x03\x00\x00\x00\x00\x00\x00\x00", 8);
  std::string record = length;
  put_le32(record, mask_crc32c(crc32c(length)));
  record += "abc";
  put_le32(record, mask_crc32c(crc32c(std::string_view("abc"))));
  const std::string expected("\x03\x00\x00\x00\x00\x00\x00\x00\xb0\x99\x49\x0e" "abc" "\x6e\x57\xf1\x21", 19);
  EXPECT_EQ(record, expected);
  EXPECT_EQ(mask_crc32c(crc32c(length)), 0x0e4999b0u);
  EXPECT_EQ(mask_crc32c(crc32c(std::string_view("abc"))), 0x21f1576eu);
}

}  // namespace
}  // namespace sluice
