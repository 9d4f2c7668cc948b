// Callers' identities: keys from the IAM configuration's users and from the issued sessions, the
// principal and policies behind each, and their evaluation with policy/.
#include "serve/identity.hpp"

#include <fmt/core.h>

#include <cctype>
#include <cmath>
#include <ctime>

#include "core/hash.hpp"
#include "core/strings.hpp"

namespace sluice::serve {
namespace {

std::vector<policy::SessionTag> as_tags(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<policy::SessionTag> out;
  for (const auto& [k, v] : pairs) out.push_back({k, v});
  return out;
}

}  // namespace

std::string iso8601_utc(double seconds) {
  std::time_t t = static_cast<std::time_t>(std::floor(seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

[[noreturn]] void refuse(std::string code, int status, std::string message) {
  throw ApiFailure(ApiError{std::move(code), status, std::move(message)});
}

}  // namespace

std::string account_of(const std::string& arn) {
  // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  const size_t end = arn.find(':', pos);
  if (!arn.starts_with("arn:") || end == std::string::npos) return "";
  return arn.substr(pos, end - pos);
}

std::string assumed_role_arn(const std::string& role_arn, const std::string& session_name) {
  const std::string name = role_arn.substr(role_arn.rfind('/') + 1);
  return fmt::format("arn:aws:sts::{}:assumed-role/{}/{}", account_of(role_arn), name, session_name);
}

std::string unique_id(std::string_view prefix, const std::string& arn) {
  std::string id = sha256_hex(arn).substr(0, 17);
  for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return std::string(prefix) + id;
}

Identities::Identities(std::shared_ptr<const policy::IamConfig> iam, Sessions& sessions, std::function<double()> now)
    : iam_(std::move(iam)), sessions_(sessions), now_(std::move(now)) {}

auth::KeyLookup Identities::key_lookup() const {
  return [this](std::string_view access_key_id) {
    auth::KeyLookupResult r;
    if (const policy::User* user = iam_->find_user_by_key(access_key_id)) {
      r.status = auth::KeyLookupResult::Status::kFound;
      r.secret_access_key = user->find_key(access_key_id)->secret_access_key;
      r.principal = user->arn;
      return r;
    }
    auto session = sessions_.find(access_key_id);
    if (!session) return r;  // kUnknown
    if (session->expiration <= now_()) {
      r.status = auth::KeyLookupResult::Status::kExpired;
      return r;
    }
    r.status = auth::KeyLookupResult::Status::kFound;
    r.secret_access_key = session->secret_access_key;
    r.session_token = session->session_token;
    r.principal = assumed_role_arn(session->role_arn, session->session_name);
    return r;
  };
}

CallerIdentity Identities::resolve(const Caller& caller) const {
  CallerIdentity who;
  if (!caller.temporary) {
    const policy::User* user = iam_->find_user_by_key(caller.access_key_id);
    if (!user) {
      refuse("AccessDenied", 403,
             fmt::format("The access key {} is no longer in the IAM configuration", caller.access_key_id));
    }
    who.principal = {user->arn, account_of(user->arn), as_tags(user->tags)};
    who.principal_arn = user->arn;
    who.user_id = unique_id("AIDA", user->arn);
    who.policies = user->policies;
    who.principal_tags = who.principal.tags;
    return who;
  }
  auto session = sessions_.find(caller.access_key_id);
  if (!session) {
    refuse("AccessDenied", 403, fmt::format("The session of access key {} is not known", caller.access_key_id));
  }
  if (session->expiration <= now_()) refuse("ExpiredTokenException", 400, "The security token included in the request is expired");
  const policy::Role* role = iam_->find(session->role_arn);
  if (!role) {
    refuse("AccessDenied", 403,
           fmt::format("The role {} of this session is no longer in the IAM configuration", session->role_arn));
  }
  const std::string arn = assumed_role_arn(role->arn, session->session_name);
  who.principal = {arn, account_of(arn), session->tags};
  who.principal_arn = role->arn;
  who.user_id = unique_id("AROA", role->arn) + ":" + session->session_name;
  who.temporary = true;
  who.transitive_tag_keys = session->transitive_tag_keys;
  who.policies = role->policies;
  who.principal_tags = policy::chained_tags(session->tags, as_tags(role->tags), /*enable_chaining=*/true);
  who.session_name = session->session_name;
  who.source_identity = session->source_identity;
  return who;
}

policy::Context Identities::context(const CallerIdentity& who, const policy::Context& extra) const {
  policy::Context ctx;
  ctx["aws:PrincipalArn"] = {who.principal_arn};
  ctx["aws:PrincipalAccount"] = {who.principal.account};
  ctx["aws:PrincipalType"] = {who.temporary ? "AssumedRole" : "User"};
  ctx["aws:userid"] = {who.user_id};
  if (!who.temporary) ctx["aws:username"] = {who.principal.arn.substr(who.principal.arn.rfind('/') + 1)};
  if (!who.source_identity.empty()) ctx["aws:SourceIdentity"] = {who.source_identity};
  const double now = now_();
  ctx["aws:CurrentTime"] = {iso8601_utc(now)};
  ctx["aws:EpochTime"] = {std::to_string(static_cast<long long>(std::floor(now)))};
  for (const auto& t : who.principal_tags) ctx["aws:PrincipalTag/" + t.key] = {t.value};
  for (const auto& entry : extra) {
    const std::string& key = entry.first;  // not a structured binding: clang 14 cannot capture one
    bool taken = std::any_of(ctx.begin(), ctx.end(), [&](const auto& kv) { return iequals(kv.first, key); });
    if (!taken) ctx[key] = entry.second;
  }
  return ctx;
}

policy::Outcome Identities::evaluate(const CallerIdentity& who, const std::string& action, const std::string& resource,
                                     const policy::Context& extra) const {
  return policy::evaluate(who.policies, {}, policy::Request{action, resource, context(who, extra)}).outcome;
}

bool Identities::allowed(const CallerIdentity& who, const std::string& action, const std::string& resource,
                         const policy::Context& extra) const {
  return evaluate(who, action, resource, extra) == policy::Outcome::kAllow;
}

ApiError access_denied(const CallerIdentity& who, const std::string& action, const std::string& resource,
                       const std::string& code, int status) {
  return ApiError{code, status,
                  fmt::format("User: {} is not authorized to perform: {} on resource: {} because no identity-based "
                              "policy allows the {} action",
                              who.principal.arn, action, resource, action)};
}

}  // namespace sluice::serve
