#include "policy/authorizing_store.hpp"

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace sluice::policy {

AuditLog::AuditLog(const std::string& path) : out_(path, std::ios::app), path_(path) {
  if (!out_) throw errno_error(errno, "opening the audit log", path);
}

void AuditLog::write(const AuditRecord& r) {
  nlohmann::json j;
  auto now = std::chrono::system_clock::now();
  j["time"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::floor<std::chrono::seconds>(now));
  j["principal"] = r.principal;
  j["action"] = r.action;
  j["resource"] = r.resource;
  j["decision"] = r.allowed ? "Allow" : "Deny";
  j["why"] = r.why;
  std::lock_guard lock(mu_);
  out_ << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  out_.flush();
}

Authorizer::Authorizer(std::vector<Document> identity, std::vector<Document> session, Context context,
                       std::string principal, std::string tags_for_messages, std::function<void(const AuditRecord&)> audit)
    : identity_(std::move(identity)),
      session_(std::move(session)),
      context_(std::move(context)),
      principal_(std::move(principal)),
      tags_(std::move(tags_for_messages)),
      audit_(std::move(audit)) {}

void Authorizer::check(std::string_view action, std::string_view resource, const Context& extra) const {
  Request r;
  r.action = std::string(action);
  r.resource = std::string(resource);
  r.context = context_;
  for (const auto& [k, v] : extra) r.context[k] = v;
  Decision d = evaluate(identity_, session_, r);
  std::string why;
  if (d.statements.empty()) {
    why = "no statement allows it";
  } else {
    for (const auto& s : d.statements) {
      if (!why.empty()) why += ", ";
      why += fmt::format("{} policy {} statement {}{}", s.set == PolicySet::kIdentity ? "identity" : "session", s.policy,
                         s.statement, s.sid.empty() ? "" : " (Sid " + s.sid + ")");
    }
    why = (d.outcome == Outcome::kExplicitDeny ? "explicitly denied by " : "allowed by ") + why;
  }
  const bool allowed = d.outcome == Outcome::kAllow;
  if (audit_) audit_(AuditRecord{r.action, r.resource, principal_, allowed, why});
  if (!allowed) {
    throw Error(ErrorKind::kAccessDenied, fmt::format("{} on {} is denied", action, resource),
                fmt::format("role {}{}: {}", principal_, tags_.empty() ? "" : " with session tags " + tags_, why));
  }
}

AuthorizingStore::AuthorizingStore(store::ObjectStore& inner, const Authorizer& auth, std::string resource_base)
    : ForwardingStore(inner), auth_(auth), base_(std::move(resource_base)) {}

std::string AuthorizingStore::object_arn(const std::string& key) const { return object_resource(base_, key); }

store::ListPage AuthorizingStore::list(const store::ListRequest& request) {
  Context extra{{"s3:prefix", {request.prefix}}};
  if (!request.delimiter.empty()) extra["s3:delimiter"] = {request.delimiter};
  auth_.check("s3:ListBucket", base_, extra);
  return inner().list(request);
}

store::ObjectInfo AuthorizingStore::head(const std::string& key) {
  auth_.check("s3:GetObject", object_arn(key));
  return inner().head(key);
}

void AuthorizingStore::get(const store::GetRequest& request, store::DataSink sink, store::Completion done) {
  try {
    auth_.check("s3:GetObject", object_arn(request.key));
  } catch (const Error&) {
    done(std::current_exception());
    return;
  }
  inner().get(request, std::move(sink), std::move(done));
}

std::string AuthorizingStore::put(const std::string& key, store::Body body, const store::PutOptions& options) {
  auth_.check("s3:PutObject", object_arn(key));
  return inner().put(key, std::move(body), options);
}

std::string AuthorizingStore::create_multipart(const std::string& key) {
  auth_.check("s3:PutObject", object_arn(key));
  return inner().create_multipart(key);
}

void AuthorizingStore::upload_part(const std::string& key, const std::string& upload_id, int part_number,
                                   store::Body body, std::function<void(std::exception_ptr, std::string etag)> done) {
  try {
    auth_.check("s3:PutObject", object_arn(key));
  } catch (const Error&) {
    done(std::current_exception(), {});
    return;
  }
  inner().upload_part(key, upload_id, part_number, std::move(body), std::move(done));
}

std::string AuthorizingStore::complete_multipart(const std::string& key, const std::string& upload_id,
                                                 const std::vector<std::string>& part_etags) {
  auth_.check("s3:PutObject", object_arn(key));
  return inner().complete_multipart(key, upload_id, part_etags);
}

void AuthorizingStore::abort_multipart(const std::string& key, const std::string& upload_id) {
  auth_.check("s3:AbortMultipartUpload", object_arn(key));
  inner().abort_multipart(key, upload_id);
}

void AuthorizingStore::remove(const std::string& key) {
  auth_.check("s3:DeleteObject", object_arn(key));
  inner().remove(key);
}

std::string resource_base_for(bool s3, std::string_view bucket) {
  return s3 ? "arn:aws:s3:::" + std::string(bucket) : std::string("arn:sluice:file:::");
}

std::string object_resource(std::string_view base, std::string_view key) {
  return base.ends_with(":::") ? std::string(base) + std::string(key) : std::string(base) + "/" + std::string(key);
}

}  // namespace sluice::policy
