// The s3:// backend: S3 REST over the http layer, signed with SigV4.
#pragma once

#include <chrono>

#include <memory>
#include <optional>
#include <string>

#include "auth/credentials.hpp"
#include "http/client.hpp"
#include "http/retry.hpp"
#include "store/object_store.hpp"
#include "store/s3_xml.hpp"

namespace sluice::store {

struct S3Config {
  std::string bucket;
  std::optional<std::string> endpoint;  // set: path-style addressing on this URL
  std::string region = "us-east-1";
  auth::Credentials credentials;
  http::RetryPolicy retry;
  std::chrono::milliseconds request_timeout{60'000};  // metadata requests, whole attempt
  std::chrono::milliseconds stall_timeout{30'000};    // data transfers: abort when no byte moves this long
};

class S3Store final : public ObjectStore {
 public:
  S3Store(S3Config config, std::shared_ptr<http::Client> client);

  std::string describe() const override { return "s3://" + config_.bucket; }
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

  // Bucket administration, for tests and the demo.
  void create_bucket();
  void delete_bucket();
  // ListBuckets: the buckets of the credentials' owner (a store opened without a bucket).
  std::vector<s3xml::BucketEntry> list_buckets();

  // A presigned GET URL valid for `expires`.
  std::string presign_get(const std::string& key, std::chrono::seconds expires) const;

 private:
  http::Request build(const std::string& method, const std::string& key,
                      const std::vector<std::pair<std::string, std::string>>& query,
                      std::vector<http::Header> headers, http::Body body, const std::string& payload_hash) const;
  std::string object_url_path(const std::string& key) const;
  std::string host_and_base(std::string* host) const;
  http::Outcome call(const std::string& what, const std::string& key, std::function<http::Request()> make);
  // After a CreateMultipartUpload that needed retries: aborts the uploads of `key` that earlier
  // attempts created (initiated since `started`, not `ours`). Best effort: a failure is logged.
  void abort_lost_uploads(const std::string& key, const std::string& ours, std::chrono::system_clock::time_point started);
  Error error_for(const std::string& what, const std::string& key, const http::Outcome& o, int attempts) const;

  S3Config config_;
  std::shared_ptr<http::Client> client_;
};

}  // namespace sluice::store
