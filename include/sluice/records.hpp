// Sluice record readers for training code: RecordIO, TFRecord and text lines, read from a Pipe
// mode FIFO (or any file descriptor or byte source) the way SageMaker's PipeModeDataset reads
// them. Header-only and self-contained (C++17 or later, POSIX): copy this one file into your
// project, or add Sluice's include/ to your include path. See docs/readers.md.
//
//   sluice::PipeChannel channel("training");         // FIFOs /opt/ml/input/data/training_<epoch>
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//     sluice::RecordIOReader reader(channel.next_epoch());
//     std::string record;
//     while (reader.next(record)) train_on(record);
//   }
//
// Framings (docs/readers.md, "The framing details", with their sources):
//   RecordIO  magic:u32=0xCED7230A  lrecord:u32=(cflag<<29)|length  payload  zero pad to 4 bytes.
//             cflag 0 is a whole record; parts with cflag 1, 2..., 3 are joined into one record
//             (payloads concatenated, no magic re-inserted, as SageMaker's TF reader does).
//             Padding bytes are skipped, not checked.
//   TFRecord  length:u64  masked_crc32c(length bytes):u32  payload  masked_crc32c(payload):u32;
//             both CRCs are checked. mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8.
//   TextLine  records end at '\n' (not part of the record, '\r' kept); a last line without '\n'
//             is a record too.
// All integers little-endian. next() returns false at a clean end of the stream (between two
// records); corrupt or truncated framing throws sluice::RecordError, whose offset() is the byte
// offset of the start of the record (the first part, for a multi-part RecordIO record) in the
// stream. A read error throws std::system_error. Interrupted reads (EINTR) are retried, and a
// non-blocking descriptor is waited for with poll().
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SLUICE_RECORDS_CRC32C_X86 1
#include <nmmintrin.h>
#endif

namespace sluice {

// Corrupt or truncated framing. what() reads like
// "TFRecord at byte 1234: bad data CRC (stored 0x..., computed 0x...)".
class RecordError : public std::runtime_error {
 public:
  RecordError(const std::string& format, uint64_t offset, const std::string& problem)
      : std::runtime_error(format + " at byte " + std::to_string(offset) + ": " + problem), offset_(offset) {}
  // Byte offset, in the stream, of the start of the record whose framing is wrong.
  uint64_t offset() const { return offset_; }

 private:
  uint64_t offset_;
};

// Reads up to `cap` bytes into `buf`; returns how many, 0 only at the end of the stream. May
// throw; the exception reaches the caller of next().
using ReadFunction = std::function<size_t(char* buf, size_t cap)>;

struct ReaderOptions {
  size_t buffer_size = 256 * 1024;                   // bytes read from the source at a time (at least 64 KiB is used)
  uint64_t max_record_size = uint64_t{1} << 32;      // a longer record (or line) is an error
};

namespace records_detail {

// ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slice-by-8, tables built at compile time.

constexpr std::array<std::array<uint32_t, 256>, 8> make_crc32c_tables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1u) ? 0x82F63B78u : 0u);
    t[0][b] = c;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xffu];
  }
  return t;
}
inline constexpr std::array<std::array<uint32_t, 256>, 8> kCrc32cTables = make_crc32c_tables();
static_assert(kCrc32cTables[0][1] == 0xF26B8303u, "CRC-32C table");

inline uint32_t load_le32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
inline uint64_t load_le64(const unsigned char* p) {
  return uint64_t{load_le32(p)} | uint64_t{load_le32(p + 4)} << 32;
}

