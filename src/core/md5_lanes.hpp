// Multi-buffer MD5: eight independent messages hashed at once in the eight 32-bit lanes of AVX2
// registers. MD5 itself is serial (each step needs the previous one), so one message cannot go
// faster than one core's scalar MD5; eight messages in lockstep can, about as fast per message.
//
// The vector kernel's speed per message is bound by the latency of MD5's 64 dependent steps, so
// a lane alone runs at about half OpenSSL's speed in it: a call that feeds one lane only hashes it
// with plain C++ instead (about OpenSSL's speed). Two or more lanes take the vector kernel.
//
// Without AVX2 (checked at run time) every lane is hashed with OpenSSL's MD5 (sluice::Digest), so
// callers need not care which path runs.
//
// Lanes work like a context manager: a lane starts a message, is fed whole 64-byte blocks together
// with the other busy lanes, and is finished (padded) on its own, when its message ends; it can
// then start another message while the other lanes carry on.
//
//   Md5Lanes lanes;
//   lanes.start(0); lanes.start(1);
//   lanes.update({p0, p1, nullptr, ...}, 16);          // 16 blocks (1 KiB) of each of lanes 0 and 1
//   Md5Lanes::Sum s0 = lanes.finish(0, tail0);        // tail0: the rest of message 0, any length
//   lanes.start(0);                                   // lane 0 takes a new message; lane 1 goes on
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class Md5Lanes {
 public:
  static constexpr int kLanes = 8;
  static constexpr size_t kBlockSize = 64;
  using Sum = std::array<unsigned char, 16>;  // a raw MD5 digest
  enum class Backend {
    kAuto,    // AVX2 where the CPU has it, else scalar
    kAvx2,    // AVX2 (a lone lane: C++); the constructor throws (kInternal) if the CPU lacks it
    kScalar,  // OpenSSL, one lane at a time (the fallback; also forced by tests)
  };

  explicit Md5Lanes(Backend backend = Backend::kAuto);
  ~Md5Lanes();
  Md5Lanes(const Md5Lanes&) = delete;
  Md5Lanes& operator=(const Md5Lanes&) = delete;

  static bool avx2_supported();  // the CPU (and OS) can run the AVX2 path
  bool uses_avx2() const { return avx2_; }

  // Begins a new, empty message in an idle lane.
  void start(int lane);
  bool busy(int lane) const;
  uint64_t bytes_hashed(int lane) const;  // bytes fed to the lane's current message so far

  // Hashes `blocks` whole 64-byte blocks (blocks * 64 bytes) from data[lane] into each lane whose
  // data[lane] is not null; those lanes must be busy. Lanes with null data are left as they are
  // (in the AVX2 path they cost nothing extra: the eight lanes run together anyway).
  void update(const std::array<const void*, kLanes>& data, size_t blocks);
  // Same, for one lane only (the other lanes idle for the call).
  void update(int lane, const void* data, size_t blocks);

  // Ends the message of every lane whose bit is set in lane_mask (bit i = lane i): hashes
  // tails[lane] (the rest of its message, any length, possibly empty), pads, and writes the digest
  // to out[lane]. Those lanes become idle. Lanes finishing together share the SIMD work.
  void finish(unsigned lane_mask, const std::array<std::string_view, kLanes>& tails,
              std::array<Sum, kLanes>& out);
  Sum finish(int lane, std::string_view tail = {});

  // Drops the lane's message (e.g. after a read error); the lane becomes idle.
  void abandon(int lane);

 private:
  struct Scalar;
  void check_lane(int lane, bool want_busy, const char* what) const;
  void run(const std::array<const unsigned char*, kLanes>& data, unsigned mask, size_t blocks);

  bool avx2_ = false;
  alignas(32) uint32_t state_[4][kLanes];  // A, B, C, D of each lane (AVX2 path)
  std::array<uint64_t, kLanes> length_{};
  unsigned busy_ = 0;                      // bit i: lane i holds a message
  std::unique_ptr<Scalar> scalar_;         // OpenSSL contexts (scalar path)
};

std::string md5_hex(const Md5Lanes::Sum& sum);

// MD5 (lower-case hex) of every message, hashed kLanes at a time; results in the input's order.
std::vector<std::string> md5_hex_many(const std::vector<std::string_view>& messages,
                                      Md5Lanes::Backend backend = Md5Lanes::Backend::kAuto);

}  // namespace sluice
