// formats::RecordIOWrapper and recordio_record: the worked vectors, padding for every length mod
// 4, streaming in random pieces against one piece, pointer pass-through, the split of large
// objects (with a small part size, and the real 2^29 boundary without copying 512 MiB), and the
// errors for too few or too many bytes.
#include "formats/recordio.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace sluice::formats {
namespace {

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out += ' ';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string payload_of(size_t n, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Wraps `payload` fed in the given piece sizes (cycled); the whole payload in one piece when empty.
std::string wrap(const std::string& payload, const std::vector<size_t>& pieces = {},
                 uint64_t part_size = RecordIOWrapper::kMaxPart) {
  std::string out;
  auto emit = [&](const char* p, size_t n) { out.append(p, n); };
  RecordIOWrapper w(payload.size(), part_size);
  if (pieces.empty()) {
    w.feed(payload.data(), payload.size(), emit);
  } else {
    size_t pos = 0;
    for (size_t i = 0; pos < payload.size(); ++i) {
      const size_t n = std::min(pieces[i % pieces.size()], payload.size() - pos);
      w.feed(payload.data() + pos, n, emit);
      pos += n;
    }
  }
  w.finish(emit);
  EXPECT_EQ(out.size(), RecordIOWrapper::wrapped_size(payload.size(), part_size));
  return out;
}

struct Header {
  uint32_t magic, cflag, length;
};
uint32_t le32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// Parses a wrapped stream into its headers and the concatenated payload; checks that every part
// but the last is unpadded and that the stream ends exactly after the last padding.
std::vector<Header> parse(const std::string& s, std::string* payload) {
  std::vector<Header> headers;
  size_t pos = 0;
  while (pos < s.size()) {
    EXPECT_LE(pos + 8, s.size());
    const uint32_t lrecord = le32(s, pos + 4);
    Header h{le32(s, pos), lrecord >> 29, lrecord & ((1u << 29) - 1)};
    headers.push_back(h);
    pos += 8;
    payload->append(s, pos, h.length);
    pos += h.length;
    const size_t pad = (4 - h.length % 4) % 4;
    for (size_t i = 0; i < pad; ++i) EXPECT_EQ(s.at(pos + i), '\0');
    pos += pad;
  }
  EXPECT_EQ(pos, s.size());
  return headers;
}

TEST(RecordIO, WorkedVectors) {
  EXPECT_EQ(hex(wrap("abc")), "0a 23 d7 ce 03 00 00 00 61 62 63 00");
  EXPECT_EQ(hex(wrap("")), "0a 23 d7 ce 00 00 00 00");
  EXPECT_EQ(hex(recordio_record("abc")), "0a 23 d7 ce 03 00 00 00 61 62 63 00");
  EXPECT_EQ(hex(recordio_record("")), "0a 23 d7 ce 00 00 00 00");
}

TEST(RecordIO, PaddingForEveryLength) {
  for (size_t n = 0; n <= 9; ++n) {
    const std::string payload(n, 'x');
    const std::string rec = wrap(payload);
    const size_t pad = (4 - n % 4) % 4;
    ASSERT_EQ(rec.size(), 8 + n + pad) << n;
    EXPECT_EQ(rec.size() % 4, 0u);
    EXPECT_EQ(le32(rec, 0), 0xCED7230Au);
    EXPECT_EQ(le32(rec, 4), n) << "cflag 0, length " << n;
    EXPECT_EQ(rec.substr(8, n), payload);
    EXPECT_EQ(rec.substr(8 + n), std::string(pad, '\0')) << n;
    EXPECT_EQ(recordio_record(payload), rec) << n;
  }
}

TEST(RecordIO, RandomPiecesGiveTheSameBytesAsOnePiece) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    const size_t size = rng() % 3000;
    const std::string payload = payload_of(size, round);
    std::vector<size_t> pieces;
    for (int i = 0; i < 5; ++i) pieces.push_back(1 + rng() % 97);
    for (uint64_t part : {uint64_t{RecordIOWrapper::kMaxPart}, uint64_t{8}, uint64_t{12}, uint64_t{1024}}) {
      EXPECT_EQ(wrap(payload, pieces, part), wrap(payload, {}, part)) << "size " << size << " part " << part;
    }
  }
}

