// Md5Lanes and md5_hex_many against OpenSSL's MD5 (sluice::Digest), on both the AVX2 path and the
// scalar fallback: RFC 1321's vectors, every short length, the padding edges, long random
// messages, more messages than lanes, and lanes that start and finish at different times.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/watchdog.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/md5_lanes.hpp"

namespace sluice {
namespace {

using sluice::testing::Watchdog;

using Backend = Md5Lanes::Backend;
constexpr int kLanes = Md5Lanes::kLanes;
constexpr size_t kBlock = Md5Lanes::kBlockSize;


std::string openssl_md5(std::string_view data) {
  Digest d(Digest::Algo::kMd5);
  d.update(data);
  return d.finish_hex();
}

std::string random_bytes(size_t n, std::mt19937_64& rng) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<std::string> openssl_all(const std::vector<std::string_view>& messages) {
  std::vector<std::string> out;
  for (std::string_view m : messages) out.push_back(openssl_md5(m));
  return out;
}

// The paddings' edges: a tail of 55 bytes still fits the length in its block, 56 needs a second.
const std::vector<size_t> kEdgeLengths = {0,    1,    55,   56,   57,   63,    64,    65,    119,   120,  121,
                                          127,  128,  129,  183,  184,  191,   192,   193,   1023,  1024, 1025,
                                          4095, 4096, 4097, 4151, 4152, 65535, 65536, 65537, 65591, 65592};

class Md5LanesTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kAvx2 && !Md5Lanes::avx2_supported()) GTEST_SKIP() << "this CPU has no AVX2";
  }
  Watchdog watchdog_{std::chrono::seconds(120)};
  std::vector<std::string> many(const std::vector<std::string_view>& messages) {
    return md5_hex_many(messages, GetParam());
  }
};

TEST(Md5LanesDispatch, BackendsAreWhatWasAsked) {
  EXPECT_FALSE(Md5Lanes(Backend::kScalar).uses_avx2());
  EXPECT_EQ(Md5Lanes(Backend::kAuto).uses_avx2(), Md5Lanes::avx2_supported());
  if (Md5Lanes::avx2_supported()) {
    EXPECT_TRUE(Md5Lanes(Backend::kAvx2).uses_avx2());
  } else {
    EXPECT_THROW(Md5Lanes{Backend::kAvx2}, Error);
  }
}

TEST_P(Md5LanesTest, Rfc1321Vectors) {
  const std::vector<std::pair<std::string_view, std::string_view>> vectors = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  std::vector<std::string_view> messages;
  for (const auto& [m, want] : vectors) {
    ASSERT_EQ(openssl_md5(m), want) << "the reference itself";
    EXPECT_EQ(many({m}), std::vector<std::string>{std::string(want)}) << "alone: \"" << m << "\"";
    messages.push_back(m);
  }
  // All at once, and in reverse, so each vector runs in more than one lane.
  std::vector<std::string> got = many(messages);
  ASSERT_EQ(got.size(), vectors.size());
  for (size_t i = 0; i < vectors.size(); ++i) EXPECT_EQ(got[i], vectors[i].second) << i;
  std::reverse(messages.begin(), messages.end());
  got = many(messages);
  for (size_t i = 0; i < vectors.size(); ++i) EXPECT_EQ(got[i], vectors[vectors.size() - 1 - i].second) << i;
}

TEST_P(Md5LanesTest, KnownLongVector) {
  // A million 'a's (a classic vector): 15625 blocks, then a tail-only padding block.
  const std::string m(1'000'000, 'a');
  EXPECT_EQ(many({m}), std::vector<std::string>{"7707d6ae4e027c70eea2a935c2296f21"});
}

TEST_P(Md5LanesTest, EveryLengthUpTo300) {
  std::mt19937_64 rng(1);
  std::vector<std::string> data;
  for (size_t n = 0; n <= 300; ++n) data.push_back(random_bytes(n, rng));
  std::vector<std::string_view> views(data.begin(), data.end());
  const std::vector<std::string> want = openssl_all(views);
  // All together: 301 messages through 8 lanes, ending at different rounds.
  EXPECT_EQ(many(views), want);
  // One at a time (one busy lane, seven idle).
  for (size_t n = 0; n <= 300; ++n) EXPECT_EQ(many({views[n]}), std::vector<std::string>{want[n]}) << "length " << n;
  // Eight of the same length at once, different bytes in each lane.
  for (size_t n = 0; n <= 300; ++n) {
    std::vector<std::string> same;
    for (int l = 0; l < kLanes; ++l) same.push_back(random_bytes(n, rng));
    std::vector<std::string_view> sv(same.begin(), same.end());
    EXPECT_EQ(many(sv), openssl_all(sv)) << "length " << n;
  }
}

