// The authorizing store decorator: every storage access made for a job is evaluated against the
// job's policies with its request context before it is sent (docs/architecture.md, "Decisions";
// docs/multi-tenant.md). A denied access throws Error(kAccessDenied) naming the action, the
// resource, the role and its session tags (never a secret), and is written to the audit log, as
// allowed accesses are.
//
// Actions and resources (S3's own names, so policies written for AWS apply unchanged):
//   list                    s3:ListBucket          arn:aws:s3:::BUCKET          s3:prefix, s3:delimiter
//   head, get               s3:GetObject           arn:aws:s3:::BUCKET/KEY
//   put, create/upload/complete multipart
//                           s3:PutObject           arn:aws:s3:::BUCKET/KEY
//   abort multipart         s3:AbortMultipartUpload arn:aws:s3:::BUCKET/KEY
//   remove                  s3:DeleteObject        arn:aws:s3:::BUCKET/KEY
// For the local file store the "bucket" ARN is `arn:sluice:file:::` and keys are absolute paths
// without their leading '/', e.g. arn:sluice:file:::data/train/x.
#pragma once

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "policy/document.hpp"
#include "policy/evaluate.hpp"
#include "store/forwarding_store.hpp"

namespace sluice::policy {

struct AuditRecord {
  std::string action;
  std::string resource;
  std::string principal;  // the role ARN (session)
  bool allowed = false;
  std::string why;  // the deciding statements, or "no statement allows it"
};

// Writes one JSON object per line (time, principal, action, resource, decision, why). Thread-safe.
class AuditLog {
 public:
  explicit AuditLog(const std::string& path);  // appends; throws Error naming the path
  void write(const AuditRecord& r);

 private:
  std::mutex mu_;
  std::ofstream out_;
  std::string path_;
};

// The policies and request context of one role session.
class Authorizer {
 public:
  Authorizer(std::vector<Document> identity, std::vector<Document> session, Context context, std::string principal,
             std::string tags_for_messages, std::function<void(const AuditRecord&)> audit = {});

  // Throws Error(kAccessDenied) when the request is not allowed.
  void check(std::string_view action, std::string_view resource, const Context& extra = {}) const;
  const std::string& principal() const { return principal_; }

 private:
  std::vector<Document> identity_, session_;
  Context context_;
  std::string principal_, tags_;
  std::function<void(const AuditRecord&)> audit_;
};

class AuthorizingStore : public store::ForwardingStore {
 public:
  // `resource_base`: "arn:aws:s3:::BUCKET", or "arn:sluice:file:::" for the local file store
  // (resource_for below). `inner` and `auth` must outlive the decorator.
  AuthorizingStore(store::ObjectStore& inner, const Authorizer& auth, std::string resource_base);

  store::ListPage list(const store::ListRequest& request) override;
  store::ObjectInfo head(const std::string& key) override;
  void get(const store::GetRequest& request, store::DataSink sink, store::Completion done) override;
  std::string put(const std::string& key, store::Body body, const store::PutOptions& options = {}) override;
  std::string create_multipart(const std::string& key) override;
  void upload_part(const std::string& key, const std::string& upload_id, int part_number, store::Body body,
                   std::function<void(std::exception_ptr, std::string etag)> done) override;
  std::string complete_multipart(const std::string& key, const std::string& upload_id,
                                 const std::vector<std::string>& part_etags) override;
  void abort_multipart(const std::string& key, const std::string& upload_id) override;
  void remove(const std::string& key) override;

 private:
  std::string object_arn(const std::string& key) const;
  const Authorizer& auth_;
  std::string base_;
};

// The ARN base for a store location: "arn:aws:s3:::BUCKET" for s3://BUCKET, "arn:sluice:file:::"
// for the local file system.
std::string resource_base_for(bool s3, std::string_view bucket);

// The ARN of object `key` under a resource base: arn:aws:s3:::BUCKET/KEY, arn:sluice:file:::KEY.
std::string object_resource(std::string_view base, std::string_view key);

}  // namespace sluice::policy