// CRC-32C of data, continuing from `crc` (0 to start), with the tables only.
inline uint32_t crc32c_table(const void* data, size_t len, uint32_t crc = 0) {
  const auto* p = static_cast<const unsigned char*>(data);
  const auto& t = kCrc32cTables;
  uint32_t c = ~crc;
  for (; len >= 8; p += 8, len -= 8) {
    const uint32_t lo = load_le32(p) ^ c;
    const uint32_t hi = load_le32(p + 4);
    c = t[7][lo & 0xffu] ^ t[6][(lo >> 8) & 0xffu] ^ t[5][(lo >> 16) & 0xffu] ^ t[4][lo >> 24] ^
        t[3][hi & 0xffu] ^ t[2][(hi >> 8) & 0xffu] ^ t[1][(hi >> 16) & 0xffu] ^ t[0][hi >> 24];
  }
  for (; len > 0; ++p, --len) c = (c >> 8) ^ t[0][(c ^ *p) & 0xffu];
  return ~c;
}

#ifdef SLUICE_RECORDS_CRC32C_X86
__attribute__((target("sse4.2"))) inline uint32_t crc32c_sse42(const void* data, size_t len, uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t c = ~crc;
  for (; len >= 8; p += 8, len -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; len > 0; ++p, --len) c32 = _mm_crc32_u8(c32, *p);
  return ~c32;
}
inline bool crc32c_has_sse42() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return yes;
}
#endif

// CRC-32C of data, continuing from `crc`: the SSE4.2 instruction where the CPU has it, else the tables.
inline uint32_t crc32c(const void* data, size_t len, uint32_t crc = 0) {
#ifdef SLUICE_RECORDS_CRC32C_X86
  if (crc32c_has_sse42()) return crc32c_sse42(data, len, crc);
#endif
  return crc32c_table(data, len, crc);
}

inline uint32_t mask_crc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

inline std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// ---- Byte sources

// A ReadFunction over a file descriptor (not owned): EINTR retried, EAGAIN waited for with poll().
inline ReadFunction fd_read_function(int fd) {
  return [fd](char* buf, size_t cap) -> size_t {
    for (;;) {
      const ssize_t n = ::read(fd, buf, cap);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, -1) < 0 && errno != EINTR) {
          throw std::system_error(errno, std::generic_category(), "poll on record stream");
        }
        continue;
      }
      throw std::system_error(errno, std::generic_category(), "reading record stream");
    }
  };
}

// Buffered reads from a ReadFunction, counting the bytes consumed.
class BufferedInput {
 public:
  BufferedInput(ReadFunction read, size_t buffer_size)
      : read_(std::move(read)),
        size_(std::max<size_t>(buffer_size, 64 * 1024)),
        buf_(new char[size_]) {}

  // Bytes consumed so far: the offset of the next byte in the stream.
  uint64_t offset() const { return consumed_; }

  // The buffered bytes, reading more if none are buffered; empty only at the end of the stream.
  std::string_view peek() {
    if (begin_ == end_) fill();
    return std::string_view(buf_.get() + begin_, end_ - begin_);
  }
  void consume(size_t n) {
    begin_ += n;
    consumed_ += n;
  }

  // Copies up to n bytes into dst; fewer only at the end of the stream. Large reads go straight
  // from the source into dst.
  size_t read(char* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      if (begin_ == end_) {
        if (eof_) break;
        if (n - done >= size_) {  // read directly, no copy through the buffer
          const size_t got = source(dst + done, n - done);
          if (got == 0) break;
          done += got;
          consumed_ += got;
          continue;
        }
        if (!fill()) break;
      }
      const size_t k = std::min(n - done, end_ - begin_);
      std::memcpy(dst + done, buf_.get() + begin_, k);
      consume(k);
      done += k;
    }
    return done;
  }

  // Appends up to n bytes to s; fewer only at the end of the stream (s then holds what came).
  // s grows as the bytes come, at most 16 MiB ahead of them, so a corrupt length in a short
  // stream (a RecordIO header claiming 512 MiB, a TFRecord one claiming 4 GiB) is reported as
  // truncated without first allocating what it claims.
  size_t append(std::string& s, size_t n) {
    constexpr size_t kStep = size_t{16} << 20;
    size_t total = 0;
    while (total < n) {
      const size_t want = std::min(n - total, kStep);
      const size_t old = s.size();
      s.resize(old + want);
      const size_t got = read(s.data() + old, want);
      s.resize(old + got);
      total += got;
      if (got < want) break;
    }
    return total;
  }

  size_t skip(size_t n) {
    char tmp[8];
    size_t done = 0;
    while (done < n) {
      const size_t got = read(tmp, std::min(n - done, sizeof tmp));
      if (got == 0) break;
      done += got;
    }
    return done;
  }

 private:
  size_t source(char* dst, size_t n) {
    if (eof_) return 0;
    const size_t got = read_(dst, n);
    if (got == 0) eof_ = true;
    return got;
  }
  bool fill() {
    begin_ = end_ = 0;
    end_ = source(buf_.get(), size_);
    return end_ > 0;
  }

  ReadFunction read_;
  size_t size_;
  std::unique_ptr<char[]> buf_;
  size_t begin_ = 0, end_ = 0;
  uint64_t consumed_ = 0;
  bool eof_ = false;  // the source said end of stream; it is not asked again
};

}  // namespace records_detail

