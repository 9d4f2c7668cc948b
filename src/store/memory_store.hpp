// An object store held in memory: the ObjectStore contract (store/object_store.hpp) with S3's
// answers (MD5 ETags, "-N" multipart ETags, delimiter listings with common prefixes, bounded
// ranges, If-Match) and no network. For tests and benchmarks of everything above the store layer;
// thread-safe; get() delivers synchronously, in chunks, on the caller's thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/object_store.hpp"

namespace sluice::store {

class MemoryStore : public ObjectStore {
 public:
  // `name` is what describe() says ("memory:NAME"); `chunk` the most bytes per sink call.
  explicit MemoryStore(std::string name = "memory", size_t chunk = 64 * 1024);

  std::string describe() const override { return "memory:" + name_; }
  ListPage list(const ListRequest& request) override;
  ObjectInfo head(const std::string& key) override;
  void get(const GetRequest& request, DataSink sink, Completion done) override;
  std::string put(const std::string& key, Body body, const PutOptions& options = {}) override;
  std::string create_multipart(const std::string& key) override;
  void upload_part(const std::string& key, const std::string& upload_id, int part_number, Body body,
                   std::function<void(std::exception_ptr, std::string etag)> done) override;
  std::string complete_multipart(const std::string& key, const std::string& upload_id,
                                 const std::vector<std::string>& part_etags) override;
  void abort_multipart(const std::string& key, const std::string& upload_id) override;
  void remove(const std::string& key) override;

  // For tests: the bytes of `key`, if it exists; every key, in order; uploads not completed.
  std::optional<std::string> contents(const std::string& key) const;
  std::vector<std::string> keys() const;
  size_t open_uploads() const;

 private:
  struct Object {
    std::shared_ptr<const std::string> data;
    std::string etag;
    int64_t mtime_ns = 0;
  };
  struct Upload {
    std::string key;
    std::map<int, std::pair<std::string, std::string>> parts;  // number -> (etag, bytes)
  };
  Object stored(const std::string& key) const;  // throws kNotFound
  void store(const std::string& key, std::string data, std::string etag);

  std::string name_;
  size_t chunk_;
  mutable std::mutex mu_;
  std::map<std::string, Object> objects_;
  std::map<std::string, Upload> uploads_;
  uint64_t next_upload_ = 1;
};

}  // namespace sluice::store
