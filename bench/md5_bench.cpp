// MD5 throughput: OpenSSL on one message against the multi-buffer Md5Lanes on eight, in memory
// and through Md5Verifier on files in the page cache. bytes_per_second counts every message's
// bytes, so the ratio of the rates is the speed-up for a core hashing several messages at once.
//
//   md5_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.hpp"
#include "core/md5_lanes.hpp"
#include "transfer/md5_verifier.hpp"

namespace {

constexpr size_t kSize = 8 << 20;  // 8 MiB per message
constexpr int kLanes = sluice::Md5Lanes::kLanes;

const std::vector<std::string>& messages() {
  static const std::vector<std::string> m = [] {
    std::mt19937_64 rng(1);
    std::vector<std::string> out(kLanes, std::string(kSize, '\0'));
    for (std::string& s : out) {
      for (char& c : s) c = static_cast<char>(rng());
    }
    return out;
  }();
  return m;
}

void BM_OpenSSL_1x8MiB(benchmark::State& state) {
  const std::string& m = messages()[0];
  for (auto _ : state) {
    sluice::Digest d(sluice::Digest::Algo::kMd5);
    d.update(m);
    benchmark::DoNotOptimize(d.finish_raw());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kSize));
}
BENCHMARK(BM_OpenSSL_1x8MiB)->Unit(benchmark::kMillisecond);

// `lanes` messages of 8 MiB through Md5Lanes, all started and finished together.
void lanes_bench(benchmark::State& state, sluice::Md5Lanes::Backend backend, int lanes_used) {
  if (backend == sluice::Md5Lanes::Backend::kAvx2 && !sluice::Md5Lanes::avx2_supported()) {
    state.SkipWithError("no AVX2");
    return;
  }
  const auto& ms = messages();
  sluice::Md5Lanes lanes(backend);
  for (auto _ : state) {
    std::array<const void*, kLanes> p{};
    for (int l = 0; l < lanes_used; ++l) {
      lanes.start(l);
      p[static_cast<size_t>(l)] = ms[static_cast<size_t>(l)].data();
    }
    lanes.update(p, kSize / sluice::Md5Lanes::kBlockSize);
    for (int l = 0; l < lanes_used; ++l) benchmark::DoNotOptimize(lanes.finish(l));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kSize * static_cast<size_t>(lanes_used)));
}

// The argument: how many of the lanes have a message (1: the one-lane C++ path; 2-8: the kernel,
// whose time per block is the same however many lanes are busy).
void BM_Md5Lanes_Avx2_Nx8MiB(benchmark::State& state) {
  lanes_bench(state, sluice::Md5Lanes::Backend::kAvx2, static_cast<int>(state.range(0)));
}
void BM_Md5Lanes_Scalar_8x8MiB(benchmark::State& state) { lanes_bench(state, sluice::Md5Lanes::Backend::kScalar, 8); }
BENCHMARK(BM_Md5Lanes_Avx2_Nx8MiB)->Arg(8)->Arg(4)->Arg(2)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Md5Lanes_Scalar_8x8MiB)->Unit(benchmark::kMillisecond);

void BM_Md5HexMany_8x8MiB(benchmark::State& state) {
  const std::vector<std::string_view> views(messages().begin(), messages().end());
  for (auto _ : state) benchmark::DoNotOptimize(sluice::md5_hex_many(views));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kSize * kLanes));
}
BENCHMARK(BM_Md5HexMany_8x8MiB)->Unit(benchmark::kMillisecond);

// Files in the page cache: the verifier (pread into lane buffers) against what download.cpp does
// today for a file (1 MiB preads into OpenSSL), one file after another.
class Files {
 public:
  Files() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-md5-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    for (int i = 0; i < kLanes; ++i) {
      const std::string path = dir_ + "/f" + std::to_string(i);
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) fds_.push_back(fd);
      const std::string& m = messages()[static_cast<size_t>(i)];
      if (fd < 0 || ::write(fd, m.data(), m.size()) != static_cast<ssize_t>(m.size())) {
        clean_up();
        throw std::runtime_error("cannot write " + path);
      }
    }
  }
  ~Files() { clean_up(); }
  void clean_up() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::vector<int>& fds() const { return fds_; }

 private:
  std::string dir_;
  std::vector<int> fds_;
};

void BM_OpenSSL_Files_8x8MiB(benchmark::State& state) {
  Files files;
  std::string buf(1 << 20, '\0');
  for (auto _ : state) {
    for (int fd : files.fds()) {
      sluice::Digest d(sluice::Digest::Algo::kMd5);
      for (off_t off = 0;;) {
        ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
        if (n <= 0) break;
        d.update(buf.data(), static_cast<size_t>(n));
        off += n;
      }
      benchmark::DoNotOptimize(d.finish_raw());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kSize * kLanes));
}
BENCHMARK(BM_OpenSSL_Files_8x8MiB)->Unit(benchmark::kMillisecond);

void BM_Md5Verifier_Files_8x8MiB(benchmark::State& state) {
  Files files;
  sluice::transfer::Md5Verifier verifier(1, sluice::Md5Lanes::Backend::kAuto, static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    for (int fd : files.fds()) {
      verifier.submit(fd, kSize, [](std::string md5, std::exception_ptr) { benchmark::DoNotOptimize(md5); });
    }
    verifier.wait_idle();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kSize * kLanes));
}
BENCHMARK(BM_Md5Verifier_Files_8x8MiB)  // the argument: bytes read per lane at a time
    ->Arg(16 << 10)
    ->Arg(64 << 10)
    ->Arg(256 << 10)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
