// AssumeRole and GetCallerIdentity (see sts_service.hpp for the rules).
#include "serve/sts_service.hpp"

#include <fmt/core.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"
#include "core/utf8.hpp"
#include "policy/session_tags.hpp"

namespace sluice::serve {
namespace {

// Every refused parameter is a ValidationError, 400, the code AWS's query services give a request
// that fails validation. The STS model lists no InvalidParameterValue for AssumeRole and no AWS
// page documents it for session tags (iam-abac.md §3.2), so one code serves all parameter errors,
// including a tag that repeats an inherited transitive key ("the operation fails").
[[noreturn]] void invalid(std::string message) { throw ApiFailure(ApiError{"ValidationError", 400, std::move(message)}); }

[[noreturn]] void constraint(std::string_view member, std::string_view value, std::string_view rule) {
  invalid(fmt::format("1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: {}", value, member,
                      rule));
}

ApiError not_authorized(const CallerIdentity& who, std::string_view action, std::string_view role_arn) {
  return ApiError{"AccessDenied", 403,
                  fmt::format("User: {} is not authorized to perform: {} on resource: {}", who.principal.arn, action, role_arn)};
}

// RoleSessionName and SourceIdentity: [\w+=,.@-] (Java's \w: ASCII letters, digits, _).
bool name_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_+=,.@-").find(c) != std::string_view::npos;
  });
}

std::optional<std::string> param(const nlohmann::json& in, const std::string& name) {
  auto it = in.find(name);
  if (it == in.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// The index N of "<prefix>N<rest>", or 0 when the name is not of that shape.
size_t member_index(std::string_view name, std::string_view prefix, std::string_view& rest) {
  if (!name.starts_with(prefix)) return 0;
  name.remove_prefix(prefix.size());
  size_t n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec != std::errc() || end == name.data() || name.front() == '0') return 0;
  rest = std::string_view(end, name.data() + name.size() - end);
  return n;
}

// Refuses what AssumeRole does not take here: AWS's parameters that are not supported, and
// unknown ones.
void check_parameter_names(const nlohmann::json& in) {
  static const std::vector<std::string_view> kUnsupported = {"Policy", "PolicyArns", "ExternalId", "SerialNumber",
                                                             "TokenCode", "ProvidedContexts"};
  std::vector<std::string> unsupported, unknown;
  for (const auto& [name, value] : in.items()) {
    std::string_view rest;
    if (name == "RoleArn" || name == "RoleSessionName" || name == "DurationSeconds" || name == "SourceIdentity") continue;
    if (member_index(name, "Tags.member.", rest) && (rest == ".Key" || rest == ".Value")) continue;
    if (member_index(name, "TransitiveTagKeys.member.", rest) && rest.empty()) continue;
    const std::string_view base = std::string_view(name).substr(0, name.find('.'));
    if (std::find(kUnsupported.begin(), kUnsupported.end(), base) != kUnsupported.end()) {
      if (std::find(unsupported.begin(), unsupported.end(), base) == unsupported.end()) unsupported.emplace_back(base);
    } else {
      unknown.push_back(name);
    }
  }
  if (!unsupported.empty()) {
    std::string names;
    for (const auto& u : unsupported) names += (names.empty() ? "" : ", ") + u;
    invalid(fmt::format("AssumeRole parameters this server does not support: {} (session policies, external ids, "
                        "MFA and provided contexts are not implemented; the request is refused rather than given a "
                        "session that ignores them)",
                        names));
  }
  if (!unknown.empty()) {
    std::string names;
    for (const auto& u : unknown) names += (names.empty() ? "" : ", ") + u;
    invalid(fmt::format("AssumeRole has no parameter {}", names));
  }
}

std::vector<policy::SessionTag> parse_tags(const nlohmann::json& in) {
  std::map<size_t, std::pair<std::optional<std::string>, std::optional<std::string>>> members;
  for (const auto& [name, value] : in.items()) {
    std::string_view rest;
    const size_t n = member_index(name, "Tags.member.", rest);
    if (n == 0) continue;
    (rest == ".Key" ? members[n].first : members[n].second) = value.get<std::string>();
  }
  std::vector<policy::SessionTag> tags;
  size_t expected = 1;
  for (auto& [n, kv] : members) {
    if (n != expected) invalid(fmt::format("Tags.member.{} is missing (members are numbered from 1)", expected));
    ++expected;
    if (!kv.first) invalid(fmt::format("Tags.member.{}.Key is missing", n));
    if (!kv.second) invalid(fmt::format("Tags.member.{}.Value is missing", n));
    tags.push_back({*kv.first, *kv.second});
  }
  return tags;
}

std::vector<std::string> parse_keys(const nlohmann::json& in) {
  std::map<size_t, std::string> members;
  for (const auto& [name, value] : in.items()) {
    std::string_view rest;
    if (const size_t n = member_index(name, "TransitiveTagKeys.member.", rest)) members[n] = value.get<std::string>();
  }
  std::vector<std::string> keys;
  for (auto& [n, k] : members) {
    if (n != keys.size() + 1) invalid(fmt::format("TransitiveTagKeys.member.{} is missing (members are numbered from 1)", keys.size() + 1));
    keys.push_back(k);
  }
  if (keys.size() > policy::kMaxSessionTags) {
    constraint("transitiveTagKeys", fmt::format("{} keys", keys.size()), "Member must have length less than or equal to 50");
  }
  return keys;
}

bool contains_folded(const std::vector<std::string>& keys, const std::string& key) {
  const std::string f = policy::fold_case(key);
  return std::any_of(keys.begin(), keys.end(), [&](const std::string& k) { return policy::fold_case(k) == f; });
}

int parse_duration(const std::optional<std::string>& text) {
  if (!text) return 3600;
  int v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size()) {
    constraint("durationSeconds", *text, "Member must be an integer");
  }
  if (v < 900) constraint("durationSeconds", *text, "Member must have value greater than or equal to 900");
  if (v > 43200) constraint("durationSeconds", *text, "Member must have value less than or equal to 43200");
  return v;
}