// ---------------------------------------------------------------------------------------------

// MXNet/dmlc RecordIO, as written by RecordWrapperType=RecordIO.
class RecordIOReader {
 public:
  static constexpr uint32_t kMagic = 0xCED7230Au;

  explicit RecordIOReader(int fd, ReaderOptions options = {})
      : RecordIOReader(records_detail::fd_read_function(fd), options) {}
  explicit RecordIOReader(ReadFunction read, ReaderOptions options = {})
      : in_(std::move(read), options.buffer_size), max_(options.max_record_size) {}

  // The next record into `record` (replacing its contents); false at a clean end of the stream.
  bool next(std::string& record) {
    record.clear();
    const uint64_t start = in_.offset();
    bool in_multi = false;
    for (;;) {
      const uint64_t part = in_.offset();
      unsigned char h[8];
      const size_t n = in_.read(reinterpret_cast<char*>(h), 8);
      if (n == 0 && !in_multi) return false;
      if (n == 0) fail(start, part, "the stream ends inside a multi-part record (no part with cflag 3)");
      if (n < 8) fail(start, part, "truncated header (" + std::to_string(n) + " of 8 bytes)");
      const uint32_t magic = records_detail::load_le32(h);
      if (magic != kMagic) {
        fail(start, part,
             "bad magic " + records_detail::hex32(magic) + " (expected 0xced7230a" +
                 (magic == 0x3ed7230au ? "; this is the old dmlc RecordIO format)" : ")"));
      }
      const uint32_t lrecord = records_detail::load_le32(h + 4);
      const uint32_t cflag = lrecord >> 29;
      const uint32_t length = lrecord & ((1u << 29) - 1);
      if (cflag > 3) fail(start, part, "bad cflag " + std::to_string(cflag));
      if (!in_multi && cflag >= 2) {
        fail(start, part, "cflag " + std::to_string(cflag) + " (a later part) without a first part (cflag 1)");
      }
      if (in_multi && cflag < 2) {
        fail(start, part, "cflag " + std::to_string(cflag) + " inside a multi-part record (expected 2 or 3)");
      }
      if (record.size() + uint64_t{length} > max_) {
        fail(start, part, "record longer than the limit of " + std::to_string(max_) + " bytes");
      }
      const size_t got = in_.append(record, length);
      if (got < length) {
        fail(start, part, "truncated payload (" + std::to_string(got) + " of " + std::to_string(length) + " bytes)");
      }
      const size_t pad = (4 - length % 4) % 4;
      const size_t padded = in_.skip(pad);
      if (padded < pad) {
        fail(start, part, "truncated padding (" + std::to_string(padded) + " of " + std::to_string(pad) + " bytes)");
      }
      if (cflag == 0 || cflag == 3) return true;
      in_multi = true;
    }
  }

  // Bytes consumed from the stream so far.
  uint64_t offset() const { return in_.offset(); }

