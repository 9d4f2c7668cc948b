// The file:// backend: a local directory treated as a bucket. Keys are paths relative to the
// root with '/' separators; listings follow ListObjectsV2 (byte order of keys, prefix, delimiter,
// continuation). Only regular files (and symlinks to them) are objects; names starting with
// ".sluice-" are Sluice's own staging files and are never listed.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "store/object_store.hpp"

namespace sluice::store {

class FileStore final : public ObjectStore {
 public:
  explicit FileStore(std::string root, int io_threads = 4);
  ~FileStore() override;

  std::string describe() const override { return "file://" + root_; }
  ListPage list(const ListRequest& request) override;
  ObjectInfo head(const std::string& key) override;
  void get(const GetRequest& request, DataSink sink, Completion done) override;
  std::string put(const std::string& key, Body body, const PutOptions& options) override;
  std::string create_multipart(const std::string& key) override;
  void upload_part(const std::string& key, const std::string& upload_id, int part_number, Body body,
                   std::function<void(std::exception_ptr, std::string)> done) override;
  std::string complete_multipart(const std::string& key, const std::string& upload_id,
                                 const std::vector<std::string>& part_etags) override;
  void abort_multipart(const std::string& key, const std::string& upload_id) override;
  void remove(const std::string& key) override;
  // A local file is written in one pass (temporary name, then rename): uploads never need parts.
  bool supports_multipart() const override { return false; }

  // The ETag of a file: "<mtime ns hex>-<size>", changes whenever the file is rewritten. It is
  // never a plain MD5, so no caller mistakes it for one.
  static std::string etag_of(int64_t mtime_ns, uint64_t size);

 private:
  std::string path_of(const std::string& key) const;
  void post(std::function<void()> job);
  void write_atomically(const std::string& key, const Body& body);

  std::string root_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  // The sorted listing of the last prefix walked, so paging does not walk again.
  std::mutex cache_mu_;
  std::string cached_prefix_;
  std::shared_ptr<const std::vector<ObjectInfo>> cached_;
};

}  // namespace sluice::store