TEST(RecordIO, PayloadPiecesArePassedThroughNotCopied) {
  const std::string payload = payload_of(10000);
  RecordIOWrapper w(payload.size());
  std::vector<std::pair<const char*, size_t>> calls;
  auto emit = [&](const char* p, size_t n) { calls.emplace_back(p, n); };
  w.feed(payload.data(), 4000, emit);
  w.feed(payload.data() + 4000, 6000, emit);
  w.finish(emit);
  ASSERT_EQ(calls.size(), 3u);  // header, two pieces; 10000 needs no padding
  EXPECT_EQ(calls[0].second, 8u);
  EXPECT_EQ(calls[1], std::make_pair(payload.data(), size_t{4000}));
  EXPECT_EQ(calls[2], std::make_pair(payload.data() + 4000, size_t{6000}));
}

TEST(RecordIO, HeaderComesBeforeTheFirstByteNotBefore) {
  RecordIOWrapper w(3);
  std::string out;
  auto emit = [&](const char* p, size_t n) { out.append(p, n); };
  w.feed("", 0, emit);
  EXPECT_EQ(out, "");
  w.feed("a", 1, emit);
  EXPECT_EQ(hex(out), "0a 23 d7 ce 03 00 00 00 61");
  w.feed("bc", 2, emit);
  EXPECT_EQ(out.size(), 11u);  // padding only from finish()
  w.finish(emit);
  EXPECT_EQ(hex(out), "0a 23 d7 ce 03 00 00 00 61 62 63 00");
  w.finish(emit);  // a second finish does nothing
  EXPECT_EQ(out.size(), 12u);
}

struct SplitCase {
  size_t size;
  std::vector<Header> expected;
};

TEST(RecordIO, SplitWithSmallPartSize) {
  constexpr uint32_t M = 0xCED7230Au;
  const std::vector<SplitCase> cases = {
      {0, {{M, 0, 0}}},
      {8, {{M, 0, 8}}},                              // size == part size: one record
      {9, {{M, 0, 9}}},                              // part size + 1 still fits one record
      {11, {{M, 0, 11}}},                            // part size + 3: the largest single record
      {12, {{M, 1, 8}, {M, 3, 4}}},                  // part size + 4: split
      {13, {{M, 1, 8}, {M, 3, 5}}},
      {16, {{M, 1, 8}, {M, 3, 8}}},                  // 2 * part size
      {17, {{M, 1, 8}, {M, 2, 8}, {M, 3, 1}}},
      {24, {{M, 1, 8}, {M, 2, 8}, {M, 3, 8}}},
      {43, {{M, 1, 8}, {M, 2, 8}, {M, 2, 8}, {M, 2, 8}, {M, 2, 8}, {M, 3, 3}}},
  };
  for (const auto& c : cases) {
    const std::string payload = payload_of(c.size, static_cast<uint32_t>(c.size));
    for (const std::vector<size_t>& pieces : {std::vector<size_t>{}, {1}, {3, 5}, {8}, {7, 9, 16}}) {
      const std::string out = wrap(payload, pieces, 8);
      std::string joined;
      const auto headers = parse(out, &joined);
      ASSERT_EQ(headers.size(), c.expected.size()) << "size " << c.size;
      for (size_t i = 0; i < headers.size(); ++i) {
        EXPECT_EQ(headers[i].magic, c.expected[i].magic);
        EXPECT_EQ(headers[i].cflag, c.expected[i].cflag) << "size " << c.size << " part " << i;
        EXPECT_EQ(headers[i].length, c.expected[i].length) << "size " << c.size << " part " << i;
      }
      EXPECT_EQ(joined, payload) << "nothing removed, nothing added";
    }
  }
}

