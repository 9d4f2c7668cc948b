// include/sluice/records.hpp, the header-only readers for training code: the worked vectors,
// round trips with formats::RecordIOWrapper over pipe(2) with a writer thread writing odd piece
// sizes, multi-part records, every corruption case with its offset, text lines, empty streams,
// one-byte reads, EINTR and non-blocking descriptors, PipeChannel on a real FIFO that appears
// late and on one that never does, and the header's own CRC-32C against src/core's.
#include "sluice/records.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/crc32c.hpp"
#include "formats/recordio.hpp"
#include "support/temp_dir.hpp"
#include "support/watchdog.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using formats::RecordIOWrapper;
using testing::TempDir;
using testing::Watchdog;

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i < h.size();) {
    if (h[i] == ' ') {
      ++i;
      continue;
    }
    out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

std::string le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::string le64(uint64_t v) { return le32(static_cast<uint32_t>(v)) + le32(static_cast<uint32_t>(v >> 32)); }

// A RecordIO header with any magic, cflag and length.
std::string rio_header(uint32_t cflag, uint32_t length, uint32_t magic = 0xCED7230Au) {
  return le32(magic) + le32((cflag << 29) | length);
}
std::string rio(const std::string& payload) { return formats::recordio_record(payload); }

// TFRecord written with src/core's CRC (independent of the header under test).
std::string tfr(const std::string& payload) {
  const std::string len = le64(payload.size());
  return len + le32(mask_crc32c(crc32c(len))) + payload + le32(mask_crc32c(crc32c(payload)));
}

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// A ReadFunction over a string, at most `chunk` bytes per call.
ReadFunction string_source(std::string data, size_t chunk = SIZE_MAX) {
  auto pos = std::make_shared<size_t>(0);
  auto d = std::make_shared<std::string>(std::move(data));
  return [pos, d, chunk](char* buf, size_t cap) -> size_t {
    const size_t n = std::min({cap, chunk, d->size() - *pos});
    std::memcpy(buf, d->data() + *pos, n);
    *pos += n;
    return n;
  };
}

template <class Reader>
std::vector<std::string> read_all(Reader& r) {
  std::vector<std::string> out;
  std::string rec;
  while (r.next(rec)) out.push_back(rec);
  EXPECT_FALSE(r.next(rec)) << "the end stays the end";
  return out;
}

template <class Reader>
std::vector<std::string> read_string(const std::string& data, size_t chunk = SIZE_MAX, ReaderOptions o = {}) {
  Reader r(string_source(data, chunk), o);
  return read_all(r);
}

// The RecordError that reading `data` to the end throws.
template <class Reader>
RecordError error_of(const std::string& data, ReaderOptions o = {}) {
  Reader r(string_source(data), o);
  std::string rec;
  try {
    while (r.next(rec)) {
    }
  } catch (const RecordError& e) {
    return e;
  }
  ADD_FAILURE() << "no RecordError";
  return RecordError("none", 0, "none");
}

void expect_error(const RecordError& e, uint64_t offset, const std::string& words) {
  EXPECT_EQ(e.offset(), offset) << e.what();
  const std::string what = e.what();
  EXPECT_NE(what.find("at byte " + std::to_string(offset) + ":"), std::string::npos) << what;
  EXPECT_NE(what.find(words), std::string::npos) << "expected \"" << words << "\" in: " << what;
}

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    ASSERT_GT(w, 0) << strerror(errno);
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// Writes `data` to fd in pieces whose sizes cycle through `pieces`.
void write_pieces(int fd, const std::string& data, const std::vector<size_t>& pieces) {
  size_t pos = 0;
  for (size_t i = 0; pos < data.size(); ++i) {
    const size_t n = std::min(pieces[i % pieces.size()], data.size() - pos);
    write_all(fd, data.data() + pos, n);
    pos += n;
  }
}

const std::vector<size_t> kOddPieces = {1, 7, 13, 4093, 65537, 3, 100003, 29};

std::vector<std::string> sample_payloads() {
  std::vector<std::string> p = {"", "a", "ab", "abc", "abcd", "abcde"};
  std::mt19937 rng(11);
  for (int i = 0; i < 40; ++i) p.push_back(random_bytes(rng() % 5000, i));
  p.push_back(random_bytes(300000, 100));   // larger than the read buffer
  p.push_back(random_bytes(1 << 20, 101));  // 1 MiB
  p.push_back(std::string(70000, '\0'));
  return p;
}

// ---- CRC-32C

TEST(RecordsCrc32c, MatchesCoreOnRandomData) {
  const char* check = "123456789";
  EXPECT_EQ(records_detail::crc32c_table(check, 9), 0xE3069283u);
  EXPECT_EQ(records_detail::crc32c(check, 9), 0xE3069283u);
  std::mt19937 rng(3);
  for (int i = 0; i < 500; ++i) {
    const size_t n = rng() % 5000;
    const std::string data = random_bytes(n, i);
    const uint32_t seed = (i % 3 == 0) ? 0 : static_cast<uint32_t>(rng());
    const uint32_t want = sluice::crc32c(data.data(), n, seed);
    EXPECT_EQ(records_detail::crc32c_table(data.data(), n, seed), want) << n;
    EXPECT_EQ(records_detail::crc32c(data.data(), n, seed), want) << n;
    // Unaligned starts too.
    if (n > 3) {
      EXPECT_EQ(records_detail::crc32c(data.data() + 3, n - 3), sluice::crc32c(data.data() + 3, n - 3));
    }
    EXPECT_EQ(records_detail::mask_crc(want), mask_crc32c(want));
  }
}

// ---- vectors

TEST(RecordReaders, WorkedVectors) {
  const std::string tf_abc = unhex("03 00 00 00 00 00 00 00 b0 99 49 0e 61 62 63 6e 57 f1 21");
  const std::string tf_empty = unhex("00 00 00 00 00 00 00 00 29 03 98 07 d8 ea 82 a2");
  const std::string rio_abc = unhex("0a 23 d7 ce 03 00 00 00 61 62 63 00");
  const std::string rio_empty = unhex("0a 23 d7 ce 00 00 00 00");
  EXPECT_EQ(tfr("abc"), tf_abc);
  EXPECT_EQ(tfr(""), tf_empty);
  using V = std::vector<std::string>;
  EXPECT_EQ(read_string<TFRecordReader>(tf_abc), V{"abc"});
  EXPECT_EQ(read_string<TFRecordReader>(tf_empty), V{""});
  EXPECT_EQ(read_string<TFRecordReader>(tf_abc + tf_empty + tf_abc), (V{"abc", "", "abc"}));
  EXPECT_EQ(read_string<RecordIOReader>(rio_abc), V{"abc"});
  EXPECT_EQ(read_string<RecordIOReader>(rio_empty), V{""});
  EXPECT_EQ(read_string<RecordIOReader>(rio_empty + rio_abc + rio_empty), (V{"", "abc", ""}));
}

TEST(RecordReaders, EmptyStreams) {
  EXPECT_TRUE(read_string<RecordIOReader>("").empty());
  EXPECT_TRUE(read_string<TFRecordReader>("").empty());
  EXPECT_TRUE(read_string<TextLineReader>("").empty());
}

TEST(RecordReaders, OneByteReadsAndTinyChunks) {
  const auto payloads = sample_payloads();
  std::string rio_stream, tf_stream, text_stream;
  std::vector<std::string> lines;
  for (size_t i = 0; i < 20; ++i) {
    rio_stream += rio(payloads[i]);
    tf_stream += tfr(payloads[i]);
    lines.push_back(std::string(i * 37 % 300, static_cast<char>('a' + i)));
    text_stream += lines.back() + "\n";
  }
  const std::vector<std::string> want(payloads.begin(), payloads.begin() + 20);
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{5}, size_t{4096}}) {
    EXPECT_EQ(read_string<RecordIOReader>(rio_stream, chunk), want) << chunk;
    EXPECT_EQ(read_string<TFRecordReader>(tf_stream, chunk), want) << chunk;
    EXPECT_EQ(read_string<TextLineReader>(text_stream, chunk), lines) << chunk;
  }
}

