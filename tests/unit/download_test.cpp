// transfer::download over an in-memory store: MD5 verification (through the multi-buffer
// verifier), ranged parts, and nothing left under a final name when a check fails.
#include "transfer/download.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "core/hash.hpp"
#include "transfer/engine.hpp"

namespace fs = std::filesystem;
using namespace sluice;

namespace {

// Serves objects from memory; ignores If-Match so a wrong ETag reaches the MD5 check.
class MemoryStore : public store::ObjectStore {
 public:
  std::map<std::string, std::string> objects;
  std::string describe() const override { return "memory"; }
  store::ListPage list(const store::ListRequest&) override { return {}; }
  store::ObjectInfo head(const std::string& key) override { return {key, objects.at(key).size(), "", 0}; }
  void get(const store::GetRequest& r, store::DataSink sink, store::Completion done) override {
    const std::string& data = objects.at(r.key);
    uint64_t first = r.range ? r.range->first : 0, last = r.range ? r.range->last : data.size() - 1;
    // Two chunks, to exercise offsets within a part.
    uint64_t mid = first + (last - first + 1) / 2;
    bool ok = sink(data.data() + first, mid - first) && sink(data.data() + mid, last + 1 - mid);
    done(ok ? nullptr : std::make_exception_ptr(Error(ErrorKind::kCancelled, "get", "sink refused")));
  }
  std::string put(const std::string&, http::Body, const store::PutOptions&) override { return {}; }
  std::string create_multipart(const std::string&) override { return {}; }
  void upload_part(const std::string&, const std::string&, int, http::Body,
                   std::function<void(std::exception_ptr, std::string)>) override {}
  std::string complete_multipart(const std::string&, const std::string&, const std::vector<std::string>&) override {
    return {};
  }
  void abort_multipart(const std::string&, const std::string&) override {}
  void remove(const std::string&) override {}
};

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "sluice-dl-XXXXXX").string();
    path = mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string md5_hex(const std::string& data) {
  Digest d(Digest::Algo::kMd5);
  d.update(data);
  return d.finish_hex();
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(Download, VerifiesMd5OfSingleAndMultiPartObjects) {
  MemoryStore store;
  std::mt19937 rng(7);
  std::vector<transfer::DownloadItem> items;
  TempDir dir;
  for (int i = 0; i < 20; ++i) {
    std::string data(static_cast<size_t>(i * 70'001 % 900'000), '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    std::string key = "k" + std::to_string(i);
    store.objects[key] = data;
    items.push_back({{key, data.size(), md5_hex(data), 0}, (dir.path / "sub" / key).string()});
  }
  transfer::Engine engine(store, {8});
  transfer::DownloadOptions opts;
  opts.part_size = 100'000;  // most objects in several parts
  auto result = transfer::download(engine, items, opts);
  ASSERT_TRUE(result.failures.empty()) << result.failures.front().what();
  EXPECT_EQ(result.files, 20u);
  for (const auto& item : items) EXPECT_EQ(read(item.path), store.objects.at(item.object.key)) << item.path;
}

TEST(Download, WrongMd5IsDataLossAndLeavesNothing) {
  MemoryStore store;
  TempDir dir;
  store.objects["good"] = std::string(300'000, 'g');
  store.objects["bad"] = std::string(300'000, 'b');
  std::vector<transfer::DownloadItem> items = {
      {{"good", 300'000, md5_hex(store.objects["good"]), 0}, (dir.path / "good").string()},
      {{"bad", 300'000, md5_hex("something else"), 0}, (dir.path / "bad").string()},
  };
  transfer::Engine engine(store, {4});
  transfer::DownloadOptions opts;
  opts.part_size = 64 * 1024;
  auto result = transfer::download(engine, items, opts);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures.front().kind(), ErrorKind::kDataLoss);
  EXPECT_NE(std::string(result.failures.front().what()).find("MD5"), std::string::npos);
  EXPECT_EQ(read(dir.path / "good"), store.objects["good"]);
  EXPECT_FALSE(fs::exists(dir.path / "bad"));
  EXPECT_FALSE(fs::exists(transfer::partial_path((dir.path / "bad").string())));
}

TEST(Download, NoVerifyMd5AcceptsWhatArrives) {
  MemoryStore store;
  TempDir dir;
  store.objects["x"] = "hello";
  std::vector<transfer::DownloadItem> items = {{{"x", 5, md5_hex("other"), 0}, (dir.path / "x").string()}};
  transfer::Engine engine(store, {2});
  transfer::DownloadOptions opts;
  opts.verify_md5 = false;
  auto result = transfer::download(engine, items, opts);
  EXPECT_TRUE(result.failures.empty());
  EXPECT_EQ(read(dir.path / "x"), "hello");
}