// The real limit, 2^29: the emit callback sees payload pointers into one reused 1 MiB buffer, so
// only the bytes the wrapper makes itself (headers, padding) are kept.
std::vector<std::string> own_bytes_of_big_object(uint64_t size) {
  const std::string chunk(1 << 20, 'z');
  std::vector<std::string> own;
  uint64_t payload_bytes = 0;
  auto emit = [&](const char* p, size_t n) {
    if (p >= chunk.data() && p < chunk.data() + chunk.size()) {
      payload_bytes += n;
    } else {
      own.emplace_back(p, n);
    }
  };
  RecordIOWrapper w(size);
  for (uint64_t left = size; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
    w.feed(chunk.data(), n, emit);
    left -= n;
  }
  w.finish(emit);
  EXPECT_EQ(payload_bytes, size);
  return own;
}

TEST(RecordIO, RealPartSizeBoundary) {
  static_assert(RecordIOWrapper::kMaxPart % 4 == 0);
  static_assert(RecordIOWrapper::kMaxPart + 3 == (uint64_t{1} << 29) - 1);
  const uint64_t limit = uint64_t{1} << 29;

  auto below = own_bytes_of_big_object(limit - 1);  // the largest single record
  ASSERT_EQ(below.size(), 2u);
  EXPECT_EQ(le32(below[0], 4), (0u << 29) | static_cast<uint32_t>(limit - 1));
  EXPECT_EQ(below[1], std::string(1, '\0'));

  auto at = own_bytes_of_big_object(limit);
  ASSERT_EQ(at.size(), 2u);  // two headers; the last part (4 bytes) needs no padding
  EXPECT_EQ(le32(at[0], 0), 0xCED7230Au);
  EXPECT_EQ(le32(at[0], 4), (1u << 29) | static_cast<uint32_t>(RecordIOWrapper::kMaxPart));
  EXPECT_EQ(le32(at[1], 4), (3u << 29) | 4u);

  EXPECT_EQ(RecordIOWrapper::wrapped_size(limit - 1), 8 + (limit - 1) + 1);
  EXPECT_EQ(RecordIOWrapper::wrapped_size(limit), 16 + limit);
  EXPECT_EQ(RecordIOWrapper::wrapped_size(3 * RecordIOWrapper::kMaxPart + 1), 32 + 3 * RecordIOWrapper::kMaxPart + 1 + 3);
}

TEST(RecordIO, TooFewBytesIsDataLoss) {
  RecordIOWrapper w(5);
  std::string out;
  auto emit = [&](const char* p, size_t n) { out.append(p, n); };
  w.feed("abc", 3, emit);
  try {
    w.finish(emit);
    FAIL() << "finish() accepted a short object";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDataLoss);
    EXPECT_NE(std::string(e.what()).find("3 of 5"), std::string::npos) << e.what();
  }
}

TEST(RecordIO, TooManyBytesIsDataLossAndEmitsNothing) {
  RecordIOWrapper w(2);
  std::string out;
  auto emit = [&](const char* p, size_t n) { out.append(p, n); };
  try {
    w.feed("abc", 3, emit);
    FAIL() << "feed() accepted more bytes than the object size";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDataLoss);
  }
  EXPECT_EQ(out, "");
  w.feed("ab", 2, emit);
  EXPECT_THROW(w.feed("c", 1, emit), Error);
  w.finish(emit);
  EXPECT_EQ(hex(out), "0a 23 d7 ce 02 00 00 00 61 62 00 00");
  EXPECT_THROW(w.feed("", 0, emit), Error);  // after finish
}

TEST(RecordIO, BadPartSizeIsRefused) {
  EXPECT_THROW(RecordIOWrapper(10, 0), Error);
  EXPECT_THROW(RecordIOWrapper(10, 6), Error);
  EXPECT_THROW(RecordIOWrapper(10, RecordIOWrapper::kMaxPart + 4), Error);
  EXPECT_NO_THROW(RecordIOWrapper(10, 4));
}

}  // namespace
}  // namespace sluice::formats