TEST(RecordReaders, OffsetCountsConsumedBytes) {
  RecordIOReader r(string_source(rio("abc") + rio("hello")));
  std::string rec;
  EXPECT_EQ(r.offset(), 0u);
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(r.offset(), 12u);
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(r.offset(), 28u);
}

// ---- round trips over pipe(2)

// Runs `writer(write_fd)` in a thread and reads everything with Reader from the read end.
template <class Reader>
std::vector<std::string> through_pipe(const std::function<void(int)>& writer, ReaderOptions o = {}) {
  Watchdog watchdog(60s);
  int p[2];
  EXPECT_EQ(::pipe(p), 0);
  std::thread t([&] {
    writer(p[1]);
    ::close(p[1]);
  });
  std::vector<std::string> got;
  try {
    Reader r(p[0], o);
    got = read_all(r);
  } catch (...) {
    ::close(p[0]);  // unblocks the writer (EPIPE; SIGPIPE is ignored below)
    t.join();
    throw;
  }
  ::close(p[0]);
  t.join();
  return got;
}

class PipeRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override { old_ = ::signal(SIGPIPE, SIG_IGN); }
  void TearDown() override { ::signal(SIGPIPE, old_); }
  void (*old_)(int) = nullptr;
};

// Every payload wrapped by RecordIOWrapper, fed in odd piece sizes, each emitted piece written
// to the pipe as it comes.
void write_wrapped(int fd, const std::vector<std::string>& payloads, uint64_t part_size) {
  size_t k = 0;
  auto emit = [&](const char* p, size_t n) { write_all(fd, p, n); };
  for (const auto& payload : payloads) {
    RecordIOWrapper w(payload.size(), part_size);
    size_t pos = 0;
    while (pos < payload.size()) {
      const size_t n = std::min(kOddPieces[k++ % kOddPieces.size()], payload.size() - pos);
      w.feed(payload.data() + pos, n, emit);
      pos += n;
    }
    w.finish(emit);
  }
}