TEST_P(Md5LanesTest, PaddingEdges) {
  std::mt19937_64 rng(2);
  for (size_t n : kEdgeLengths) {
    // The same length in every lane, with each lane's bytes different: each lane's padding,
    // length and state must be its own.
    std::vector<std::string> msgs;
    for (int l = 0; l < kLanes; ++l) msgs.push_back(random_bytes(n, rng));
    std::vector<std::string_view> views(msgs.begin(), msgs.end());
    EXPECT_EQ(many(views), openssl_all(views)) << "length " << n;
  }
  // And every edge length next to every other (lanes needing one and two padding blocks).
  std::vector<std::string> msgs;
  for (size_t n : kEdgeLengths) msgs.push_back(random_bytes(n, rng));
  std::vector<std::string_view> views(msgs.begin(), msgs.end());
  EXPECT_EQ(many(views), openssl_all(views));
  std::reverse(views.begin(), views.end());
  EXPECT_EQ(many(views), openssl_all(views));
}

TEST_P(Md5LanesTest, BytesThatAreAllOnesOrZeros) {
  // Carries and the rotations' edges: all 0x00 and all 0xff, several lengths.
  for (char c : {'\0', '\xff', '\x80', '\x01'}) {
    std::vector<std::string> msgs;
    for (size_t n : {0, 1, 55, 56, 64, 1000, 100000}) msgs.emplace_back(n, c);
    std::vector<std::string_view> views(msgs.begin(), msgs.end());
    EXPECT_EQ(many(views), openssl_all(views)) << static_cast<int>(static_cast<unsigned char>(c));
  }
}

TEST_P(Md5LanesTest, RandomLengthsUpToMiBsUnaligned) {
  std::mt19937_64 rng(3);
  const std::string pool = random_bytes(4 << 20, rng);
  std::vector<std::string_view> views;
  for (int i = 0; i < 12; ++i) {
    // Views at odd offsets: the loads must not assume alignment.
    const size_t len = std::uniform_int_distribution<size_t>(0, 3 << 20)(rng);
    const size_t off = std::uniform_int_distribution<size_t>(0, pool.size() - len)(rng);
    views.push_back(std::string_view(pool).substr(off, len));
  }
  views.push_back(std::string_view(pool).substr(1, (3 << 20) + 63));
  views.push_back(std::string_view(pool).substr(3, 2 << 20));
  EXPECT_EQ(many(views), openssl_all(views));
}

TEST_P(Md5LanesTest, OneToTwentyMessagesOfMixedLengths) {
  std::mt19937_64 rng(4);
  for (int count = 1; count <= 20; ++count) {
    for (int rep = 0; rep < 3; ++rep) {
      std::vector<std::string> msgs;
      for (int i = 0; i < count; ++i) {
        // Mostly short, some a few blocks, some tens of KiB.
        const int kind = static_cast<int>(rng() % 3);
        const size_t max = kind == 0 ? 130 : kind == 1 ? 2000 : 40000;
        msgs.push_back(random_bytes(std::uniform_int_distribution<size_t>(0, max)(rng), rng));
      }
      std::vector<std::string_view> views(msgs.begin(), msgs.end());
      EXPECT_EQ(many(views), openssl_all(views)) << count << " messages";
    }
  }
  EXPECT_TRUE(many({}).empty());
}