// policy::check_tags, its refusal a ValidationError. `names[i]` names tag i in the message.
void checked_tags(const std::vector<policy::SessionTag>& tags, const std::vector<std::string>& names) {
  try {
    policy::check_tags(tags, [&](size_t i) { return i < names.size() ? names[i] : fmt::format("tag {}", i + 1); });
  } catch (const Error& e) {
    invalid(e.message());
  }
}

double seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

class Sts {
 public:
  Sts(Identities& ids, Sessions& sessions, StsOptions options)
      : ids_(ids), sessions_(sessions), options_(std::move(options)) {
    if (!options_.random) {
      options_.random = [](unsigned char* buf, size_t n) {
        if (RAND_bytes(buf, static_cast<int>(n)) != 1) throw Error(ErrorKind::kInternal, "OpenSSL RAND_bytes failed");
      };
    }
  }

  OperationResult get_caller_identity(const ApiCall& call, const Caller& caller) const {
    if (!call.input.empty()) invalid(fmt::format("GetCallerIdentity has no parameter {}", call.input.begin().key()));
    const CallerIdentity who = ids_.resolve(caller);
    OperationResult r;
    r.result_xml = fmt::format("<UserId>{}</UserId><Account>{}</Account><Arn>{}</Arn>", xml_escape(who.user_id),
                               xml_escape(who.principal.account), xml_escape(who.principal.arn));
    return r;
  }

