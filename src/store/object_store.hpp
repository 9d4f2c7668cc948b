// The one interface every storage backend implements (s3://, file://). Keys are byte strings;
// listings are in UTF-8 byte order of keys, like S3's ListObjectsV2.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/body.hpp"

namespace sluice {
class Error;
}

namespace sluice::store {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;           // without quotes; empty when unknown
  int64_t mtime_epoch_ns = 0;  // last modified
};

struct ListRequest {
  std::string prefix;
  std::string delimiter;           // empty: recursive
  std::string continuation_token;  // empty: first page
  int max_keys = 1000;
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  std::string next_continuation_token;  // empty: last page
};

struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
  uint64_t length() const { return last - first + 1; }
};

struct GetRequest {
  std::string key;
  std::optional<ByteRange> range;  // bounded ranges only: open-ended ones make RGW read far ahead
  std::string if_match;            // ETag the object must still have; empty: any
};

// Receives consecutive bytes of an object, on an I/O thread. Return false to stop the read.
using DataSink = std::function<bool(const char* data, size_t len)>;
// Called exactly once; nullptr means success.
using Completion = std::function<void(std::exception_ptr error)>;

struct PutOptions {
  std::string content_md5_base64;  // empty: not sent
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // A description for messages, e.g. "s3://bucket" (never a secret).
  virtual std::string describe() const = 0;

  virtual ListPage list(const ListRequest& request) = 0;
  // Throws Error(kNotFound) when the key does not exist.
  virtual ObjectInfo head(const std::string& key) = 0;

  // Streams the object (or the range) into sink. A retried transfer resumes where the sink
  // stopped, with If-Match on the ETag seen first, so the sink never sees bytes twice or bytes
  // of two versions. Completes with Error(kDataLoss) if fewer bytes than expected arrive.
  virtual void get(const GetRequest& request, DataSink sink, Completion done) = 0;

  virtual std::string put(const std::string& key, Body body, const PutOptions& options = {}) = 0;

  // Multipart upload. Parts are numbered from 1; upload_part may run concurrently.
  virtual std::string create_multipart(const std::string& key) = 0;
  virtual void upload_part(const std::string& key, const std::string& upload_id, int part_number,
                           Body body, std::function<void(std::exception_ptr, std::string etag)> done) = 0;
  virtual std::string complete_multipart(const std::string& key, const std::string& upload_id,
                                         const std::vector<std::string>& part_etags) = 0;
  virtual void abort_multipart(const std::string& key, const std::string& upload_id) = 0;

  virtual void remove(const std::string& key) = 0;

  // Above this size uploads go multipart; the part size is chosen by the caller.
  virtual bool supports_multipart() const { return true; }
};

// The pages of one listing, in order, following continuation tokens. It also checks that the
// store moves forward: a store that answers with ever new continuation tokens but nothing after
// what it listed already (cycling) would be listed forever, so kMaxStalledPages pages in a row
// without an entry after the greatest key or common prefix so far are an error (kInternal).
// A few such pages are let through: a store may answer an empty page before the next full one.
class Pager {
 public:
  static constexpr int kMaxStalledPages = 100;
  Pager(ObjectStore& store, ListRequest request) : store_(store), request_(std::move(request)) {}
  // The next page, or nullopt after the last one.
  std::optional<ListPage> next();

 private:
  ObjectStore& store_;
  ListRequest request_;
  bool done_ = false;
  std::string greatest_;  // the greatest key or common prefix listed so far
  int stalled_ = 0;
};

// All objects under prefix, following continuation tokens (recursive listing).
std::vector<ObjectInfo> list_all(ObjectStore& store, const std::string& prefix,
                                 const std::function<void(size_t listed)>& progress = {});

// Blocking get of a whole object or range into a string (small objects, tests).
std::string get_string(ObjectStore& store, const GetRequest& request);

}  // namespace sluice::store
