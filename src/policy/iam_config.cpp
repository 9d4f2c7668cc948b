#include "policy/iam_config.hpp"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "policy/json_values.hpp"
#include "core/json_input.hpp"
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

  void check_role_arn(const std::string& arn, const std::string& path) const {
    auto bad = [&](const std::string& why) {
      fail(path, "must be arn:aws:iam::<12-digit account>:role/[<path>/]<name>, got \"" + arn + "\" (" + why + ")");
    };
    constexpr std::string_view head = "arn:aws:iam::";
    if (!std::string_view(arn).starts_with(head)) bad("must start with arn:aws:iam::");
    std::string_view rest = std::string_view(arn).substr(head.size());
    if (rest.size() < 13 || !all_digits(rest.substr(0, 12), 12) || rest[12] != ':')
      bad("the account must be 12 digits");
    rest.remove_prefix(13);
    if (!rest.starts_with("role/")) bad("the resource must start with role/");
    rest.remove_prefix(4);  // keep the leading '/'
    auto last = rest.rfind('/');
    std::string_view role_path = rest.substr(0, last + 1);  // "/" or "/a/b/"
    std::string_view name = rest.substr(last + 1);
    if (name.empty() || name.size() > 64) bad("the role name must be 1-64 characters");
    for (char c : name)
      if (!role_name_char(c)) bad("the role name may only hold letters, digits and _+=,.@-");
    if (role_path.size() > 512) bad("the path must be at most 512 characters");
    for (std::size_t i = 1; i < role_path.size(); ++i) {
      char c = role_path[i];
      if (c == '/' && role_path[i - 1] == '/') bad("the path has an empty segment");
      if (c < 0x21 || c > 0x7e) bad("the path may only hold printable ASCII characters");
    }
  }

  // The tags' JSON shape is checked here; their STS rules (count, lengths, characters, `aws:`
  // prefix, keys distinct ignoring case) by check_tags, as for --session-tag.
  std::vector<std::pair<std::string, std::string>> parse_tags(const json& j, const std::string& path,
                                                              const std::string& role_arn) const {
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
        return path + "[" + std::to_string(i) + "] (tag " + quote_for_message(tags[i].key) + " of role " + role_arn +
               ")";
      });
    } catch (const Error& e) {
      throw Error(ErrorKind::kInvalidInput, prefix + e.message(), e.cause());
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& t : tags) out.emplace_back(std::move(t.key), std::move(t.value));
    return out;
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
    check_role_arn(r.arn, path + ".Arn");
    auto trust = j.find("AssumeRolePolicyDocument");
    if (trust == j.end()) fail(path + ".AssumeRolePolicyDocument", "missing");
    try {
      r.trust = parse_trust_json(*trust);
    } catch (const Error& e) {
      rethrow_nested(e, kTrustPrefix, path + ".AssumeRolePolicyDocument");
    }
    if (auto pol = j.find("Policies"); pol != j.end()) {
      if (!pol->is_array()) fail(path + ".Policies", "must be a list, got " + describe(*pol));
      for (std::size_t i = 0; i < pol->size(); ++i) {
        std::string p = path + ".Policies[" + std::to_string(i) + "]";
        try {
          r.policies.push_back(parse_document((*pol)[i].dump()));
        } catch (const Error& e) {
          rethrow_nested(e, kDocPrefix, p);
        }
      }
    }
    if (auto t = j.find("Tags"); t != j.end()) r.tags = parse_tags(*t, path + ".Tags", r.arn);
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
    json j = parse_json_input(text, prefix);
    if (!j.is_object()) fail("(document)", "must be a JSON object, got " + describe(j));
    check_members(j, "", {"Roles"}, "top-level");
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
    return cfg;
  }
};

bool action_matches(const TrustStatement& s, std::string_view action) {
  for (const auto& a : s.actions)
    if (wildcard_match(std::string_view(a), action, /*ignore_case=*/true)) return true;
  return false;
}

bool principal_matches(const TrustStatement& s, std::string_view principal) {
  if (s.any_principal) return true;
  for (const auto& svc : s.services)
    if (svc == principal) return true;
  auto pf = arn_fields(principal);
  for (const auto& a : s.aws) {
    if (a == principal) return true;
    auto af = arn_fields(a);
    // Account root: any principal of that account (same partition).
    if (!af.empty() && !pf.empty() && af[2] == "iam" && af[5] == "root" && af[1] == pf[1] && af[4] == pf[4])
      return true;
  }
  return false;
}

bool allows_action(const TrustPolicy& t, std::string_view principal, std::string_view action) {
  bool allowed = false;
  for (const auto& s : t.statements) {
    if (!principal_matches(s, principal) || !action_matches(s, action)) continue;
    if (s.effect == Effect::kDeny) return false;  // conditional or not: fail closed
    if (s.conditions.empty()) allowed = true;
  }
  return allowed;
}

}  // namespace

const Role* IamConfig::find(std::string_view arn) const {
  for (const auto& r : roles)
    if (r.arn == arn) return &r;
  return nullptr;
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
  return parse_iam_config(ss.str(), path);
}

bool trust_allows(const Role& role, std::string_view principal_arn, bool tag_session) {
  if (principal_arn.empty()) return false;
  if (!allows_action(role.trust, principal_arn, "sts:AssumeRole")) return false;
  if (tag_session && !allows_action(role.trust, principal_arn, "sts:TagSession")) return false;
  return true;
}

}  // namespace sluice::policy
