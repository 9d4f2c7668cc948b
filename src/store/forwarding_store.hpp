// A base for ObjectStore decorators: every method forwards to the inner store, so a decorator
// overrides only what it changes and a method added to ObjectStore reaches every decorator.
// Header-only.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "store/object_store.hpp"

namespace sluice::store {

class ForwardingStore : public ObjectStore {
 public:
  // `inner` must outlive the decorator.
  explicit ForwardingStore(ObjectStore& inner) : inner_(inner) {}

  std::string describe() const override { return inner_.describe(); }
  ListPage list(const ListRequest& request) override { return inner_.list(request); }
  ObjectInfo head(const std::string& key) override { return inner_.head(key); }
  void get(const GetRequest& request, DataSink sink, Completion done) override {
    inner_.get(request, std::move(sink), std::move(done));
  }
  std::string put(const std::string& key, Body body, const PutOptions& options = {}) override {
    return inner_.put(key, std::move(body), options);
  }
  std::string create_multipart(const std::string& key) override { return inner_.create_multipart(key); }
  void upload_part(const std::string& key, const std::string& upload_id, int part_number, Body body,
                   std::function<void(std::exception_ptr, std::string etag)> done) override {
    inner_.upload_part(key, upload_id, part_number, std::move(body), std::move(done));
  }
  std::string complete_multipart(const std::string& key, const std::string& upload_id,
                                 const std::vector<std::string>& part_etags) override {
    return inner_.complete_multipart(key, upload_id, part_etags);
  }
  void abort_multipart(const std::string& key, const std::string& upload_id) override {
    inner_.abort_multipart(key, upload_id);
  }
  void remove(const std::string& key) override { inner_.remove(key); }
  bool supports_multipart() const override { return inner_.supports_multipart(); }

 protected:
  ObjectStore& inner() const { return inner_; }

 private:
  ObjectStore& inner_;
};

}  // namespace sluice::store