 private:
  [[noreturn]] static void fail(uint64_t start, uint64_t part, const std::string& problem) {
    if (part == start) throw RecordError("RecordIO record", start, problem);
    throw RecordError("RecordIO record", start, "part at byte " + std::to_string(part) + ": " + problem);
  }

  records_detail::BufferedInput in_;
  uint64_t max_;
};

// TFRecord (TensorFlow's record framing).
class TFRecordReader {
 public:
  explicit TFRecordReader(int fd, ReaderOptions options = {})
      : TFRecordReader(records_detail::fd_read_function(fd), options) {}
  explicit TFRecordReader(ReadFunction read, ReaderOptions options = {})
      : in_(std::move(read), options.buffer_size), max_(options.max_record_size) {}

  bool next(std::string& record) {
    record.clear();
    const uint64_t start = in_.offset();
    unsigned char h[12];
    const size_t n = in_.read(reinterpret_cast<char*>(h), 12);
    if (n == 0) return false;
    if (n < 12) fail(start, "truncated header (" + std::to_string(n) + " of 12 bytes)");
    const uint64_t length = records_detail::load_le64(h);
    const uint32_t stored = records_detail::load_le32(h + 8);
    const uint32_t computed = records_detail::mask_crc(records_detail::crc32c(h, 8));
    if (stored != computed) {
      fail(start, "bad length CRC (stored " + records_detail::hex32(stored) + ", computed " +
                      records_detail::hex32(computed) + ")");
    }
    if (length > max_) {
      fail(start, "length " + std::to_string(length) + " is over the limit of " + std::to_string(max_) + " bytes");
    }
    const size_t got = in_.append(record, static_cast<size_t>(length));
    if (got < length) {
      fail(start, "truncated data (" + std::to_string(got) + " of " + std::to_string(length) + " bytes)");
    }
    unsigned char f[4];
    const size_t fn = in_.read(reinterpret_cast<char*>(f), 4);
    if (fn < 4) fail(start, "truncated data CRC (" + std::to_string(fn) + " of 4 bytes)");
    const uint32_t stored_data = records_detail::load_le32(f);
    const uint32_t computed_data = records_detail::mask_crc(records_detail::crc32c(record.data(), record.size()));
    if (stored_data != computed_data) {
      fail(start, "bad data CRC (stored " + records_detail::hex32(stored_data) + ", computed " +
                      records_detail::hex32(computed_data) + ")");
    }
    return true;
  }

  uint64_t offset() const { return in_.offset(); }

 private:
  [[noreturn]] static void fail(uint64_t start, const std::string& problem) {
    throw RecordError("TFRecord", start, problem);
  }

  records_detail::BufferedInput in_;
  uint64_t max_;
};

// Lines split at '\n'.
class TextLineReader {
 public:
  explicit TextLineReader(int fd, ReaderOptions options = {})
      : TextLineReader(records_detail::fd_read_function(fd), options) {}
  explicit TextLineReader(ReadFunction read, ReaderOptions options = {})
      : in_(std::move(read), options.buffer_size), max_(options.max_record_size) {}

  bool next(std::string& record) {
    record.clear();
    const uint64_t start = in_.offset();
    for (;;) {
      const std::string_view avail = in_.peek();
      if (avail.empty()) return in_.offset() > start;  // the end: a last line without '\n', or nothing
      const void* nl = std::memchr(avail.data(), '\n', avail.size());
      const size_t take = nl ? static_cast<size_t>(static_cast<const char*>(nl) - avail.data()) : avail.size();
      if (record.size() + uint64_t{take} > max_) {
        throw RecordError("line", start, "longer than the limit of " + std::to_string(max_) + " bytes");
      }
      record.append(avail.data(), take);
      in_.consume(nl ? take + 1 : take);
      if (nl) return true;
    }
  }

  uint64_t offset() const { return in_.offset(); }

 private:
  records_detail::BufferedInput in_;
  uint64_t max_;
};

// ---------------------------------------------------------------------------------------------