TEST_F(PipeRoundTrip, RecordIOFromTheWrapper) {
  const auto payloads = sample_payloads();
  EXPECT_EQ(through_pipe<RecordIOReader>([&](int fd) { write_wrapped(fd, payloads, RecordIOWrapper::kMaxPart); }),
            payloads);
}

TEST_F(PipeRoundTrip, MultiPartRecordIOIsJoined) {
  const auto payloads = sample_payloads();
  const std::vector<std::string> small(payloads.begin(), payloads.end() - 3);  // 4-byte parts: one write each
  for (uint64_t part : {uint64_t{4}, uint64_t{8}, uint64_t{4096}, uint64_t{65536}}) {
    const auto& want = part < 4096 ? small : payloads;
    EXPECT_EQ(through_pipe<RecordIOReader>([&](int fd) { write_wrapped(fd, want, part); }), want)
        << "part size " << part;
  }
}

TEST_F(PipeRoundTrip, MultiPartByHand) {
  // TFX's write_recordio_multipart: plain splitting, flags 1, 2..., 3, each part padded by itself.
  const std::string stream = rio_header(1, 3) + "abc" + std::string(1, '\0') + rio_header(2, 2) + "de" +
                             std::string(2, '\0') + rio_header(3, 1) + "f" + std::string(3, '\0') +
                             rio("next") + rio_header(1, 0) + rio_header(3, 0);
  EXPECT_EQ(read_string<RecordIOReader>(stream), (std::vector<std::string>{"abcdef", "next", ""}));
}

TEST_F(PipeRoundTrip, TFRecord) {
  const auto payloads = sample_payloads();
  std::string stream;
  for (const auto& p : payloads) stream += tfr(p);
  EXPECT_EQ(through_pipe<TFRecordReader>([&](int fd) { write_pieces(fd, stream, kOddPieces); }), payloads);
}

TEST_F(PipeRoundTrip, TextLines) {
  std::vector<std::string> lines = {"first", "", "with\rcarriage return", std::string(500000, 'x'), "last"};
  std::string stream;
  for (const auto& l : lines) stream += l + "\n";
  EXPECT_EQ(through_pipe<TextLineReader>([&](int fd) { write_pieces(fd, stream, kOddPieces); }), lines);
  stream.pop_back();  // the last line without its '\n'
  EXPECT_EQ(through_pipe<TextLineReader>([&](int fd) { write_pieces(fd, stream, kOddPieces); }), lines);
}

