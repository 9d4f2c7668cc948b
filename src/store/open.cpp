#include "store/open.hpp"

#include "store/file_store.hpp"
#include "store/s3_store.hpp"

namespace sluice::store {

namespace {

std::unique_ptr<S3Store> open_s3(const std::string& bucket, const StoreOptions& options) {
  S3Config config;
  config.bucket = bucket;
  config.endpoint = auth::resolve_endpoint(options.endpoint_url, options.env);
  config.region = auth::resolve_region(options.env);
  config.credentials = auth::resolve_credentials(options.env);
  config.retry = http::RetryPolicy::from_env();
  if (options.read_timeout) config.stall_timeout = config.request_timeout = *options.read_timeout;
  http::ClientOptions copts;
  copts.max_connections = options.max_connections;
  copts.verify_tls = options.verify_tls;
  if (options.connect_timeout) copts.connect_timeout = *options.connect_timeout;
  return std::make_unique<S3Store>(std::move(config), std::make_shared<http::Client>(copts));
}

}  // namespace

std::unique_ptr<ObjectStore> open_store(const Address& where, const StoreOptions& options) {
  if (!where.is_s3()) return std::make_unique<FileStore>("/");
  return open_s3(where.bucket, options);
}

std::unique_ptr<S3Store> open_s3_service(const StoreOptions& options) { return open_s3("", options); }

std::unique_ptr<S3Store> open_s3_bucket(const std::string& bucket, const StoreOptions& options) {
  return open_s3(bucket, options);
}

}  // namespace sluice::store