// One Pipe mode channel: its FIFOs <data_dir>/<channel>_0, _1, ..., one per epoch, read in order.
// The channel owns the descriptor it opened last and closes it on the next open, close() or
// destruction; do not close it yourself (release() hands it over).
class PipeChannel {
 public:
  // data_dir: the parent of $SM_CHANNEL_<CHANNEL> when that is set (the toolkit sets it to
  // /opt/ml/input/data/<channel> for Pipe channels too), else /opt/ml/input/data.
  explicit PipeChannel(std::string channel) : PipeChannel(channel, default_data_dir(channel)) {}
  PipeChannel(std::string channel, std::string data_dir)
      : channel_(std::move(channel)), data_dir_(std::move(data_dir)) {}
  ~PipeChannel() { close(); }
  PipeChannel(const PipeChannel&) = delete;
  PipeChannel& operator=(const PipeChannel&) = delete;
  PipeChannel(PipeChannel&& o) noexcept
      : channel_(std::move(o.channel_)), data_dir_(std::move(o.data_dir_)), fd_(std::exchange(o.fd_, -1)),
        next_epoch_(o.next_epoch_) {}
  PipeChannel& operator=(PipeChannel&& o) noexcept {
    if (this != &o) {
      close();
      channel_ = std::move(o.channel_);
      data_dir_ = std::move(o.data_dir_);
      fd_ = std::exchange(o.fd_, -1);
      next_epoch_ = o.next_epoch_;
    }
    return *this;
  }

  const std::string& channel() const { return channel_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string path(int epoch) const { return data_dir_ + "/" + channel_ + "_" + std::to_string(epoch); }

  // Closes the previously opened descriptor first (so a writer still blocked on an epoch left
  // early sees EPIPE and can move on), waits until <data_dir>/<channel>_<epoch> exists (checking
  // every 100 ms; the FIFO of the next epoch is not always created in advance), then opens it
  // read-only, which returns once the writer has its end open. Returns the descriptor. Throws
  // std::runtime_error naming the path if it does not appear within `timeout`, and
  // std::system_error if it cannot be opened.
  int open_epoch(int epoch, std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
    if (epoch < 0) throw std::invalid_argument("PipeChannel: negative epoch " + std::to_string(epoch));
    close();
    const std::string p = path(epoch);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      struct stat st;
      if (::stat(p.c_str(), &st) == 0) break;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        throw std::runtime_error("Pipe mode: " + p + " did not appear within " +
                                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
                                 " ms");
      }
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(100), deadline - now));
    }
    int fd;
    do {
      fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "Pipe mode: opening " + p);
    fd_ = fd;
    next_epoch_ = epoch + 1;
    return fd;
  }

  // Opens the next epoch in order: 0 first, then the one after the epoch opened last.
  int next_epoch(std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
    return open_epoch(next_epoch_, timeout);
  }

  // A reader (RecordIOReader, TFRecordReader, TextLineReader) over the next epoch's FIFO.
  template <class Reader>
  Reader next_reader(std::chrono::milliseconds timeout = std::chrono::seconds(120), ReaderOptions options = {}) {
    return Reader(next_epoch(timeout), options);
  }

  // The descriptor opened last, -1 if none.
  int fd() const { return fd_; }
  // The epoch next_epoch() opens.
  int upcoming_epoch() const { return next_epoch_; }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Hands the current descriptor over to the caller, who closes it.
  int release() { return std::exchange(fd_, -1); }

  static std::string default_data_dir(const std::string& channel) {
    std::string var = "SM_CHANNEL_";
    for (char c : channel) var += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    const char* value = std::getenv(var.c_str());
    if (value == nullptr || *value == '\0') return "/opt/ml/input/data";
    std::string dir = value;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    const size_t slash = dir.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return dir.substr(0, slash);
  }

 private:
  std::string channel_;
  std::string data_dir_;
  int fd_ = -1;
  int next_epoch_ = 0;
};

}  // namespace sluice