TEST(TextLineReader, Lines) {
  using V = std::vector<std::string>;
  EXPECT_EQ(read_string<TextLineReader>("a\nb\n"), (V{"a", "b"}));
  EXPECT_EQ(read_string<TextLineReader>("a\nb"), (V{"a", "b"}));
  EXPECT_EQ(read_string<TextLineReader>("a"), (V{"a"}));
  EXPECT_EQ(read_string<TextLineReader>("\n"), (V{""}));
  EXPECT_EQ(read_string<TextLineReader>("\n\n"), (V{"", ""}));
  EXPECT_EQ(read_string<TextLineReader>("a\r\n"), (V{"a\r"}));
  ReaderOptions o;
  o.max_record_size = 4;
  EXPECT_EQ(read_string<TextLineReader>("abcd\nefgh", SIZE_MAX, o), (V{"abcd", "efgh"}));
  expect_error(error_of<TextLineReader>("abcd\nabcde\n", o), 5, "longer than the limit of 4 bytes");
}

// ---- corruption: RecordIO (the bad record follows a good 12-byte one, so it starts at byte 12)

TEST(RecordIOReaderErrors, EveryCase) {
  const std::string good = rio("abc");
  const std::string hello = rio("hello");  // 8 + 5 + 3 padding
  struct Case {
    std::string tail;
    uint64_t offset;
    std::string words;
  };
  const std::vector<Case> cases = {
      {rio_header(0, 3, 0xCED7230Bu) + "abc" + std::string(1, '\0'), 12, "bad magic 0xced7230b (expected 0xced7230a)"},
      {rio_header(0, 3, 0x3ED7230Au) + "abc" + std::string(1, '\0'), 12, "old dmlc RecordIO format"},
      {"garbage!", 12, "bad magic"},
      {hello.substr(0, 5), 12, "truncated header (5 of 8 bytes)"},
      {hello.substr(0, 11), 12, "truncated payload (3 of 5 bytes)"},
      {hello.substr(0, 8), 12, "truncated payload (0 of 5 bytes)"},
      {hello.substr(0, 14), 12, "truncated padding (1 of 3 bytes)"},
      {rio_header(2, 4) + "abcd", 12, "cflag 2 (a later part) without a first part (cflag 1)"},
      {rio_header(3, 4) + "abcd", 12, "cflag 3 (a later part) without a first part"},
      {rio_header(5, 4) + "abcd", 12, "bad cflag 5"},
      {rio_header(7, 4) + "abcd", 12, "bad cflag 7"},
      {rio_header(1, 4) + "abcd" + rio_header(0, 4) + "efgh", 12, "part at byte 24: cflag 0 inside a multi-part record"},
      {rio_header(1, 4) + "abcd" + rio_header(1, 4) + "efgh", 12, "part at byte 24: cflag 1 inside a multi-part record"},
      {rio_header(1, 4) + "abcd", 12, "part at byte 24: the stream ends inside a multi-part record"},
      {rio_header(1, 4) + "abcd" + rio_header(2, 4) + "ef", 12, "part at byte 24: truncated payload (2 of 4 bytes)"},
      {rio_header(1, 4) + "abcd" + "xxxxxxxx", 12, "part at byte 24: bad magic"},
      {rio_header(1, 4) + "abcd" + rio_header(2, 4).substr(0, 3), 12, "part at byte 24: truncated header (3 of 8 bytes)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.words);
    const RecordError e = error_of<RecordIOReader>(good + c.tail);
    expect_error(e, c.offset, c.words);
    EXPECT_EQ(std::string(e.what()).rfind("RecordIO record at byte 12: ", 0), 0u) << e.what();
  }
}

TEST(RecordIOReaderErrors, GoodRecordsBeforeTheBadOneAreReturned) {
  RecordIOReader r(string_source(rio("abc") + rio("de") + "bad!bad!"));
  std::string rec;
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec, "abc");
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec, "de");
  try {
    r.next(rec);
    FAIL();
  } catch (const RecordError& e) {
    EXPECT_EQ(e.offset(), 24u);
  }
}

