// Opening the backend for an address, with credentials, region and endpoint resolved the AWS way.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "auth/credentials.hpp"
#include "store/address.hpp"
#include "store/object_store.hpp"

namespace sluice::store {

class S3Store;

struct StoreOptions {
  std::optional<std::string> endpoint_url;  // --endpoint-url
  int max_connections = 64;
  // --cli-read-timeout: a data transfer that receives no byte this long, or a metadata request
  // not answered this long, is abandoned (and retried); 0: never. Unset: 30 s and 60 s.
  std::optional<std::chrono::seconds> read_timeout;
  // --cli-connect-timeout: how long a connection may take to open; 0: the system's. Unset: 10 s.
  std::optional<std::chrono::seconds> connect_timeout;
  // --no-verify-ssl: an https endpoint's certificate is not checked (nor its host name).
  bool verify_tls = true;
  // Where credentials, region, profile and endpoint come from: the environment, with the AWS
  // CLI's flags layered over it (auth::with_flags).
  auth::EnvLookup env = auth::process_env();
};

// The store that holds `where`: s3://bucket/... -> S3Store for the bucket; file:// -> FileStore
// rooted at "/", so a key is the absolute path without its leading '/' (as Address says).
std::unique_ptr<ObjectStore> open_store(const Address& where, const StoreOptions& options);

// The S3 service itself, with no bucket: for ListBuckets (S3Store::list_buckets).
std::unique_ptr<S3Store> open_s3_service(const StoreOptions& options);

// One bucket as S3 itself, for what only S3 does (CreateBucket, DeleteBucket, presigned URLs):
// callers that need those ask for an S3Store, never downcast an ObjectStore.
std::unique_ptr<S3Store> open_s3_bucket(const std::string& bucket, const StoreOptions& options);

}  // namespace sluice::store
