// upload_stream and download_to_stream (`sluice cp -` both ways) against an in-memory store: one
// PUT with Content-MD5 under the threshold, multipart above it (parts in order, growing part
// sizes, abort on a failed part), and an object written to a stream in order although its parts
// complete out of order.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "support/random_bytes.hpp"
#include "support/temp_dir.hpp"
#include "transfer/engine.hpp"
#include "transfer/stream_download.hpp"
#include "transfer/stream_upload.hpp"

namespace sluice::transfer {
namespace {

using sluice::testing::random_bytes;

constexpr uint64_t kMiB = 1ull << 20;

std::string md5_hex(const std::string& s) {
  Digest d(Digest::Algo::kMd5);
  d.update(s);
  return d.finish_hex();
}

std::string body_bytes(const store::Body& b) {
  if (b.bytes) return *b.bytes;
  std::string out(b.length, '\0');
  EXPECT_EQ(::pread(b.fd, out.data(), out.size(), static_cast<off_t>(b.offset)), static_cast<ssize_t>(out.size()));
  return out;
}

// Objects in memory. Reads complete on threads of their own, later ranges first, so that a
// reader that does not reorder them would be caught; a part number in fail_part fails.
class MemoryStore final : public store::ObjectStore {
 public:
  ~MemoryStore() override {
    for (auto& t : readers_) t.join();
  }
  std::string describe() const override { return "memory"; }
  store::ListPage list(const store::ListRequest&) override { throw std::logic_error("list is not expected here"); }
  store::ObjectInfo head(const std::string& key) override {
    std::lock_guard lock(mu_);
    return {key, objects.at(key).size(), md5_hex(objects.at(key)), 0};
  }
  void get(const store::GetRequest& r, store::DataSink sink, store::Completion done) override {
    std::string slice;
    {
      std::lock_guard lock(mu_);
      const std::string& o = objects.at(r.key);
      slice = o.substr(r.range->first, r.range->length());
    }
    const auto delay = std::chrono::milliseconds(40 - std::min<uint64_t>(39, r.range->first / kMiB));
    std::lock_guard lock(mu_);
    readers_.emplace_back([slice = std::move(slice), sink, done, delay] {
      std::this_thread::sleep_for(delay);
      sink(slice.data(), slice.size());
      done(nullptr);
    });
  }
  std::string put(const std::string& key, store::Body body, const store::PutOptions& o) override {
    std::lock_guard lock(mu_);
    objects[key] = body_bytes(body);
    put_md5 = o.content_md5_base64;
    ++puts;
    return md5_hex(objects[key]);
  }
  std::string create_multipart(const std::string&) override { return "upload-1"; }
  void upload_part(const std::string&, const std::string&, int number, store::Body body,
                   std::function<void(std::exception_ptr, std::string)> done) override {
    if (number == fail_part) {
      done(std::make_exception_ptr(Error(ErrorKind::kRetryable, "uploading part", "failed on purpose")), "");
      return;
    }
    {
      std::lock_guard lock(mu_);
      parts[number] = body_bytes(body);
    }
    done(nullptr, "etag-" + std::to_string(number));
  }
  std::string complete_multipart(const std::string& key, const std::string&, const std::vector<std::string>& etags) override {
    std::lock_guard lock(mu_);
    std::string all;
    for (size_t i = 1; i <= etags.size(); ++i) {
      EXPECT_EQ(etags[i - 1], "etag-" + std::to_string(i));
      all += parts.at(static_cast<int>(i));
    }
    objects[key] = all;
    return "multipart-etag";
  }
  void abort_multipart(const std::string&, const std::string&) override { ++aborts; }
  void remove(const std::string&) override {}

  std::map<std::string, std::string> objects;
  std::map<int, std::string> parts;
  std::string put_md5;
  int puts = 0, aborts = 0, fail_part = 0;