TEST(RecordIOReaderErrors, RecordLongerThanTheLimit) {
  ReaderOptions o;
  o.max_record_size = 10;
  EXPECT_EQ(read_string<RecordIOReader>(rio("0123456789"), SIZE_MAX, o).size(), 1u);
  expect_error(error_of<RecordIOReader>(rio("abc") + rio("0123456789a"), o), 12, "record longer than the limit of 10 bytes");
  // The joined parts count: 8 + 4 > 10, found at the second part.
  expect_error(error_of<RecordIOReader>(rio_header(1, 8) + "01234567" + rio_header(3, 4) + "89ab", o), 0,
               "part at byte 16: record longer than the limit");
}

// A corrupt length in a short stream is reported as truncated without first allocating the
// claimed length: the record string grows only as bytes come (16 MiB steps).
TEST(RecordReaderErrors, ClaimedLengthIsNotAllocatedBeforeTheBytesCome) {
  std::string rec;
  {
    RecordIOReader r(string_source(rio_header(0, (1u << 29) - 1) + "abc"));
    try {
      r.next(rec);
      ADD_FAILURE() << "no error";
    } catch (const RecordError& e) {
      EXPECT_NE(std::string(e.what()).find("truncated payload (3 of 536870911 bytes)"), std::string::npos) << e.what();
    }
    EXPECT_LT(rec.capacity(), size_t{32} << 20) << "a 512 MiB claim in an 11-byte stream allocated it";
  }
  {
    const std::string len = le64(uint64_t{1} << 30);  // 1 GiB, under the default 4 GiB limit, valid CRC
    TFRecordReader r(string_source(len + le32(mask_crc32c(crc32c(len))) + "abc"));
    std::string big;
    try {
      r.next(big);
      ADD_FAILURE() << "no error";
    } catch (const RecordError& e) {
      EXPECT_NE(std::string(e.what()).find("truncated data (3 of 1073741824 bytes)"), std::string::npos) << e.what();
    }
    EXPECT_LT(big.capacity(), size_t{32} << 20) << "a 1 GiB claim in a 15-byte stream allocated it";
  }
}

// ---- corruption: TFRecord (the bad record follows the 19-byte "abc" one)

TEST(TFRecordReaderErrors, EveryCase) {
  const std::string good = tfr("abc");
  const std::string hello = tfr("hello");  // 12 + 5 + 4
  std::string bad_len_crc = hello;
  bad_len_crc[9] ^= 0x01;
  std::string changed_len = hello;
  changed_len[0] = 6;
  std::string bad_data = hello;
  bad_data[13] ^= 0x20;
  std::string bad_data_crc = hello;
  bad_data_crc[hello.size() - 1] ^= 0x80;
  const std::string huge_len = le64(uint64_t{1} << 40);
  const std::string huge = huge_len + le32(mask_crc32c(crc32c(huge_len))) + "whatever";
  struct Case {
    std::string tail;
    std::string words;
  };
  const std::vector<Case> cases = {
      {hello.substr(0, 7), "truncated header (7 of 12 bytes)"},
      {hello.substr(0, 11), "truncated header (11 of 12 bytes)"},
      {bad_len_crc, "bad length CRC (stored 0x"},
      {changed_len, "bad length CRC"},
      {huge, "length 1099511627776 is over the limit of 4294967296 bytes"},
      {hello.substr(0, 15), "truncated data (3 of 5 bytes)"},
      {hello.substr(0, 12), "truncated data (0 of 5 bytes)"},
      {hello.substr(0, 18), "truncated data CRC (1 of 4 bytes)"},
      {hello.substr(0, 17), "truncated data CRC (0 of 4 bytes)"},
      {bad_data, "bad data CRC (stored 0x"},
      {bad_data_crc, "bad data CRC"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.words);
    const RecordError e = error_of<TFRecordReader>(good + c.tail);
    expect_error(e, 19, c.words);
    EXPECT_EQ(std::string(e.what()).rfind("TFRecord at byte 19: ", 0), 0u) << e.what();
  }
  ReaderOptions o;
  o.max_record_size = 4;
  expect_error(error_of<TFRecordReader>(hello, o), 0, "length 5 is over the limit of 4 bytes");
}

// ---- descriptors: EINTR, non-blocking, read errors

std::atomic<int> g_signals{0};

