#include "job/tenancy.hpp"

#include <fmt/core.h>

#include "core/log.hpp"
#include "policy/session_policy.hpp"

namespace fs = std::filesystem;

namespace sluice::job {
namespace {

// arn:aws:iam::123456789012:role/x -> 123456789012 (validated by the IAM configuration).
std::string account_of(const std::string& role_arn) {
  auto start = role_arn.find("::");
  if (start == std::string::npos) return {};
  start += 2;
  auto end = role_arn.find(':', start);
  return role_arn.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// RoleSessionName: 2-64 characters of [A-Za-z0-9_+=,.@-]. Training job names are
// [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}, so "SageMaker-<name>" needs only truncating.
std::string session_name(const std::string& job_name) { return ("SageMaker-" + job_name).substr(0, 64); }

std::string tag_list(const std::vector<policy::SessionTag>& tags) {
  std::string out;
  for (const auto& t : tags) out += fmt::format("{}{}={}", out.empty() ? "" : ", ", t.key, t.value);
  return "{" + out + "}";
}

}  // namespace

Tenancy::Tenancy(const policy::IamConfig& iam, const JobSpec& spec, const std::vector<policy::SessionTag>& caller_tags,
                 const fs::path& audit_log, const std::string& region)
    : role_arn_(spec.role_arn), account_(account_of(spec.role_arn)), region_(region) {
  const policy::Role* role = iam.find(spec.role_arn);
  if (role == nullptr) {
    throw Error(ErrorKind::kAccessDenied, fmt::format("cannot assume RoleArn {}", spec.role_arn),
                "it is not a role of the IAM configuration");
  }
  const bool chaining = spec.session_chaining && spec.session_chaining->enable_session_tag_chaining;
  // Without chaining, no tags are passed to AssumeRole, so sts:TagSession is not needed.
  const bool tag_session = chaining && !caller_tags.empty();
  if (!policy::trust_allows(*role, kSageMakerPrincipal, tag_session)) {
    throw Error(ErrorKind::kAccessDenied, fmt::format("cannot assume RoleArn {}", spec.role_arn),
                fmt::format("its trust policy does not allow {} to call sts:AssumeRole{}", kSageMakerPrincipal,
                            tag_session ? " and sts:TagSession (needed to pass the session tags, "
                                          "SessionChainingConfig.EnableSessionTagChaining)"
                                        : ""));
  }
  std::vector<policy::SessionTag> role_tags;
  for (const auto& [k, v] : role->tags) role_tags.push_back({k, v});
  tags_ = policy::chained_tags(caller_tags, role_tags, chaining);
  if (!chaining && !caller_tags.empty()) {
    log::info("the job's session tags are not passed to its execution role (SessionChainingConfig."
              "EnableSessionTagChaining is not true): the role session has only the role's own tags");
  }
  role_ = role;
  session_name_ = session_name(spec.training_job_name);
  context_ = policy::session_context(tags_, role_arn_, session_name_);
  audit_ = std::make_unique<policy::AuditLog>(audit_log.string());
  authorizer_ = std::make_unique<policy::Authorizer>(role->policies, std::vector<policy::Document>{}, context_, role_arn_,
                                                     tag_list(tags_), [this](const policy::AuditRecord& r) { record(r); });
  log::info("multi-tenant: the job runs as {}; every storage access is authorized (audit log {})", describe(),
            audit_log.string());
}

std::string Tenancy::describe() const {
  return fmt::format("role {} {}", role_arn_, tags_.empty() ? "with no session tags" : "with session tags " + tag_list(tags_));
}

void Tenancy::record(const policy::AuditRecord& r) {
  audit_->write(r);
  if (r.allowed) return;
  std::lock_guard lock(mu_);
  if (!first_denial_) {
    first_denial_ = Error(ErrorKind::kAccessDenied, fmt::format("{} on {} is denied", r.action, r.resource),
                          fmt::format("{}: {}", describe(), r.why));
  }
}

std::optional<Error> Tenancy::first_denial() const {
  std::lock_guard lock(mu_);
  return first_denial_;
}

void Tenancy::clear_denials() {
  std::lock_guard lock(mu_);
  first_denial_.reset();
}

std::optional<auth::AssumedRole> Tenancy::assume_store_role(const store::StoreOptions& options) const {
  if (role_->store_role_arn.empty()) {
    log::info("store-side enforcement is off: role {} has no StoreRoleArn in the IAM configuration, so only "
              "Sluice checks the job's accesses", role_arn_);
    return std::nullopt;
  }
  const std::string what = fmt::format("asking the store for the job's scoped credentials (AssumeRole {}, StoreRoleArn of {})",
                                       role_->store_role_arn, role_arn_);
  try {
    auto endpoint = auth::resolve_endpoint(options.endpoint_url, options.env);
    policy::SessionPolicy sp = policy::concrete_session_policy(role_->policies, context_);
    for (const auto& o : sp.omitted) {
      log::warn("the store's session policy leaves out {} (Sluice still applies it itself)", o);
    }
    auth::AssumeRoleRequest r;
    r.endpoint = endpoint ? *endpoint : fmt::format("https://sts.{}.amazonaws.com", region_);
    r.region = region_;
    r.caller = auth::resolve_credentials(options.env);
    r.role_arn = role_->store_role_arn;
    r.session_name = session_name_;
    r.policy = sp.json;
    r.duration_seconds = role_->max_session_duration;
    auto assumed = auth::assume_role(r);
    log::info("store-side enforcement: the job's data access uses temporary credentials of {} narrowed to this "
              "session's policy ({} bytes)", role_->store_role_arn, sp.json.size());
    return assumed;
  } catch (const Error& e) {
    throw e.with_context(what);
  }
}

auth::EnvLookup with_credentials(const auth::Credentials& credentials, auth::EnvLookup base) {
  return [credentials, base = std::move(base)](std::string_view name) -> std::optional<std::string> {
    if (name == "AWS_ACCESS_KEY_ID") return credentials.access_key_id;
    if (name == "AWS_SECRET_ACCESS_KEY") return credentials.secret_access_key;
    if (name == "AWS_SESSION_TOKEN") return credentials.session_token;
    if (name == "AWS_PROFILE") return std::nullopt;
    return base(name);
  };
}

store::Registry::Wrap Tenancy::store_wrap() {
  return [this](store::ObjectStore& inner, const store::Address& where) -> std::unique_ptr<store::ObjectStore> {
    bool s3 = where.scheme == store::Address::Scheme::kS3;
    return std::make_unique<policy::AuthorizingStore>(inner, *authorizer_, policy::resource_base_for(s3, where.bucket));
  };
}

void Tenancy::authorize_read(const store::Address& object) const {
  bool s3 = object.scheme == store::Address::Scheme::kS3;
  authorizer_->check("s3:GetObject", policy::object_resource(policy::resource_base_for(s3, object.bucket), object.key));
}

void Tenancy::authorize_write(const store::Address& object) const {
  bool s3 = object.scheme == store::Address::Scheme::kS3;
  authorizer_->check("s3:PutObject", policy::object_resource(policy::resource_base_for(s3, object.bucket), object.key));
}

void Tenancy::authorize_file_system(const Channel& channel, const fs::path& real, const FileSystemMap& map) const {
  const FileSystemDataSource& src = *channel.file_system;
  fs::path root = "/";
  if (auto it = map.roots().find(src.file_system_id); it != map.roots().end()) root = it->second;
  std::error_code ec;
  const fs::path real_root = fs::canonical(root, ec);  // the platform's mount root: trusted
  if (ec || real_root.empty() || !path_within(real, real_root)) {
    throw Error(ErrorKind::kInvalidInput, fmt::format("channel '{}'", channel.name),
                fmt::format("DirectoryPath '{}' resolves to {}, outside the mount root {} of {}", src.directory_path,
                            real.string(), root.string(), src.file_system_id));
  }
  std::string rel = real.lexically_relative(real_root).generic_string();
  if (rel == ".") rel.clear();
  if (!rel.empty()) rel += '/';
  const std::string resource = fmt::format("arn:aws:elasticfilesystem:{}:{}:file-system/{}/{}", region_, account_,
                                           src.file_system_id, rel);
  try {
    authorizer_->check("elasticfilesystem:ClientMount", resource);
    if (src.access_mode == AccessMode::kRw) authorizer_->check("elasticfilesystem:ClientWrite", resource);
  } catch (const Error& e) {
    throw e.with_context(fmt::format("file-system channel '{}'", channel.name));
  }
}

}  // namespace sluice::job