 private:
  std::mutex mu_;
  std::vector<std::thread> readers_;
};

// A file with `data`, opened for reading: what standard input would be.
int input_with(const sluice::testing::TempDir& tmp, const std::string& data) {
  const std::string path = tmp / "in";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  EXPECT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(StreamPartSize, DoublesEveryThousandPartsFromAtLeastFiveMiB) {
  EXPECT_EQ(stream_part_size(1, 8 * kMiB), 8 * kMiB);
  EXPECT_EQ(stream_part_size(1000, 8 * kMiB), 8 * kMiB);
  EXPECT_EQ(stream_part_size(1001, 8 * kMiB), 16 * kMiB);
  EXPECT_EQ(stream_part_size(2001, 8 * kMiB), 32 * kMiB);
  EXPECT_EQ(stream_part_size(1, 1 * kMiB), 5 * kMiB);
  EXPECT_EQ(stream_part_size(10'000, 1ull << 30), 5ull << 30);  // at most 5 GiB
  uint64_t total = 0;
  for (int n = 1; n <= 10'000; ++n) total += stream_part_size(n, 8 * kMiB);
  EXPECT_GT(total, 5ull << 40) << "10,000 parts of 8 MiB streams do not reach S3's 5 TiB";
}

TEST(UploadStream, UnderTheThresholdOnePutWithContentMd5) {
  sluice::testing::TempDir tmp;
  MemoryStore store;
  const std::string data = random_bytes(1000, 1);
  int fd = input_with(tmp, data);
  StreamUploadOptions o;
  EXPECT_EQ(upload_stream(store, fd, "k", o), data.size());
  ::close(fd);
  EXPECT_EQ(store.puts, 1);
  EXPECT_TRUE(store.parts.empty());
  EXPECT_EQ(store.objects.at("k"), data);
  Digest d(Digest::Algo::kMd5);
  d.update(data);
  EXPECT_EQ(store.put_md5, base64_encode(d.finish_raw()));
}

TEST(UploadStream, AboveTheThresholdMultipartInOrder) {
  sluice::testing::TempDir tmp;
  MemoryStore store;
  const std::string data = random_bytes(12 * kMiB + 3, 2);
  int fd = input_with(tmp, data);
  StreamUploadOptions o;
  o.part_size = 5 * kMiB;
  Progress progress;
  o.progress = &progress;
  EXPECT_EQ(upload_stream(store, fd, "k", o), data.size());
  ::close(fd);
  EXPECT_EQ(store.puts, 0);
  ASSERT_EQ(store.parts.size(), 3u);
  EXPECT_EQ(store.parts.at(1).size(), 5 * kMiB);
  EXPECT_EQ(store.parts.at(3).size(), 2 * kMiB + 3);
  EXPECT_TRUE(store.objects.at("k") == data);
  EXPECT_EQ(progress.total_bytes.load(), data.size());
  EXPECT_EQ(progress.done_bytes.load(), data.size());
  EXPECT_EQ(store.aborts, 0);
}

TEST(UploadStream, AFailedPartAbortsTheUpload) {
  sluice::testing::TempDir tmp;
  MemoryStore store;
  store.fail_part = 2;
  int fd = input_with(tmp, random_bytes(20 * kMiB, 3));
  StreamUploadOptions o;
  o.part_size = 5 * kMiB;
  try {
    upload_stream(store, fd, "k", o);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kRetryable) << e.what();
  }
  ::close(fd);
  EXPECT_EQ(store.aborts, 1);
  EXPECT_EQ(store.objects.count("k"), 0u);
}

TEST(DownloadToStream, PartsAreWrittenInOrder) {
  sluice::testing::TempDir tmp;
  MemoryStore store;
  store.objects["k"] = random_bytes(23 * kMiB + 17, 4);
  const int fd = ::open((tmp / "out").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  {
    Engine engine(store, EngineOptions{16});
    StreamDownloadOptions o;
    o.part_size = 1 * kMiB;
    o.parts_in_flight = 6;
    download_to_stream(engine, store.head("k"), fd, o);
  }
  EXPECT_TRUE(read_all(fd) == store.objects["k"]) << "the stream differs from the object";
  ::close(fd);
}

TEST(DownloadToStream, AnMd5MismatchIsDataLoss) {
  sluice::testing::TempDir tmp;
  MemoryStore store;
  store.objects["k"] = random_bytes(3 * kMiB, 5);
  store::ObjectInfo info = store.head("k");
  info.etag = md5_hex("something else");
  const int fd = ::open((tmp / "out").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  Engine engine(store, EngineOptions{4});
  StreamDownloadOptions o;
  o.part_size = 1 * kMiB;
  try {
    download_to_stream(engine, info, fd, o);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDataLoss) << e.what();
  }
  ::close(fd);
}

}  // namespace
}  // namespace sluice::transfer