TEST(RecordReaders, InterruptedReadsAreRetried) {
  Watchdog watchdog(30s);
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_signals.fetch_add(1); };
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: read() returns EINTR
  struct sigaction old {};
  ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::vector<std::string> got;
  std::atomic<bool> started{false};
  std::thread reader([&] {
    started = true;
    RecordIOReader r(p[0]);
    got = read_all(r);
  });
  while (!started) std::this_thread::yield();
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(20ms);
    pthread_kill(reader.native_handle(), SIGUSR1);
  }
  const std::string stream = rio("abc") + rio("defgh");
  write_all(p[1], stream.data(), 7);
  std::this_thread::sleep_for(20ms);
  pthread_kill(reader.native_handle(), SIGUSR1);
  std::this_thread::sleep_for(20ms);
  write_all(p[1], stream.data() + 7, stream.size() - 7);
  ::close(p[1]);
  reader.join();
  ::close(p[0]);
  ::sigaction(SIGUSR1, &old, nullptr);
  EXPECT_GE(g_signals.load(), 1);
  EXPECT_EQ(got, (std::vector<std::string>{"abc", "defgh"}));
}

TEST(RecordReaders, NonBlockingDescriptorIsWaitedFor) {
  Watchdog watchdog(30s);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::fcntl(p[0], F_SETFL, ::fcntl(p[0], F_GETFL) | O_NONBLOCK), 0);
  std::thread writer([&] {
    std::this_thread::sleep_for(100ms);
    const std::string s = "one\ntwo";
    write_all(p[1], s.data(), 4);
    std::this_thread::sleep_for(50ms);
    write_all(p[1], s.data() + 4, 3);
    ::close(p[1]);
  });
  TextLineReader r(p[0]);
  EXPECT_EQ(read_all(r), (std::vector<std::string>{"one", "two"}));
  writer.join();
  ::close(p[0]);
}

TEST(RecordReaders, ReadErrorIsASystemError) {
  TFRecordReader r(-1);
  std::string rec;
  EXPECT_THROW(r.next(rec), std::system_error);
}

TEST(RecordReaders, SourceExceptionsReachTheCaller) {
  RecordIOReader r([](char*, size_t) -> size_t { throw std::runtime_error("source broke"); });
  std::string rec;
  EXPECT_THROW(r.next(rec), std::runtime_error);
}

// ---- PipeChannel

class PipeChannelTest : public PipeRoundTrip {};

TEST_F(PipeChannelTest, WaitsForAFifoThatAppearsLater) {
  Watchdog watchdog(60s);
  TempDir dir("sluice-pipe");
  PipeChannel channel("training", dir.path());
  const std::vector<std::vector<std::string>> epochs = {{"a", "bb", "ccc"}, {"", random_bytes(200000, 5)}, {"last"}};
  std::thread writer([&] {
    std::this_thread::sleep_for(300ms);
    for (size_t e = 0; e < epochs.size(); ++e) {
      const std::string path = dir / ("training_" + std::to_string(e));
      ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
      const int fd = ::open(path.c_str(), O_WRONLY);  // returns once the reader has it open
      ASSERT_GE(fd, 0);
      write_wrapped(fd, epochs[e], RecordIOWrapper::kMaxPart);
      ::close(fd);
    }
  });
  const auto t0 = std::chrono::steady_clock::now();
  const int fd0 = channel.next_epoch(10s);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 250ms);
  EXPECT_EQ(channel.fd(), fd0);
  EXPECT_EQ(channel.upcoming_epoch(), 1);
  {
    RecordIOReader r(fd0);
    EXPECT_EQ(read_all(r), epochs[0]);
  }
  {
    RecordIOReader r(channel.next_epoch(std::chrono::seconds(10)));
    EXPECT_EQ(read_all(r), epochs[1]);
  }
  {
    auto r = channel.next_reader<RecordIOReader>(10s);
    EXPECT_EQ(read_all(r), epochs[2]);
  }
  EXPECT_EQ(channel.upcoming_epoch(), 3);
  writer.join();
  channel.close();
  EXPECT_EQ(channel.fd(), -1);
}