TEST_P(Md5LanesTest, IdleLanesAreLeftAlone) {
  // Every pair of lanes busy with data (the vector kernel), the other six busy but not fed, and
  // every lane alone (the one-lane path).
  std::mt19937_64 rng(5);
  for (int x = 0; x < kLanes; ++x) {
    for (int y = x; y < kLanes; ++y) {
      Md5Lanes lanes(GetParam());
      for (int l = 0; l < kLanes; ++l) lanes.start(l);
      const std::string dx = random_bytes(10 * kBlock, rng), dy = random_bytes(10 * kBlock, rng);
      std::array<const void*, kLanes> p{};
      p[static_cast<size_t>(x)] = dx.data();
      p[static_cast<size_t>(y)] = dy.data();  // y == x: x alone, with dy
      lanes.update(p, 10);
      for (int l = 0; l < kLanes; ++l) EXPECT_EQ(lanes.bytes_hashed(l), l == x || l == y ? 10 * kBlock : 0u);
      for (int l = 0; l < kLanes; ++l) {
        const std::string want = l == y ? openssl_md5(dy) : l == x ? openssl_md5(dx) : openssl_md5("");
        EXPECT_EQ(md5_hex(lanes.finish(l)), want) << "lanes " << x << "," << y << ": lane " << l;
        EXPECT_FALSE(lanes.busy(l));
      }
    }
  }
}

TEST_P(Md5LanesTest, OneMessageMovesBetweenAloneAndTogether) {
  // Lane 3's message is hashed partly alone, partly with others, and again alone: the one-lane
  // path and the vector kernel carry the same state.
  std::mt19937_64 rng(8);
  const std::string m = random_bytes(40 * kBlock + 17, rng), other = random_bytes(40 * kBlock, rng);
  Md5Lanes lanes(GetParam());
  for (int l = 0; l < kLanes; ++l) lanes.start(l);
  lanes.update(3, m.data(), 5);
  std::array<const void*, kLanes> p{};
  for (size_t l = 0; l < kLanes; ++l) p[l] = other.data();
  p[3] = m.data() + 5 * kBlock;
  lanes.update(p, 20);
  lanes.update(3, m.data() + 25 * kBlock, 14);
  p = {};
  p[3] = m.data() + 39 * kBlock;
  p[6] = other.data() + 20 * kBlock;
  lanes.update(p, 1);
  EXPECT_EQ(md5_hex(lanes.finish(3, std::string_view(m).substr(40 * kBlock))), openssl_md5(m));
  EXPECT_EQ(md5_hex(lanes.finish(6)), openssl_md5(std::string_view(other).substr(0, 21 * kBlock)));
  EXPECT_EQ(md5_hex(lanes.finish(0)), openssl_md5(std::string_view(other).substr(0, 20 * kBlock)));
}

// The context-manager pattern: lanes start at random times, are fed random numbers of blocks in
// random groups, and finish (with tails of any length, up to several blocks) at random times.
TEST_P(Md5LanesTest, LanesStartAndFinishAtDifferentTimes) {
  for (uint64_t seed = 10; seed < 40; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::string> msgs;
    for (int i = 0; i < 60; ++i) {
      msgs.push_back(random_bytes(std::uniform_int_distribution<size_t>(0, 3000)(rng), rng));
    }
    std::vector<std::string> got(msgs.size());
    Md5Lanes lanes(GetParam());
    std::array<size_t, kLanes> which{}, pos{};
    size_t next = 0, done = 0;
    while (done < msgs.size()) {
      for (int l = 0; l < kLanes; ++l) {
        if (!lanes.busy(l) && next < msgs.size() && rng() % 2) {
          lanes.start(l);
          which[static_cast<size_t>(l)] = next++;
          pos[static_cast<size_t>(l)] = 0;
        }
      }
      // Some of the busy lanes take a common number of blocks.
      std::array<const void*, kLanes> p{};
      size_t room = SIZE_MAX;
      std::vector<int> chosen;
      for (int l = 0; l < kLanes; ++l) {
        const auto i = static_cast<size_t>(l);
        if (!lanes.busy(l) || rng() % 3 == 0) continue;
        const size_t blocks_left = (msgs[which[i]].size() - pos[i]) / kBlock;
        if (blocks_left == 0) continue;
        chosen.push_back(l);
        room = std::min(room, blocks_left);
      }
      if (!chosen.empty()) {
        const size_t n = std::uniform_int_distribution<size_t>(1, room)(rng);
        for (int l : chosen) {
          const auto i = static_cast<size_t>(l);
          p[i] = msgs[which[i]].data() + pos[i];
          pos[i] += n * kBlock;
        }
        lanes.update(p, n);
        for (int l : chosen) {
          const auto i = static_cast<size_t>(l);
          EXPECT_EQ(lanes.bytes_hashed(l), pos[i]);
        }
      }
      // Some lanes finish, together: the rest of their message is the tail.
      unsigned ending = 0;
      std::array<std::string_view, kLanes> tails{};
      for (int l = 0; l < kLanes; ++l) {
        const auto i = static_cast<size_t>(l);
        if (!lanes.busy(l) || rng() % 4 != 0) continue;
        ending |= 1u << l;
        tails[i] = std::string_view(msgs[which[i]]).substr(pos[i]);
      }
      std::array<Md5Lanes::Sum, kLanes> out{};
      lanes.finish(ending, tails, out);
      for (int l = 0; l < kLanes; ++l) {
        const auto i = static_cast<size_t>(l);
        if (!((ending >> l) & 1)) continue;
        EXPECT_FALSE(lanes.busy(l));
        got[which[i]] = md5_hex(out[i]);
        ++done;
      }
    }
    for (size_t i = 0; i < msgs.size(); ++i) {
      EXPECT_EQ(got[i], openssl_md5(msgs[i]))
          << "seed " << seed << ", message " << i << " (" << msgs[i].size() << " bytes)";
    }
  }
}

