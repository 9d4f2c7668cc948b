// Opening the backend for a location, with credentials, region and endpoint resolved the AWS way.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "auth/credentials.hpp"
#include "core/location.hpp"
#include "store/object_store.hpp"

namespace sluice::store {

struct StoreOptions {
  std::optional<std::string> endpoint_url;  // --endpoint-url
  int max_connections = 64;
  // --cli-read-timeout: a data transfer that receives no byte this long, or a metadata request
  // not answered this long, is abandoned (and retried); 0: never. Unset: 30 s and 60 s.
  std::optional<std::chrono::seconds> read_timeout;
  // --cli-connect-timeout: how long a connection may take to open; 0: the system's. Unset: 10 s.
  std::optional<std::chrono::seconds> connect_timeout;
  auth::EnvLookup env = auth::process_env();
};

// s3://bucket/... -> S3Store for the bucket; a local path -> FileStore rooted at "/", so a key is
// the absolute path without its leading '/'.
std::unique_ptr<ObjectStore> open_store(const Location& location, const StoreOptions& options);

// The key (or prefix) that names `location` inside the store open_store gives.
std::string key_of(const Location& location);

}  // namespace sluice::store
