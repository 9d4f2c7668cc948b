#include "core/md5_lanes.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define SLUICE_MD5_X86 1
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "core/error.hpp"
#include "core/hash.hpp"

namespace sluice {
namespace {

#ifdef SLUICE_MD5_X86

// T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 section 3.4.
constexpr uint32_t kT[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};
// Left-rotation amounts, by round and step within a group of four.
constexpr int kRot[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
// Which message word step i uses.
constexpr int word_of(int i) {
  const int j = i % 16;
  switch (i / 16) {
    case 0: return j;
    case 1: return (1 + 5 * j) % 16;
    case 2: return (5 + 3 * j) % 16;
    default: return (7 * j) % 16;
  }
}

// ---- one lane alone: plain C++ on the lane's state ---------------------------------------------
// A single message gains nothing from the vector kernel, whose speed per message is bounded by
// the latency of MD5's 64 dependent steps (about half OpenSSL's speed for one lane); this is as
// fast as OpenSSL's assembly, give or take a few percent.

template <int I>
__attribute__((always_inline)) inline void scalar_step(uint32_t (&v)[4], const uint32_t (&w)[16]) {
  constexpr int round = I / 16;
  uint32_t& a = v[(4 - I % 4) % 4];
  const uint32_t b = v[(5 - I % 4) % 4], c = v[(6 - I % 4) % 4], d = v[(7 - I % 4) % 4];
  uint32_t f;
  if constexpr (round == 0) {
    f = d ^ (b & (c ^ d));
  } else if constexpr (round == 1) {
    f = c ^ (d & (b ^ c));
  } else if constexpr (round == 2) {
    f = b ^ c ^ d;
  } else {
    f = c ^ (b | ~d);
  }
  const uint32_t t = a + kT[I] + w[word_of(I)] + f;
  constexpr int s = kRot[round][I % 4];
  a = b + ((t << s) | (t >> (32 - s)));
}

template <size_t... I>
__attribute__((always_inline)) inline void scalar_steps(uint32_t (&v)[4], const uint32_t (&w)[16],
                                                        std::index_sequence<I...>) {
  (scalar_step<static_cast<int>(I)>(v, w), ...);
}

void md5_one_lane(uint32_t (&state)[4][8], size_t lane, const unsigned char* p, size_t blocks) {
  uint32_t s[4] = {state[0][lane], state[1][lane], state[2][lane], state[3][lane]};
  for (size_t n = 0; n < blocks; ++n, p += 64) {
    uint32_t w[16];
    std::memcpy(w, p, sizeof w);  // x86: the little-endian words MD5 wants
    uint32_t v[4] = {s[0], s[1], s[2], s[3]};
    scalar_steps(v, w, std::make_index_sequence<64>{});
    for (int j = 0; j < 4; ++j) s[j] += v[j];
  }
  for (int j = 0; j < 4; ++j) state[j][lane] = s[j];
}

// ---- the AVX2 kernel: RFC 1321's compression function, one 32-bit lane per message -------------
// Only these functions use AVX2 instructions; they run only after avx2_supported() said yes.
#define SLUICE_AVX2 __attribute__((target("avx2")))
#define SLUICE_AVX2_INLINE __attribute__((target("avx2"), always_inline)) inline

template <int S>
SLUICE_AVX2_INLINE __m256i rotl(__m256i x) {
  return _mm256_or_si256(_mm256_slli_epi32(x, S), _mm256_srli_epi32(x, 32 - S));
}

// Step I of 64 on v = {A, B, C, D}: the register roles rotate by one each step.
template <int I>
SLUICE_AVX2_INLINE void step(__m256i (&v)[4], const __m256i (&w)[16]) {
  constexpr int round = I / 16;
  __m256i& a = v[(4 - I % 4) % 4];
  const __m256i b = v[(5 - I % 4) % 4];
  const __m256i c = v[(6 - I % 4) % 4];
  const __m256i d = v[(7 - I % 4) % 4];
  __m256i f;
  if constexpr (round == 0) {
    f = _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)));  // F = (b & c) | (~b & d)
  } else if constexpr (round == 1) {
    f = _mm256_xor_si256(c, _mm256_and_si256(d, _mm256_xor_si256(b, c)));  // G = (b & d) | (c & ~d)
  } else if constexpr (round == 2) {
    f = _mm256_xor_si256(b, _mm256_xor_si256(c, d));  // H = b ^ c ^ d
  } else {
    f = _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, _mm256_set1_epi32(-1))));  // I = c ^ (b | ~d)
  }
  // a + T[I] + X[k] does not depend on the previous step: off the critical path.
  __m256i t = _mm256_add_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(static_cast<int>(kT[I]))), w[word_of(I)]);
  t = _mm256_add_epi32(t, f);
  a = _mm256_add_epi32(b, rotl<kRot[round][I % 4]>(t));
}