  OperationResult assume_role(const ApiCall& call, const Caller& caller) const {
    const nlohmann::json& in = call.input;
    check_parameter_names(in);
    const CallerIdentity who = ids_.resolve(caller);

    // Validation of each parameter, as AWS validates a request before anything else.
    const auto role_arn = param(in, "RoleArn");
    if (!role_arn) constraint("roleArn", "null", "Member must not be null");
    if (role_arn->size() < 20 || role_arn->size() > 2048) {
      constraint("roleArn", *role_arn, "Member must have length between 20 and 2048");
    }
    const auto session_name = param(in, "RoleSessionName");
    if (!session_name) constraint("roleSessionName", "null", "Member must not be null");
    if (session_name->size() < 2 || session_name->size() > 64) {
      constraint("roleSessionName", *session_name, "Member must have length between 2 and 64");
    }
    if (!name_chars(*session_name)) {
      constraint("roleSessionName", *session_name, "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    }
    const int duration = parse_duration(param(in, "DurationSeconds"));
    std::string source_identity = param(in, "SourceIdentity").value_or("");
    const bool source_given = in.contains("SourceIdentity");
    if (source_given) {
      if (source_identity.size() < 2 || source_identity.size() > 64) {
        constraint("sourceIdentity", source_identity, "Member must have length between 2 and 64");
      }
      if (source_identity.size() >= 4 && iequals(source_identity.substr(0, 4), "aws:")) {
        invalid("SourceIdentity must not start with 'aws:'");
      }
      if (!name_chars(source_identity)) {
        constraint("sourceIdentity", source_identity, "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
      }
    }
    const std::vector<policy::SessionTag> given = parse_tags(in);
    std::vector<std::string> given_names;
    for (size_t i = 0; i < given.size(); ++i) {
      given_names.push_back(fmt::format("Tags.member.{} (tag {})", i + 1, policy::quote_for_message(given[i].key)));
    }
    checked_tags(given, given_names);  // before any key is case-folded: valid UTF-8
    const std::vector<std::string> given_transitive = parse_keys(in);

    // Role chaining: the caller session's transitive tags and source identity pass on.
    std::vector<policy::SessionTag> tags;
    std::vector<std::string> transitive;
    std::vector<std::string> names;  // each tag's name in messages
    if (who.temporary) {
      for (const auto& t : who.principal.tags) {
        if (!contains_folded(who.transitive_tag_keys, t.key)) continue;
        tags.push_back(t);
        transitive.push_back(t.key);
        names.push_back("inherited transitive tag " + policy::quote_for_message(t.key));
      }
      if (!who.source_identity.empty()) {
        if (source_given && source_identity != who.source_identity) {
          invalid("SourceIdentity cannot be changed in a role chain: the calling session's source identity is '" +
                  who.source_identity + "'");
        }
        source_identity = who.source_identity;
      }
    }
    const std::vector<std::string> inherited_keys = transitive;
    for (size_t i = 0; i < given.size(); ++i) {
      if (contains_folded(inherited_keys, given[i].key)) {
        invalid(given_names[i] + ": the calling session passes on a transitive tag with this key; a tag inherited in "
                                 "a role chain cannot be set again (tag keys are case-insensitive)");
      }
      tags.push_back(given[i]);
      names.push_back(given_names[i]);
    }
    checked_tags(tags, names);  // the session's whole set: at most 50
    for (size_t i = 0; i < given_transitive.size(); ++i) {
      const std::string& k = given_transitive[i];
      auto it = std::find_if(given.begin(), given.end(), [&](const policy::SessionTag& t) {
        return decode_utf8(k) && policy::fold_case(t.key) == policy::fold_case(k);
      });
      if (it == given.end()) {
        invalid(fmt::format("TransitiveTagKeys.member.{} ({}) is not the key of a tag passed in Tags", i + 1,
                            policy::quote_for_message(k)));
      }
      if (!contains_folded(transitive, it->key)) transitive.push_back(it->key);
    }

    // Authorization.
    const policy::Role* role = ids_.iam().find(*role_arn);
    if (!role) throw ApiFailure(not_authorized(who, "sts:AssumeRole", *role_arn));
    std::vector<std::string> actions{"sts:AssumeRole"};
    if (!tags.empty()) actions.push_back("sts:TagSession");
    if (!source_identity.empty()) actions.push_back("sts:SetSourceIdentity");
    authorize(who, *role, actions, given, given_transitive, *session_name, source_identity);

    if (who.temporary && duration > 3600) {
      invalid("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
    }
    if (duration > role->max_session_duration) {
      invalid("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    }

    IssuedSession s;
    s.role_arn = role->arn;
    s.session_name = *session_name;
    s.tags = tags;
    s.transitive_tag_keys = transitive;
    s.parent_arn = who.principal.arn;
    s.source_identity = source_identity;
    s.expiration = std::floor(seconds(options_.clock())) + duration;
    issue(s);

    const std::string arn = assumed_role_arn(role->arn, s.session_name);
    std::string xml = fmt::format(
        "<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken>"
        "<Expiration>{}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>{}</AssumedRoleId><Arn>{}</Arn>"
        "</AssumedRoleUser>",
        s.access_key_id, xml_escape(s.secret_access_key), xml_escape(s.session_token), iso8601_utc(s.expiration),
        xml_escape(unique_id("AROA", role->arn) + ":" + s.session_name), xml_escape(arn));
    if (!given.empty()) xml += fmt::format("<PackedPolicySize>{}</PackedPolicySize>", packed_size(given));
    if (!s.source_identity.empty()) xml += "<SourceIdentity>" + xml_escape(s.source_identity) + "</SourceIdentity>";
    OperationResult r;
    r.result_xml = std::move(xml);
    return r;
  }

 private:
  // The trust policy, and where AWS asks for it, the caller's identity policies (see the header).
  void authorize(const CallerIdentity& who, const policy::Role& role, const std::vector<std::string>& actions,
                 const std::vector<policy::SessionTag>& given, const std::vector<std::string>& given_transitive,
                 const std::string& session_name, const std::string& source_identity) const {
    std::vector<std::string> principals{who.principal.arn};
    if (who.principal_arn != who.principal.arn) principals.push_back(who.principal_arn);
    policy::Context extra;
    for (const auto& t : given) {
      extra["aws:RequestTag/" + t.key] = {t.value};
      extra["aws:TagKeys"].push_back(t.key);
    }
    if (!given_transitive.empty()) extra["sts:TransitiveTagKeys"] = given_transitive;
    extra["sts:RoleSessionName"] = {session_name};
    if (!source_identity.empty()) extra["sts:SourceIdentity"] = {source_identity};
    const bool same_account = account_of(role.arn) == who.principal.account;
    for (const auto& action : actions) {
      const policy::TrustMatch trust = policy::trust_match(role, principals, action);
      if (trust == policy::TrustMatch::kDenied) throw ApiFailure(not_authorized(who, action, role.arn));
      const policy::Outcome identity = ids_.evaluate(who, action, role.arn, extra);
      if (identity == policy::Outcome::kExplicitDeny) throw ApiFailure(not_authorized(who, action, role.arn));
      const bool named = trust == policy::TrustMatch::kNamed && same_account;
      if (!named && identity != policy::Outcome::kAllow) throw ApiFailure(not_authorized(who, action, role.arn));
    }
  }

  // PackedPolicySize: the passed tags' characters as a percentage of the most this server accepts
  // (50 tags of 128 + 256 characters). Sluice has no packed limit of its own beyond those.
  static int packed_size(const std::vector<policy::SessionTag>& tags) {
    size_t chars = 0;
    for (const auto& t : tags) chars += utf8_char_count(t.key) + utf8_char_count(t.value);
    const size_t most = policy::kMaxSessionTags * (policy::kMaxTagKeyChars + policy::kMaxTagValueChars);
    return static_cast<int>(std::min<size_t>(100, (chars * 100 + most - 1) / most));
  }

  // `n` characters drawn uniformly from `alphabet` (at most 256 symbols), by rejection.
  std::string random_chars(std::string_view alphabet, size_t n) const {
    const unsigned limit = 256 - 256 % alphabet.size();
    std::string out;
    unsigned char buf[64];
    while (out.size() < n) {
      options_.random(buf, sizeof buf);
      for (unsigned char b : buf) {
        if (b < limit && out.size() < n) out += alphabet[b % alphabet.size()];
      }
    }
    return out;
  }

  // Fills in the credentials and stores the session (a new key id in the rare case one repeats).
  void issue(IssuedSession& s) const {
    static constexpr std::string_view kUpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static constexpr std::string_view kSecretChars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int attempt = 0;; ++attempt) {
      s.access_key_id = "ASIA" + random_chars(kUpperAlnum, 16);
      s.secret_access_key = random_chars(kSecretChars, 40);
      std::string token(96, '\0');
      options_.random(reinterpret_cast<unsigned char*>(token.data()), token.size());
      s.session_token = base64_encode(token);
      try {
        sessions_.insert(s);
        return;
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::kConflict || attempt == 4) throw;
      }
    }
  }

  Identities& ids_;
  Sessions& sessions_;
  StsOptions options_;
};

}  // namespace

std::map<std::string, Operation> sts_operations(Identities& identities, Sessions& sessions, StsOptions options) {
  auto sts = std::make_shared<Sts>(identities, sessions, std::move(options));
  return {
      {"sts.AssumeRole", [sts](const ApiCall& call, const Caller& caller) { return sts->assume_role(call, caller); }},
      {"sts.GetCallerIdentity",
       [sts](const ApiCall& call, const Caller& caller) { return sts->get_caller_identity(call, caller); }},
  };
}

}  // namespace sluice::serve