// The reader leaves epoch 0 early; a writer that creates epoch 1 only once epoch 0 is done (it
// sees EPIPE) is not waited for in a deadlock: next_epoch() closes epoch 0 before it waits.
TEST_F(PipeChannelTest, LeavingAnEpochEarlyReleasesTheWriter) {
  Watchdog watchdog(60s);
  TempDir dir("sluice-pipe");
  PipeChannel channel("train", dir.path());
  std::atomic<bool> saw_epipe{false};
  std::thread writer([&] {
    const std::string p0 = dir / "train_0";
    ASSERT_EQ(::mkfifo(p0.c_str(), 0600), 0);
    const int fd = ::open(p0.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const std::string line = std::string(1000, 'x') + "\n";
    for (;;) {  // an endless epoch, until the reader goes away
      const ssize_t w = ::write(fd, line.data(), line.size());
      if (w < 0 && errno == EPIPE) break;
      ASSERT_TRUE(w > 0 || errno == EINTR) << strerror(errno);
    }
    saw_epipe = true;
    ::close(fd);
    const std::string p1 = dir / "train_1";
    ASSERT_EQ(::mkfifo(p1.c_str(), 0600), 0);
    const int fd1 = ::open(p1.c_str(), O_WRONLY);
    ASSERT_GE(fd1, 0);
    write_all(fd1, "done\n", 5);
    ::close(fd1);
  });
  {
    auto r = channel.next_reader<TextLineReader>(10s);
    std::string rec;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(r.next(rec));
  }
  auto r1 = channel.next_reader<TextLineReader>(10s);
  EXPECT_TRUE(saw_epipe.load());
  EXPECT_EQ(read_all(r1), std::vector<std::string>{"done"});
  writer.join();
}

TEST_F(PipeChannelTest, TimesOutNamingThePath) {
  TempDir dir("sluice-pipe");
  PipeChannel channel("validation", dir.path());
  const auto t0 = std::chrono::steady_clock::now();
  try {
    channel.open_epoch(2, 300ms);
    FAIL() << "no timeout";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir / "validation_2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("did not appear"), std::string::npos) << e.what();
  }
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 3s);
  EXPECT_THROW(channel.open_epoch(0, std::chrono::seconds(0)), std::runtime_error);
  EXPECT_EQ(channel.fd(), -1);
}

TEST_F(PipeChannelTest, OpenEpochSetsTheNextOneAndReadsPlainFilesToo) {
  TempDir dir("sluice-pipe");
  for (int e : {3, 4}) {
    const std::string path = dir / ("train_" + std::to_string(e));
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f, "epoch %d\n", e);
    std::fclose(f);
  }
  PipeChannel channel("train", dir.path());
  EXPECT_EQ(channel.path(3), dir / "train_3");
  TextLineReader r3(channel.open_epoch(3, 1s));
  EXPECT_EQ(read_all(r3), std::vector<std::string>{"epoch 3"});
  auto r4 = channel.next_reader<TextLineReader>(1s);
  EXPECT_EQ(read_all(r4), std::vector<std::string>{"epoch 4"});
  const int fd = channel.release();
  EXPECT_GE(fd, 0);
  EXPECT_EQ(channel.fd(), -1);
  ::close(fd);
  EXPECT_THROW(channel.open_epoch(-1), std::invalid_argument);
}

TEST(PipeChannel, DataDirFromTheChannelVariable) {
  ::unsetenv("SM_CHANNEL_TRAINING");
  EXPECT_EQ(PipeChannel::default_data_dir("training"), "/opt/ml/input/data");
  EXPECT_EQ(PipeChannel("training").data_dir(), "/opt/ml/input/data");
  ::setenv("SM_CHANNEL_TRAINING", "/job/input/data/training", 1);
  EXPECT_EQ(PipeChannel::default_data_dir("training"), "/job/input/data");
  EXPECT_EQ(PipeChannel("training").path(0), "/job/input/data/training_0");
  ::setenv("SM_CHANNEL_TRAINING", "/job/input/data/training//", 1);
  EXPECT_EQ(PipeChannel::default_data_dir("training"), "/job/input/data");
  ::setenv("SM_CHANNEL_TRAINING", "", 1);
  EXPECT_EQ(PipeChannel::default_data_dir("training"), "/opt/ml/input/data");
  ::unsetenv("SM_CHANNEL_TRAINING");
  ::setenv("SM_CHANNEL_EVAL-SET_2", "/x/eval-set_2", 1);
  EXPECT_EQ(PipeChannel::default_data_dir("eval-set_2"), "/x");
  ::unsetenv("SM_CHANNEL_EVAL-SET_2");
}

}  // namespace
}  // namespace sluice