template <size_t... I>
SLUICE_AVX2_INLINE void all_steps(__m256i (&v)[4], const __m256i (&w)[16], std::index_sequence<I...>) {
  (step<static_cast<int>(I)>(v, w), ...);
}

// w[j] = 32-bit word j (of `half`'s eight) of each lane's block, lane i in element i: an 8x8
// transpose of the rows r[i] = bytes [32 * half, 32 * half + 32) of lane i's block.
SLUICE_AVX2_INLINE void load_transposed(const unsigned char* const (&p)[8], int half, __m256i* w) {
  __m256i r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[i] + 32 * half));
  // t: pairs of lanes interleaved; u: groups of four; then the 128-bit halves are combined.
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);  // words 0|4, 1|5 of lanes 0-3
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);  // words 2|6, 3|7
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);  // same, lanes 4-7
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  w[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  w[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  w[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  w[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  w[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  w[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  w[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  w[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

alignas(64) constexpr unsigned char kZeroBlock[64] = {};

// Hashes `blocks` consecutive blocks from data[i] into lane i for each lane in `mask`; the other
// lanes hash a zero block over and over and their state is put back at the end.
SLUICE_AVX2 void md5_x8_avx2(uint32_t (&state)[4][8], const std::array<const unsigned char*, 8>& data, unsigned mask,
                             size_t blocks) {
  const unsigned char* p[8];
  size_t stride[8];
  alignas(32) int32_t keep[8];
  for (int i = 0; i < 8; ++i) {
    const bool on = (mask >> i) & 1;
    p[i] = on ? data[static_cast<size_t>(i)] : kZeroBlock;
    stride[i] = on ? 64 : 0;
    keep[i] = on ? -1 : 0;
  }
  __m256i orig[4], s[4];
  for (int j = 0; j < 4; ++j) s[j] = orig[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[j]));
  for (size_t n = 0; n < blocks; ++n) {
    __m256i w[16];
    load_transposed(p, 0, w);
    load_transposed(p, 1, w + 8);
    __m256i v[4] = {s[0], s[1], s[2], s[3]};
    all_steps(v, w, std::make_index_sequence<64>{});
    for (int j = 0; j < 4; ++j) s[j] = _mm256_add_epi32(s[j], v[j]);
    for (int i = 0; i < 8; ++i) p[i] += stride[i];
  }
  const __m256i m = _mm256_load_si256(reinterpret_cast<const __m256i*>(keep));
  for (int j = 0; j < 4; ++j) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(state[j]), _mm256_blendv_epi8(orig[j], s[j], m));
  }
}

#endif  // SLUICE_MD5_X86

constexpr uint32_t kInit[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

}  // namespace

struct Md5Lanes::Scalar {
  std::array<std::optional<Digest>, kLanes> ctx;
};

bool Md5Lanes::avx2_supported() {
#ifdef SLUICE_MD5_X86
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;  // also checks that the OS saves the YMM registers
  }();
  return ok;
#else
  return false;
#endif
}

Md5Lanes::Md5Lanes(Backend backend) {
  switch (backend) {
    case Backend::kAuto: avx2_ = avx2_supported(); break;
    case Backend::kAvx2:
      if (!avx2_supported()) throw Error(ErrorKind::kInternal, "MD5 lanes", "this CPU has no AVX2");
      avx2_ = true;
      break;
    case Backend::kScalar: avx2_ = false; break;
  }
  std::memset(state_, 0, sizeof state_);
  if (!avx2_) scalar_ = std::make_unique<Scalar>();
}

Md5Lanes::~Md5Lanes() = default;

void Md5Lanes::check_lane(int lane, bool want_busy, const char* what) const {
  if (lane < 0 || lane >= kLanes) throw Error(ErrorKind::kInternal, what, "no lane " + std::to_string(lane));
  if (busy(lane) != want_busy) {
    throw Error(ErrorKind::kInternal, what, "lane " + std::to_string(lane) + (want_busy ? " is idle" : " is busy"));
  }
}

bool Md5Lanes::busy(int lane) const { return lane >= 0 && lane < kLanes && ((busy_ >> lane) & 1); }

uint64_t Md5Lanes::bytes_hashed(int lane) const { return busy(lane) ? length_[static_cast<size_t>(lane)] : 0; }

void Md5Lanes::start(int lane) {
  check_lane(lane, false, "starting an MD5 lane");
  const auto l = static_cast<size_t>(lane);
  for (int j = 0; j < 4; ++j) state_[j][l] = kInit[j];
  length_[l] = 0;
  if (scalar_) scalar_->ctx[l].emplace(Digest::Algo::kMd5);
  busy_ |= 1u << lane;
}

void Md5Lanes::abandon(int lane) {
  check_lane(lane, true, "abandoning an MD5 lane");
  if (scalar_) scalar_->ctx[static_cast<size_t>(lane)].reset();
  busy_ &= ~(1u << lane);
}

void Md5Lanes::run(const std::array<const unsigned char*, kLanes>& data, unsigned mask, size_t blocks) {
  if (mask == 0 || blocks == 0) return;
  if (avx2_) {
#ifdef SLUICE_MD5_X86
    if ((mask & (mask - 1)) == 0) {  // one lane
      const auto lane = static_cast<size_t>(__builtin_ctz(mask));
      md5_one_lane(state_, lane, data[lane], blocks);
    } else {
      md5_x8_avx2(state_, data, mask, blocks);
    }
#endif
  } else {
    for (size_t l = 0; l < kLanes; ++l) {
      if ((mask >> l) & 1) scalar_->ctx[l]->update(data[l], blocks * kBlockSize);
    }
  }
  for (size_t l = 0; l < kLanes; ++l) {
    if ((mask >> l) & 1) length_[l] += blocks * kBlockSize;
  }
}

void Md5Lanes::update(const std::array<const void*, kLanes>& data, size_t blocks) {
  std::array<const unsigned char*, kLanes> p{};
  unsigned mask = 0;
  for (int l = 0; l < kLanes; ++l) {
    const auto i = static_cast<size_t>(l);
    if (data[i] == nullptr) continue;
    check_lane(l, true, "updating an MD5 lane");
    p[i] = static_cast<const unsigned char*>(data[i]);
    mask |= 1u << l;
  }
  run(p, mask, blocks);
}

void Md5Lanes::update(int lane, const void* data, size_t blocks) {
  check_lane(lane, true, "updating an MD5 lane");
  std::array<const void*, kLanes> p{};
  p[static_cast<size_t>(lane)] = data;
  update(p, blocks);
}

void Md5Lanes::finish(unsigned lane_mask, const std::array<std::string_view, kLanes>& tails,
                      std::array<Sum, kLanes>& out) {
  for (int l = 0; l < kLanes; ++l) {
    if ((lane_mask >> l) & 1) check_lane(l, true, "finishing an MD5 lane");
  }
  if (lane_mask >> kLanes) throw Error(ErrorKind::kInternal, "finishing an MD5 lane", "bad lane mask");
  if (!avx2_) {
    for (size_t l = 0; l < kLanes; ++l) {
      if (!((lane_mask >> l) & 1)) continue;
      Digest& d = *scalar_->ctx[l];
      d.update(tails[l]);
      const std::string raw = d.finish_raw();
      std::memcpy(out[l].data(), raw.data(), out[l].size());
      scalar_->ctx[l].reset();
    }
    busy_ &= ~lane_mask;
    return;
  }
  // The tails' whole blocks, in rounds of the blocks all the remaining lanes still have.
  std::array<const unsigned char*, kLanes> p{};
  std::array<size_t, kLanes> left{};
  for (size_t l = 0; l < kLanes; ++l) {
    if (!((lane_mask >> l) & 1)) continue;
    p[l] = reinterpret_cast<const unsigned char*>(tails[l].data());
    left[l] = tails[l].size() / kBlockSize;
  }
  for (;;) {
    unsigned mask = 0;
    size_t n = SIZE_MAX;
    for (size_t l = 0; l < kLanes; ++l) {
      if (left[l] == 0) continue;
      mask |= 1u << l;
      n = std::min(n, left[l]);
    }
    if (mask == 0) break;
    run(p, mask, n);
    for (size_t l = 0; l < kLanes; ++l) {
      if (!((mask >> l) & 1)) continue;
      p[l] += n * kBlockSize;
      left[l] -= n;
    }
  }
  // Padding: the last partial block, 0x80, zeros, and the length in bits (little-endian) in the
  // last 8 bytes of a block: one block if the rest is under 56 bytes, else two.
  alignas(32) unsigned char pad[kLanes][2 * kBlockSize];
  std::array<const unsigned char*, kLanes> first{}, second{};
  unsigned two = 0;
  for (size_t l = 0; l < kLanes; ++l) {
    if (!((lane_mask >> l) & 1)) continue;
    const size_t rest = tails[l].size() % kBlockSize;
    const uint64_t bits = (length_[l] + rest) * 8;  // modulo 2^64, as RFC 1321 says
    std::memset(pad[l], 0, sizeof pad[l]);
    if (rest != 0) std::memcpy(pad[l], p[l], rest);
    pad[l][rest] = 0x80;
    const size_t len_at = rest < 56 ? 56 : 120;
    for (int b = 0; b < 8; ++b) pad[l][len_at + static_cast<size_t>(b)] = static_cast<unsigned char>(bits >> (8 * b));
    first[l] = pad[l];
    if (rest >= 56) {
      second[l] = pad[l] + kBlockSize;
      two |= 1u << l;
    }
  }
  run(first, lane_mask, 1);
  run(second, two, 1);
  for (size_t l = 0; l < kLanes; ++l) {
    if (!((lane_mask >> l) & 1)) continue;
    for (size_t j = 0; j < 4; ++j) {
      for (size_t b = 0; b < 4; ++b) out[l][4 * j + b] = static_cast<unsigned char>(state_[j][l] >> (8 * b));
    }
  }
  busy_ &= ~lane_mask;
}

Md5Lanes::Sum Md5Lanes::finish(int lane, std::string_view tail) {
  check_lane(lane, true, "finishing an MD5 lane");
  std::array<std::string_view, kLanes> tails{};
  tails[static_cast<size_t>(lane)] = tail;
  std::array<Sum, kLanes> out{};
  finish(1u << lane, tails, out);
  return out[static_cast<size_t>(lane)];
}

std::string md5_hex(const Md5Lanes::Sum& sum) {
  return hex_encode(std::string_view(reinterpret_cast<const char*>(sum.data()), sum.size()));
}

std::vector<std::string> md5_hex_many(const std::vector<std::string_view>& messages, Md5Lanes::Backend backend) {
  std::vector<std::string> result(messages.size());
  Md5Lanes lanes(backend);
  constexpr size_t kLanes = Md5Lanes::kLanes;
  std::array<size_t, kLanes> which{};           // the message in each busy lane
  std::array<std::string_view, kLanes> left{};  // what the lane has not hashed yet
  size_t next = 0;
  for (;;) {
    // Idle lanes take the next messages; lanes with less than a block left finish together.
    for (size_t l = 0; l < kLanes; ++l) {
      if (!lanes.busy(static_cast<int>(l)) && next < messages.size()) {
        lanes.start(static_cast<int>(l));
        which[l] = next;
        left[l] = messages[next++];
      }
    }
    unsigned ending = 0;
    size_t n = SIZE_MAX;
    for (size_t l = 0; l < kLanes; ++l) {
      if (!lanes.busy(static_cast<int>(l))) continue;
      if (left[l].size() < Md5Lanes::kBlockSize) {
        ending |= 1u << l;
      } else {
        n = std::min(n, left[l].size() / Md5Lanes::kBlockSize);
      }
    }
    if (ending != 0) {
      std::array<Md5Lanes::Sum, kLanes> out{};
      lanes.finish(ending, left, out);
      for (size_t l = 0; l < kLanes; ++l) {
        if ((ending >> l) & 1) result[which[l]] = md5_hex(out[l]);
      }
      continue;  // the freed lanes take new messages before the next round
    }
    if (n == SIZE_MAX) break;  // nothing busy and nothing left
    std::array<const void*, kLanes> p{};
    for (size_t l = 0; l < kLanes; ++l) {
      if (!lanes.busy(static_cast<int>(l))) continue;
      p[l] = left[l].data();
      left[l].remove_prefix(n * Md5Lanes::kBlockSize);
    }
    lanes.update(p, n);
  }
  return result;
}

}  // namespace sluice
