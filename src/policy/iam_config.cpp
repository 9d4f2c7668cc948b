#include "policy/iam_config.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "policy/json_values.hpp"
#include "core/json_input.hpp"
#include "core/log.hpp"
#include "policy/match.hpp"
#include "policy/session_tags.hpp"

namespace sluice::policy {
namespace {

using nlohmann::json;

constexpr std::string_view kDocPrefix = "invalid policy document: ";
constexpr std::string_view kTrustPrefix = "invalid trust policy: ";

// ---- trust policy ----

[[noreturn]] void trust_fail(const std::string& path, const std::string& why) {
  throw Error(ErrorKind::kInvalidInput, std::string(kTrustPrefix) + path + ": " + why);
}

bool all_digits(std::string_view s, std::size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// The colon-separated fields of an ARN; fewer than 6 fields = not an ARN (empty result).
std::vector<std::string_view> arn_fields(std::string_view arn) {
  std::vector<std::string_view> out;
  if (!arn.starts_with("arn:")) return {};
  std::size_t start = 0;
  while (out.size() < 5) {
    auto colon = arn.find(':', start);
    if (colon == std::string_view::npos) return {};
    out.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  out.push_back(arn.substr(start));  // the resource takes the rest
  return out;
}

std::vector<std::string> trust_strings(const json& j, const std::string& path) { return string_or_list(j, path, kTrustPrefix); }

void parse_principal(const json& j, const std::string& path, TrustStatement& s) {
  if (j.is_string()) {
    if (j != "*") trust_fail(path, "must be \"*\" or an object with AWS and/or Service, got " + describe(j));
    s.any_principal = true;
    return;
  }
  if (!j.is_object()) trust_fail(path, "must be \"*\" or an object, got " + describe(j));
  if (j.empty()) trust_fail(path, "must name at least one principal");
  for (const auto& [k, v] : j.items()) {
    std::string p = path + "." + k;
    if (k == "AWS") {
      auto list = trust_strings(v, p);
      for (std::size_t i = 0; i < list.size(); ++i) {
        std::string ip = v.is_array() ? p + "[" + std::to_string(i) + "]" : p;
        const std::string& a = list[i];
        if (a == "*") {
          s.any_principal = true;
        } else if (all_digits(a, 12)) {
          s.aws.push_back("arn:aws:iam::" + a + ":root");
        } else {
          auto f = arn_fields(a);
          if (f.empty() || !all_digits(f[4], 12) || f[5].empty())
            trust_fail(ip, "must be \"*\", a 12-digit account id or an ARN with an account id, got \"" +
                               a + "\"");
          s.aws.push_back(a);
        }
      }
    } else if (k == "Service") {
      for (auto& svc : trust_strings(v, p)) s.services.push_back(std::move(svc));
    } else if (k == "Federated" || k == "CanonicalUser") {
      trust_fail(p, "principal type is not supported (only AWS and Service)");
    } else {
      trust_fail(p, "unknown principal type");
    }
  }
}

// Conditions are validated and parsed by parse_document, through a wrapper statement.
std::vector<Condition> parse_trust_conditions(const json& j, Version v, const std::string& path) {
  json wrapper = {{"Version", v == Version::k2012_10_17 ? "2012-10-17" : "2008-10-17"},
                  {"Statement", {{"Effect", "Allow"}, {"Action", "*"}, {"Resource", "*"}, {"Condition", j}}}};
  try {
    return parse_document(wrapper.dump()).statements.at(0).conditions;
  } catch (const Error& e) {
    std::string m = e.message();
    constexpr std::string_view inner = "invalid policy document: Statement.Condition";
    if (m.starts_with(inner)) m = std::string(kTrustPrefix) + path + m.substr(inner.size());
    throw Error(e.kind(), m, e.cause());
  }
}

TrustStatement parse_trust_statement(const json& j, Version v, const std::string& path) {
  if (!j.is_object()) trust_fail(path, "must be an object, got " + describe(j));
  TrustStatement s;
  for (const auto& [k, val] : j.items()) {
    if (k != "Sid" && k != "Effect" && k != "Principal" && k != "Action" && k != "Condition") {
      if (k == "NotPrincipal" || k == "NotAction" || k == "Resource" || k == "NotResource")
        trust_fail(path + "." + k, "is not supported in a trust policy");
      trust_fail(path + "." + k, "unknown statement element");
    }
  }
  if (auto it = j.find("Sid"); it != j.end()) {
    if (!it->is_string()) trust_fail(path + ".Sid", "must be a string, got " + describe(*it));
    s.sid = it->get<std::string>();
  }
  auto eff = j.find("Effect");
  if (eff == j.end()) trust_fail(path + ".Effect", "missing");
  if (*eff == "Allow") s.effect = Effect::kAllow;
  else if (*eff == "Deny") s.effect = Effect::kDeny;
  else trust_fail(path + ".Effect", "must be \"Allow\" or \"Deny\", got " + describe(*eff));
  auto pr = j.find("Principal");
  if (pr == j.end()) trust_fail(path + ".Principal", "missing");
  parse_principal(*pr, path + ".Principal", s);
  auto act = j.find("Action");
  if (act == j.end()) trust_fail(path + ".Action", "missing");
  s.actions = trust_strings(*act, path + ".Action");
  for (std::size_t i = 0; i < s.actions.size(); ++i) {
    const std::string& a = s.actions[i];
    if (a != "*" && !(a.size() > 4 && a.compare(0, 4, "sts:") == 0 && a.find(':', 4) == std::string::npos))
      trust_fail(act->is_array() ? path + ".Action[" + std::to_string(i) + "]" : path + ".Action",
                 "must be \"*\" or an sts: action (sts:AssumeRole, sts:TagSession), got \"" + a + "\"");
  }
  if (auto c = j.find("Condition"); c != j.end())
    s.conditions = parse_trust_conditions(*c, v, path + ".Condition");
  return s;
}

TrustPolicy parse_trust_json(const json& j) {
  if (!j.is_object()) trust_fail("(document)", "must be a JSON object, got " + describe(j));
  TrustPolicy t;
  for (const auto& [k, v] : j.items())
    if (k != "Version" && k != "Id" && k != "Statement") trust_fail(k, "unknown top-level element");
  if (auto v = j.find("Version"); v != j.end()) {
    if (*v == "2012-10-17") t.version = Version::k2012_10_17;
    else if (*v == "2008-10-17") t.version = Version::k2008_10_17;
    else trust_fail("Version", "must be \"2012-10-17\" or \"2008-10-17\", got " + describe(*v));
  }
  if (auto v = j.find("Id"); v != j.end() && !v->is_string())
    trust_fail("Id", "must be a string, got " + describe(*v));
  auto st = j.find("Statement");
  if (st == j.end()) trust_fail("Statement", "missing");
  if (st->is_array()) {
    if (st->empty()) trust_fail("Statement", "must not be an empty list");
    for (std::size_t i = 0; i < st->size(); ++i)
      t.statements.push_back(parse_trust_statement((*st)[i], t.version, "Statement[" + std::to_string(i) + "]"));
  } else {
    t.statements.push_back(parse_trust_statement(*st, t.version, "Statement"));
  }
  return t;
}

// ---- config ----

struct ConfigParser {
  std::string prefix;  // "invalid IAM config <name>: "

  [[noreturn]] void fail(const std::string& path, const std::string& why) const {
    throw Error(ErrorKind::kInvalidInput, prefix + path + ": " + why);
  }

  // Re-raises an error from a nested parser (whose message starts with `inner_prefix`) under `path`.
  [[noreturn]] void rethrow_nested(const Error& e, std::string_view inner_prefix, const std::string& path) const {
    std::string m = e.message();
    if (m.starts_with(inner_prefix)) m.erase(0, inner_prefix.size());
    throw Error(ErrorKind::kInvalidInput, prefix + path + ": " + m, e.cause());
  }

  void check_members(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed,
                     std::string_view what) const {
    for (const auto& [k, v] : j.items()) {
      bool ok = false;
      for (auto a : allowed) ok = ok || a == k;
      if (!ok) fail(path.empty() ? k : path + "." + k, "unknown " + std::string(what) + " member");
    }
  }

  static bool role_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
  }

  // `kind`: "role" or "user" (the same rules for both: IAM's names and paths).
  void check_iam_arn(const std::string& arn, const std::string& path, std::string_view kind) const {
    const std::string k(kind);
    auto bad = [&](const std::string& why) {
      fail(path, "must be arn:aws:iam::<12-digit account>:" + k + "/[<path>/]<name>, got \"" + arn + "\" (" + why + ")");
    };
    constexpr std::string_view head = "arn:aws:iam::";
    if (!std::string_view(arn).starts_with(head)) bad("must start with arn:aws:iam::");
    std::string_view rest = std::string_view(arn).substr(head.size());
    if (rest.size() < 13 || !all_digits(rest.substr(0, 12), 12) || rest[12] != ':')
      bad("the account must be 12 digits");
    rest.remove_prefix(13);
    if (!rest.starts_with(k + "/")) bad("the resource must start with " + k + "/");
    rest.remove_prefix(k.size());  // keep the leading '/'
    auto last = rest.rfind('/');
    std::string_view role_path = rest.substr(0, last + 1);  // "/" or "/a/b/"
    std::string_view name = rest.substr(last + 1);
    if (name.empty() || name.size() > 64) bad("the " + k + " name must be 1-64 characters");
    for (char c : name)
      if (!role_name_char(c)) bad("the " + k + " name may only hold letters, digits and _+=,.@-");
    if (role_path.size() > 512) bad("the path must be at most 512 characters");
    for (std::size_t i = 1; i < role_path.size(); ++i) {
      char c = role_path[i];
      if (c == '/' && role_path[i - 1] == '/') bad("the path has an empty segment");
      if (c < 0x21 || c > 0x7e) bad("the path may only hold printable ASCII characters");
    }
  }

  // The tags' JSON shape is checked here; their STS rules (count, lengths, characters, `aws:`
  // prefix, keys distinct ignoring case) by check_tags, as for --session-tag.
  // `owner`: "role ARN" or "user ARN", for the messages.
  std::vector<std::pair<std::string, std::string>> parse_tags(const json& j, const std::string& path,
                                                              const std::string& owner) const {
    if (!j.is_array()) fail(path, "must be a list, got " + describe(j));
    std::vector<SessionTag> tags;
    for (std::size_t i = 0; i < j.size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      const json& t = j[i];
      if (!t.is_object()) fail(p, "must be an object with Key and Value, got " + describe(t));
      check_members(t, p, {"Key", "Value"}, "tag");
      auto k = t.find("Key");
      if (k == t.end()) fail(p + ".Key", "missing");
      if (!k->is_string()) fail(p + ".Key", "must be a string, got " + describe(*k));
      auto v = t.find("Value");
      if (v == t.end()) fail(p + ".Value", "missing");
      if (!v->is_string()) fail(p + ".Value", "must be a string, got " + describe(*v));
      tags.push_back({k->get<std::string>(), v->get<std::string>()});
    }
    try {
      check_tags(tags, [&](std::size_t i) {
        return path + "[" + std::to_string(i) + "] (tag " + quote_for_message(tags[i].key) + " of " + owner + ")";
      });
    } catch (const Error& e) {
      throw Error(ErrorKind::kInvalidInput, prefix + e.message(), e.cause());
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& t : tags) out.emplace_back(std::move(t.key), std::move(t.value));
    return out;
  }

  std::vector<Document> parse_policies(const json& pol, const std::string& path) const {
    if (!pol.is_array()) fail(path, "must be a list, got " + describe(pol));
    std::vector<Document> out;
    for (std::size_t i = 0; i < pol.size(); ++i) {
      try {
        out.push_back(parse_document(pol[i].dump()));
      } catch (const Error& e) {
        rethrow_nested(e, kDocPrefix, path + "[" + std::to_string(i) + "]");
      }
    }
    return out;
  }

  // A string member that must be present. `secret`: its value never appears in a message.
  std::string required_string(const json& j, const std::string& name, const std::string& path, bool secret = false) const {
    auto it = j.find(name);
    if (it == j.end()) fail(path + "." + name, "missing");
    if (!it->is_string()) fail(path + "." + name, "must be a string, got " + (secret ? "another type" : describe(*it)));
    return it->get<std::string>();
  }

  // AWS's AccessKeyId: 16-128 characters, here of [A-Z0-9] (as AWS issues them). ASIA is the
  // prefix of the temporary keys that the STS endpoint of `sluice serve` issues, so a long-term
  // key may not start with it (a temporary key can then never be taken for a user's).
  AccessKey parse_access_key(const json& j, const std::string& path) const {
    if (!j.is_object()) fail(path, "must be an object with AccessKeyId and SecretAccessKey, got " + describe(j));
    check_members(j, path, {"AccessKeyId", "SecretAccessKey"}, "access key");
    AccessKey k;
    k.access_key_id = required_string(j, "AccessKeyId", path);
    const std::string& id = k.access_key_id;
    bool chars_ok = std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
    if (id.size() < 16 || id.size() > 128 || !chars_ok)
      fail(path + ".AccessKeyId", "must be 16-128 characters of A-Z and 0-9, got \"" + id + "\"");
    if (id.starts_with("ASIA"))
      fail(path + ".AccessKeyId", "must not start with ASIA (the prefix of the temporary keys sluice serve issues), got \"" +
                                      id + "\"");
    k.secret_access_key = required_string(j, "SecretAccessKey", path, /*secret=*/true);
    if (k.secret_access_key.empty()) fail(path + ".SecretAccessKey", "must not be empty");
    return k;
  }

  User parse_user(const json& j, const std::string& path) const {
    if (!j.is_object()) fail(path, "must be an object, got " + describe(j));
    check_members(j, path, {"Arn", "AccessKeys", "Policies", "Tags"}, "user");
    User u;
    u.arn = required_string(j, "Arn", path);
    check_iam_arn(u.arn, path + ".Arn", "user");
    if (auto keys = j.find("AccessKeys"); keys != j.end()) {
      if (!keys->is_array()) fail(path + ".AccessKeys", "must be a list, got " + describe(*keys));
      for (std::size_t i = 0; i < keys->size(); ++i)
        u.access_keys.push_back(parse_access_key((*keys)[i], path + ".AccessKeys[" + std::to_string(i) + "]"));
    }
    if (auto pol = j.find("Policies"); pol != j.end()) u.policies = parse_policies(*pol, path + ".Policies");
    if (auto t = j.find("Tags"); t != j.end()) u.tags = parse_tags(*t, path + ".Tags", "user " + u.arn);
    return u;
  }

  Role parse_role(const json& j, const std::string& path) const {
    if (!j.is_object()) fail(path, "must be an object, got " + describe(j));
    check_members(j, path, {"Arn", "AssumeRolePolicyDocument", "Policies", "Tags", "MaxSessionDuration", "StoreRoleArn"},
                  "role");
    Role r;
    auto arn = j.find("Arn");
    if (arn == j.end()) fail(path + ".Arn", "missing");
    if (!arn->is_string()) fail(path + ".Arn", "must be a string, got " + describe(*arn));
    r.arn = arn->get<std::string>();
    check_iam_arn(r.arn, path + ".Arn", "role");
    auto trust = j.find("AssumeRolePolicyDocument");
    if (trust == j.end()) fail(path + ".AssumeRolePolicyDocument", "missing");
    try {
      r.trust = parse_trust_json(*trust);
    } catch (const Error& e) {
      rethrow_nested(e, kTrustPrefix, path + ".AssumeRolePolicyDocument");
    }
    if (auto pol = j.find("Policies"); pol != j.end()) r.policies = parse_policies(*pol, path + ".Policies");
    if (auto t = j.find("Tags"); t != j.end()) r.tags = parse_tags(*t, path + ".Tags", "role " + r.arn);
    if (auto sr = j.find("StoreRoleArn"); sr != j.end()) {
      if (!sr->is_string()) fail(path + ".StoreRoleArn", "must be a string, got " + describe(*sr));
      r.store_role_arn = sr->get<std::string>();
      if (!r.store_role_arn.starts_with("arn:") || r.store_role_arn.find(":role/") == std::string::npos ||
          r.store_role_arn.size() > 2048) {
        fail(path + ".StoreRoleArn", "must be the ARN of a role in the object store, arn:...:role/NAME (e.g. "
                                     "arn:aws:iam:::role/sluice-jobs for Ceph RGW), got \"" + r.store_role_arn + "\"");
      }
    }
    if (auto d = j.find("MaxSessionDuration"); d != j.end()) {
      if (!d->is_number_integer()) fail(path + ".MaxSessionDuration", "must be an integer, got " + describe(*d));
      long long s = d->is_number_unsigned() ? static_cast<long long>(std::min<std::uint64_t>(d->get<std::uint64_t>(), 1ULL << 40))
                                            : d->get<long long>();
      if (s < 3600 || s > 43200)
        fail(path + ".MaxSessionDuration", "must be 3600-43200 seconds, got " + d->dump());
      r.max_session_duration = static_cast<int>(s);
    }
    return r;
  }

  IamConfig parse(std::string_view text) const {
    json j;
    try {
      j = parse_json_input(text, prefix);
    } catch (const Error& e) {
      // The JSON parser's reason ends with the text it last read, which may be part of a secret
      // access key: the byte offset, line and column say where the error is.
      std::string cause = e.cause();
      if (auto at = cause.find("; last read:"); at != std::string::npos) cause.erase(at);
      throw Error(e.kind(), e.message(), cause);
    }
    if (!j.is_object()) fail("(document)", "must be a JSON object, got " + describe(j));
    check_members(j, "", {"Roles", "Users"}, "top-level");
    auto roles = j.find("Roles");
    if (roles == j.end()) fail("Roles", "missing");
    if (!roles->is_array()) fail("Roles", "must be a list, got " + describe(*roles));
    IamConfig cfg;
    for (std::size_t i = 0; i < roles->size(); ++i) {
      std::string p = "Roles[" + std::to_string(i) + "]";
      Role r = parse_role((*roles)[i], p);
      for (std::size_t q = 0; q < cfg.roles.size(); ++q)
        if (cfg.roles[q].arn == r.arn)
          fail(p + ".Arn", "duplicate role ARN \"" + r.arn + "\" (first at Roles[" + std::to_string(q) + "])");
      cfg.roles.push_back(std::move(r));
    }
    if (auto users = j.find("Users"); users != j.end()) parse_users(*users, cfg);
    return cfg;
  }

  void parse_users(const json& users, IamConfig& cfg) const {
    if (!users.is_array()) fail("Users", "must be a list, got " + describe(users));
    std::map<std::string, std::string, std::less<>> key_paths;  // access key id -> where it was first
    for (std::size_t i = 0; i < users.size(); ++i) {
      std::string p = "Users[" + std::to_string(i) + "]";
      User u = parse_user(users[i], p);
      for (std::size_t q = 0; q < cfg.users.size(); ++q)
        if (cfg.users[q].arn == u.arn)
          fail(p + ".Arn", "duplicate user ARN \"" + u.arn + "\" (first at Users[" + std::to_string(q) + "])");
      for (std::size_t k = 0; k < u.access_keys.size(); ++k) {
        std::string kp = p + ".AccessKeys[" + std::to_string(k) + "].AccessKeyId";
        auto [it, fresh] = key_paths.emplace(u.access_keys[k].access_key_id, kp);
        if (!fresh) fail(kp, "duplicate access key id \"" + it->first + "\" (first at " + it->second + ")");
      }
      cfg.users.push_back(std::move(u));
    }
  }
};

bool action_matches(const TrustStatement& s, std::string_view action) {
  for (const auto& a : s.actions)
    if (wildcard_match(std::string_view(a), action, /*ignore_case=*/true)) return true;
  return false;
}

// How a statement's Principal matches `principal`: not, through "*" or an account root, or by name.
TrustMatch principal_match(const TrustStatement& s, std::string_view principal) {
  if (principal.empty()) return TrustMatch::kDenied;
  for (const auto& svc : s.services)
    if (svc == principal) return TrustMatch::kNamed;
  auto pf = arn_fields(principal);
  TrustMatch m = s.any_principal ? TrustMatch::kAccount : TrustMatch::kDenied;
  for (const auto& a : s.aws) {
    if (a == principal) return TrustMatch::kNamed;
    auto af = arn_fields(a);
    // Account root: any principal of that account (same partition).
    if (!af.empty() && !pf.empty() && af[2] == "iam" && af[5] == "root" && af[1] == pf[1] && af[4] == pf[4])
      m = TrustMatch::kAccount;
  }
  return m;
}

TrustMatch match_action(const TrustPolicy& t, const std::vector<std::string>& principals, std::string_view action) {
  TrustMatch best = TrustMatch::kDenied;
  for (const auto& s : t.statements) {
    if (!action_matches(s, action)) continue;
    TrustMatch m = TrustMatch::kDenied;
    for (const auto& p : principals) m = std::max(m, principal_match(s, p));
    if (m == TrustMatch::kDenied) continue;
    if (s.effect == Effect::kDeny) return TrustMatch::kDenied;  // conditional or not: fail closed
    if (s.conditions.empty()) best = std::max(best, m);
  }
  return best;
}

}  // namespace

const Role* IamConfig::find(std::string_view arn) const {
  for (const auto& r : roles)
    if (r.arn == arn) return &r;
  return nullptr;
}

const User* IamConfig::find_user(std::string_view arn) const {
  for (const auto& u : users)
    if (u.arn == arn) return &u;
  return nullptr;
}

const User* IamConfig::find_user_by_key(std::string_view access_key_id) const {
  for (const auto& u : users)
    if (u.find_key(access_key_id)) return &u;
  return nullptr;
}

std::string User::name() const { return arn.substr(arn.rfind('/') + 1); }

const AccessKey* User::find_key(std::string_view access_key_id) const {
  for (const auto& k : access_keys)
    if (k.access_key_id == access_key_id) return &k;
  return nullptr;
}

std::string secrets_mode_warning(const IamConfig& config, const std::string& path, unsigned mode) {
  bool has_keys = std::any_of(config.users.begin(), config.users.end(), [](const User& u) { return !u.access_keys.empty(); });
  if (!has_keys || (mode & 077) == 0) return "";
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", mode & 07777);
  return "IAM config " + path + " holds secret access keys but its mode " + octal +
         " lets other users of this machine read or change it; run chmod 600 " + path;
}

TrustPolicy parse_trust_policy(std::string_view json_text) {
  return parse_trust_json(parse_json_input(json_text, std::string(kTrustPrefix)));
}

IamConfig parse_iam_config(std::string_view text, std::string_view name) {
  ConfigParser p{"invalid IAM config " + std::string(name) + ": "};
  return p.parse(text);
}

IamConfig load_iam_config(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw errno_error(EISDIR, "reading IAM config", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw errno_error(errno, "reading IAM config", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw errno_error(errno, "reading IAM config", path);
  IamConfig cfg = parse_iam_config(ss.str(), path);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (std::string w = secrets_mode_warning(cfg, path, st.st_mode); !w.empty()) log::warn("{}", w);
  }
  return cfg;
}

bool trust_allows(const Role& role, std::string_view principal_arn, bool tag_session) {
  const std::vector<std::string> principals{std::string(principal_arn)};
  if (match_action(role.trust, principals, "sts:AssumeRole") == TrustMatch::kDenied) return false;
  if (tag_session && match_action(role.trust, principals, "sts:TagSession") == TrustMatch::kDenied) return false;
  return true;
}

TrustMatch trust_match(const Role& role, const std::vector<std::string>& principal_arns, std::string_view action) {
  return match_action(role.trust, principal_arns, action);
}

}  // namespace sluice::policy