TEST_P(Md5LanesTest, LengthsPast4GiBits) {
  // 2^29 + 1000 bytes: the length in bits needs more than 32 bits. Two lanes, one needing one
  // padding block, one needing two; the rest idle. (About a second in a Release build.)
#ifndef __OPTIMIZE__
  GTEST_SKIP() << "too slow unoptimised";
#endif
  std::mt19937_64 rng(6);
  const std::string chunk = random_bytes(1 << 20, rng);
  const std::string tail_a = random_bytes(1000, rng);       // 1000 % 64 = 40: one padding block
  const std::string tail_b = random_bytes(1000 + 20, rng);  // 60: two padding blocks
  Md5Lanes lanes(GetParam());
  Digest ref_a(Digest::Algo::kMd5), ref_b(Digest::Algo::kMd5);
  lanes.start(2);
  lanes.start(5);
  for (int i = 0; i < 512; ++i) {
    std::array<const void*, kLanes> p{};
    p[2] = p[5] = chunk.data();
    lanes.update(p, chunk.size() / kBlock);
    ref_a.update(chunk);
    ref_b.update(chunk);
  }
  ref_a.update(tail_a);
  ref_b.update(tail_b);
  EXPECT_EQ(lanes.bytes_hashed(2), uint64_t{1} << 29);
  EXPECT_EQ(md5_hex(lanes.finish(2, tail_a)), ref_a.finish_hex());
  EXPECT_EQ(md5_hex(lanes.finish(5, tail_b)), ref_b.finish_hex());
}

TEST_P(Md5LanesTest, MisuseIsAnError) {
  Md5Lanes lanes(GetParam());
  const std::string block(kBlock, 'x');
  EXPECT_THROW(lanes.update(0, block.data(), 1), Error);  // idle lane
  EXPECT_THROW(lanes.finish(0), Error);
  EXPECT_THROW(lanes.abandon(0), Error);
  EXPECT_THROW(lanes.start(-1), Error);
  EXPECT_THROW(lanes.start(kLanes), Error);
  lanes.start(0);
  EXPECT_THROW(lanes.start(0), Error);  // busy lane
  std::array<Md5Lanes::Sum, kLanes> out{};
  EXPECT_THROW(lanes.finish(1u << kLanes, {}, out), Error);
  lanes.update(0, block.data(), 1);
  lanes.abandon(0);  // dropped: the lane starts afresh
  EXPECT_FALSE(lanes.busy(0));
  lanes.start(0);
  EXPECT_EQ(md5_hex(lanes.finish(0, "abc")), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Md5LanesAgree, Avx2AndScalarGiveTheSameSums) {
  if (!Md5Lanes::avx2_supported()) GTEST_SKIP() << "no AVX2";
  std::mt19937_64 rng(7);
  std::vector<std::string> msgs;
  for (int i = 0; i < 200; ++i) msgs.push_back(random_bytes(rng() % 5000, rng));
  std::vector<std::string_view> views(msgs.begin(), msgs.end());
  EXPECT_EQ(md5_hex_many(views, Backend::kAvx2), md5_hex_many(views, Backend::kScalar));
}

INSTANTIATE_TEST_SUITE_P(Backends, Md5LanesTest, ::testing::Values(Backend::kAvx2, Backend::kScalar),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kAvx2 ? std::string("Avx2") : std::string("Scalar");
                         });

}  // namespace
}  // namespace sluice
