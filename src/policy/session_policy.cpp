#include "policy/session_policy.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "policy/evaluate.hpp"

namespace sluice::policy {
namespace {

// A key whose value belongs to the principal, not to the request: decided when the policy is made.
bool principal_key(std::string_view key, const Context& principal) {
  if (!context_values(principal, key).empty()) return true;
  return istarts_with(key, "aws:Principal") || iequals(key, "aws:username") || iequals(key, "aws:userid");
}

void add_unique(std::vector<std::string>& v, std::string s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

// The S3 actions an Action/NotAction entry matches, written as the store takes them: "s3:" and
// what is left of the pattern once it has matched "s3:" (case-insensitively; `*` spans anything).
// What is left is a set of suffixes of the pattern; an S3 action name holds no second ':', so a
// suffix with ':' matches none, and neither does an empty one. Examples: "*" and "s*:*" give
// "s3:*"; "s3:Get*" gives itself; "*:GetObject" gives "s3:GetObject"; "*:*Object" gives
// "s3:*Object"; "iam:*" gives nothing. The result never starts with '*' (RGW reads any action
// starting with '*' as every action) and holds no ':' after "s3:" (RGW matches actions per
// ':'-separated part, so it then agrees with the pattern).
std::vector<std::string> s3_actions(const std::string& pattern) {
  std::set<std::size_t> at{0};
  for (char c : std::string_view("s3:")) {
    std::set<std::size_t> next;
    for (std::size_t i : at) {
      for (std::size_t j = i; j < pattern.size(); ++j) {
        const char p = pattern[j];
        if (p == '*') {  // matches c and stays, or matches nothing and the next character tries c
          next.insert(j);
          continue;
        }
        if (p == '?' || ascii_lower(p) == c) next.insert(j + 1);
        break;
      }
    }
    at = std::move(next);
  }
  std::vector<std::string> out;
  for (std::size_t i : at) {
    std::string rest = pattern.substr(i);
    if (rest.empty() || rest.find(':') != std::string::npos) continue;
    if (rest.find_first_not_of('*') == std::string::npos) rest = "*";
    add_unique(out, "s3:" + rest);
  }
  return out;
}

// A resource or condition value with the principal's variables substituted.
struct Value {
  enum Kind { kText, kNoValue, kLiteralWildcard, kLiteralVariable } kind;
  std::string text;
};

// `wildcards`: whether `*`/`?` in the value are wildcards where it is used (resources, the Like and
// Arn operators). A literal `*`/`?` there (from ${*}, ${?}) cannot be written without variables.
// Nor can a `${` anywhere, or a condition value that begins with `$` (from ${$}, a value
// substituted for a variable, an unclosed `${`, or the text of a 2008-10-17 policy, all of which
// Sluice takes as they are): Ceph RGW 16 takes a condition value that begins with `$` as a policy
// variable when it is `${...}` (it substitutes ${aws:username}, for one) and refuses the whole
// policy otherwise ("$x", "${x"); it refuses ${aws:username} in a resource
// (tests/integration/sts_rgw_test.cpp). It reads any other `$` as it is, a `${` after a condition
// value's first character included; that `${` is not written either, so that no store's reading
// of it matters.
Value value_of(const std::string& v, Version ver, const Context& ctx, bool resource, bool wildcards) {
  std::optional<Pattern> p = ver == Version::k2008_10_17 ? Pattern::plain(v)
                             : resource                  ? substitute_resource(v, ctx)
                                                         : substitute(v, ctx);
  if (!p) return {Value::kNoValue, {}};
  for (std::size_t i = 0; wildcards && i < p->text.size(); ++i) {
    if (p->literal[i] && (p->text[i] == '*' || p->text[i] == '?')) return {Value::kLiteralWildcard, p->text};
  }
  if (p->text.find("${") != std::string::npos || (!resource && p->text.starts_with('$'))) {
    return {Value::kLiteralVariable, p->text};
  }
  return {Value::kText, p->text};
}

// The spelling the store gives a request condition key. AWS and Sluice compare condition keys
// case-insensitively; Ceph RGW 16 looks them up case-sensitively in the request's environment
// (rgw::IAM::Environment, a std::unordered_multimap<std::string, std::string>), so a condition on
// "S3:Prefix" never holds there: a Deny spelled so would never deny. Each key is written as RGW
// sets it (rgw_op.cc: rgw_build_iam_environment, RGWListBucket::verify_permission,
// rgw_add_grant_to_iam_environment, ...; checked live in tests/integration/sts_rgw_test.cpp), or
// as AWS spells it for the keys RGW 16 does not set. A key in neither list is kept as written: no
// store sets it, in any spelling, so it is missing there whatever the case.
constexpr std::string_view kKnownKeys[] = {
    // as Ceph RGW spells them (rgw_op.cc, rgw_rest_s3.cc)
    "aws:CurrentTime", "aws:EpochTime", "aws:Referer", "aws:SecureTransport", "aws:SourceIp", "aws:UserAgent",
    "sts:authentication", "rgw:subuser", "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:x-amz-acl",
    "s3:x-amz-grant-read", "s3:x-amz-grant-write", "s3:x-amz-grant-read-acp", "s3:x-amz-grant-write-acp",
    "s3:x-amz-grant-full-control", "s3:x-amz-copy-source", "s3:x-amz-metadata-directive",
    "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id",
    // AWS's, not set by RGW 16
    "aws:SourceArn", "aws:SourceAccount", "aws:SourceVpc", "aws:SourceVpce", "aws:RequestedRegion",
    "aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge", "aws:TokenIssueTime", "aws:ViaAWSService", "aws:TagKeys",
    "s3:x-amz-storage-class", "s3:x-amz-website-redirect-location", "s3:x-amz-content-sha256",
    "s3:x-amz-server-side-encryption-customer-algorithm", "s3:VersionId", "s3:LocationConstraint",
    "s3:RequestObjectTagKeys", "s3:object-lock-mode", "s3:object-lock-retain-until-date",
    "s3:object-lock-remaining-retention-days", "s3:object-lock-legal-hold", "s3:authType", "s3:signatureversion",
    "s3:signatureAge", "s3:TlsVersion",
};
// Keys of the form prefix + tag key: the prefix is written as RGW (or AWS) spells it, the tag key
// as it is (RGW compares it case-sensitively with the tag's key).
constexpr std::string_view kKnownKeyPrefixes[] = {
    "s3:ExistingObjectTag/", "s3:RequestObjectTag/", "s3:ResourceTag/",  // as Ceph RGW spells them
    "aws:RequestTag/", "aws:ResourceTag/",
};

std::string store_key(const std::string& key) {
  for (std::string_view k : kKnownKeys) {
    if (iequals(k, key)) return std::string(k);
  }
  for (std::string_view p : kKnownKeyPrefixes) {
    if (key.size() > p.size() && istarts_with(key, p)) return std::string(p) + key.substr(p.size());
  }
  return key;
}

// Ceph RGW 16 takes a set qualifier (ForAllValues:, ForAnyValue:) only with these operators (with
// or without IfExists) and refuses the whole policy (MalformedPolicyDocument) with any other,
// negated ones included (tests/integration/sts_rgw_test.cpp, RgwSessionPolicyGrammar).
bool store_takes_qualifier(Operator op) {
  return op == Operator::kStringEquals || op == Operator::kStringEqualsIgnoreCase || op == Operator::kStringLike;
}

bool wildcard_operator(Operator op) {
  switch (op) {
    case Operator::kStringLike:
    case Operator::kStringNotLike:
    case Operator::kArnEquals:
    case Operator::kArnLike:
    case Operator::kArnNotEquals:
    case Operator::kArnNotLike: return true;
    default: return false;
  }
}

bool arn_operator(Operator op) {
  return op == Operator::kArnEquals || op == Operator::kArnLike || op == Operator::kArnNotEquals ||
         op == Operator::kArnNotLike;
}

// A Deny that the store cannot be given as it is: leaving it out would widen what the store
// allows, so the session policy is refused.
[[noreturn]] void refuse(const std::string& where, const std::string& why) {
  throw Error(ErrorKind::kInvalidInput,
              fmt::format("{}: a Deny statement {} cannot be given to the store; leaving it out would widen what the "
                          "job's credentials allow: remove StoreRoleArn or rewrite the statement",
                          where, why));
}

nlohmann::json list(const std::vector<std::string>& v) {
  if (v.size() == 1) return v.front();
  return nlohmann::json(v);
}

}  // namespace

SessionPolicy concrete_session_policy(const std::vector<Document>& policies, const Context& principal) {
  SessionPolicy out;
  nlohmann::json statements = nlohmann::json::array();
  for (size_t pi = 0; pi < policies.size(); ++pi) {
    const Document& doc = policies[pi];
    for (size_t si = 0; si < doc.statements.size(); ++si) {
      const Statement& s = doc.statements[si];
      const bool deny = s.effect == Effect::kDeny;
      const std::string where =
          fmt::format("policy {} statement {}{}", pi, si, s.sid.empty() ? "" : " (Sid " + s.sid + ")");
      auto omit = [&](const std::string& why) { out.omitted.push_back(where + ": " + why); };

      // Conditions on the principal's keys first: a statement that never applies to this session
      // is left out, whatever else it holds.
      bool applies = true;
      for (const auto& c : s.conditions) {
        if (principal_key(c.key, principal) && !condition_holds(c, doc.version, principal)) applies = false;
      }
      if (!applies) continue;

      if (!deny && s.not_action) { omit("NotAction"); continue; }
      if (!deny && s.not_resource) { omit("NotResource"); continue; }

      std::vector<std::string> actions;
      for (const auto& a : s.actions) {
        for (auto& x : s3_actions(a)) add_unique(actions, std::move(x));
      }
      const bool all_s3 = std::find(actions.begin(), actions.end(), "s3:*") != actions.end();
      if (s.not_action) {
        // RGW 16 accepts NotAction but never applies it (tests/integration/sts_rgw_test.cpp,
        // RgwSessionPolicyEffects), so the Deny is written with Action: s3:* when it leaves out no
        // S3 action; the S3 actions it denies otherwise cannot be listed.
        if (all_s3) continue;  // it denies no S3 action: not about the store
        if (!actions.empty()) {
          std::string left_out;
          for (const auto& x : actions) left_out += (left_out.empty() ? "" : ", ") + x;
          refuse(where, "with NotAction that leaves out S3 actions (" + left_out +
                            "): the store (Ceph RGW 16) accepts NotAction but never applies it, and the S3 actions "
                            "it denies cannot be listed in its place");
        }
        actions = {"s3:*"};
      } else if (all_s3) {
        actions = {"s3:*"};
      }
      if (actions.empty()) continue;  // not about the store: nothing to omit

      // Resource: an entry whose variable has no value matches nothing and is left out. NotResource
      // (Deny only): such an entry excludes nothing; with none left, the Deny covers every resource.
      std::vector<std::string> resources;
      std::optional<std::string> literal_resource;   // the first entry that would hold a literal * or ?
      std::optional<std::string> variable_resource;  // the first entry that would hold a literal ${
      for (const auto& r : s.resources) {
        Value v = value_of(r, doc.version, principal, true, true);
        if (v.kind == Value::kText) resources.push_back(v.text);
        else if (v.kind == Value::kLiteralWildcard && !literal_resource) literal_resource = r;
        else if (v.kind == Value::kLiteralVariable && !variable_resource) variable_resource = r;
      }
      if (!literal_resource && !variable_resource && resources.empty() && !s.not_resource) {
        continue;  // never applies to this session
      }

      // Conditions on request keys: kept, with the principal's variables substituted in their
      // values; a value whose variable has no value is left out. Written as Ceph RGW 16 evaluates
      // them (rgw_iam_policy.cc, Condition::eval), which differs from AWS and Sluice in six ways:
      //  - a missing key makes any operator false unless it ends in IfExists (AWS: a negated
      //    operator is true). In a Deny, a negated operator without a set qualifier is written with
      //    IfExists: Sluice decides that form exactly as the plain one, key present or missing, and
      //    RGW then denies on a missing key too. In an Allow, RGW's false only narrows it;
      //  - Null is true exactly when the key is missing, whatever its value: "the key is present"
      //    is written StringLike "*" (false on a missing key, true on any value, in both);
      //  - the Arn operators are never true on a present key (not implemented): an Allow with one
      //    is left out, a Deny refused;
      //  - a negated operator with several values is true when any one value does not match (AWS:
      //    when none does; NotIpAddress excepted): a Deny then only denies more, but an Allow would
      //    allow more, and is left out;
      //  - keys are looked up case-sensitively: each is written in the store's spelling (store_key);
      //  - a set qualifier goes only with StringEquals, StringEqualsIgnoreCase and StringLike; with
      //    any other operator the whole policy is refused: an Allow is left out, a Deny refused.
      struct Written {
        Operator op;
        bool negated_plain;                // negated, no set qualifier: values of several merge exactly
        std::vector<std::string> values;
        std::vector<std::string> sources;  // the conditions written here, as "StringNotLike on s3:prefix"
      };
      std::map<std::string, std::map<std::string, Written>> store;  // operator -> key -> what is written
      std::set<std::string> absent_keys, present_keys;  // presence only decides these (store keys)
      std::optional<std::string> literal_condition;   // the first condition with a literal * or ?
      std::optional<std::string> variable_condition;  // the first with a literal ${ or a leading $
      std::optional<std::string> arn_condition;       // the first condition with an Arn operator
      std::optional<std::string> qualified_condition;  // the first with a set qualifier the store refuses
      std::optional<std::string> clash;               // two conditions the store would read as one
      for (const auto& c : s.conditions) {
        if (principal_key(c.key, principal)) continue;  // decided above: true
        const std::string what = c.op_name + " on " + c.key;
        const std::string key = store_key(c.key);
        std::vector<std::string> values;
        if (c.op != Operator::kNull) {
          bool literal = false, variable = false;
          for (const auto& v : c.values) {
            Value x = value_of(v, doc.version, principal, false, wildcard_operator(c.op));
            if (x.kind == Value::kText) add_unique(values, x.text);
            literal = literal || x.kind == Value::kLiteralWildcard;
            variable = variable || x.kind == Value::kLiteralVariable;
          }
          if (literal) {
            if (!literal_condition) literal_condition = what;
            continue;
          }
          if (variable) {
            if (!variable_condition) variable_condition = what;
            continue;
          }
        }
        if (c.op == Operator::kNull || values.empty()) {
          // Null, or no value can match: the condition depends only on whether the key is present.
          Condition none = c;
          if (c.op != Operator::kNull) none.values.clear();
          const bool absent = condition_holds(none, doc.version, {});
          const bool present = condition_holds(none, doc.version, {{c.key, {"x"}}});
          if (absent && present) continue;  // always true
          if (!absent && !present) {        // never true
            applies = false;
            break;
          }
          (absent ? absent_keys : present_keys).insert(key);
          continue;
        }
        if (arn_operator(c.op) && !arn_condition) arn_condition = what;
        if (c.qualifier != SetQualifier::kNone && !store_takes_qualifier(c.op) && !qualified_condition) {
          qualified_condition = what;
        }
        std::string op = c.op_name;
        const bool negated_plain = is_negated(c.op) && c.qualifier == SetQualifier::kNone;
        if (deny && negated_plain && !c.if_exists) op += "IfExists";
        // Two conditions meet here when one was given IfExists above and the other was written
        // with it, or when their keys differ only in case (one key to Sluice, AWS and, written in
        // its spelling, the store). Negated with no set qualifier, the values of both together are
        // one condition (no value may match); otherwise the store would take either one's values
        // where both must hold, and the statement cannot be given to it.
        auto [at, fresh] = store[op].try_emplace(key, Written{c.op, negated_plain, {}, {}});
        Written& w = at->second;
        if (!fresh && !(w.negated_plain && negated_plain) && !clash) {
          clash = "conditions " + w.sources.front() + " and " + what;
        }
        w.sources.push_back(what);
        for (auto& v : values) add_unique(w.values, std::move(v));
      }
      for (const auto& k : absent_keys) {
        if (present_keys.count(k)) applies = false;  // absent and present: never
      }
      if (!applies) continue;

      // An Allow whose negated operator has several values once written (NotIpAddress excepted).
      std::optional<std::string> several_negated;
      for (const auto& [op, keys] : store) {
        for (const auto& [key, w] : keys) {
          if (deny || several_negated || w.values.size() < 2 || !is_negated(w.op) || w.op == Operator::kNotIpAddress) {
            continue;
          }
          several_negated = w.sources.size() == 1 ? w.sources.front() : w.sources.front() + " with " + w.sources.back();
        }
      }

      if (literal_resource) {
        if (!deny) { omit("a resource holds a literal * or ?"); continue; }
        refuse(where, fmt::format("whose {} {} would hold a literal * or ? (from ${{*}} or ${{?}}), which the store "
                                  "reads as a wildcard",
                                  s.not_resource ? "NotResource" : "Resource", *literal_resource));
      }
      if (variable_resource) {
        if (!deny) { omit("a resource holds a literal ${, which the store reads as a policy variable"); continue; }
        refuse(where, fmt::format("whose {} {} would hold a literal ${{ (from ${{$}}, a value substituted for a "
                                  "variable or text taken as it is), which the store (Ceph RGW 16) reads as a policy "
                                  "variable",
                                  s.not_resource ? "NotResource" : "Resource", *variable_resource));
      }
      if (literal_condition) {
        if (!deny) {
          omit(fmt::format("a value of condition {} holds a literal * or ?", *literal_condition));
          continue;
        }
        refuse(where, fmt::format("whose condition {} has a value that would hold a literal * or ? (from ${{*}} or "
                                  "${{?}}), which the store reads as a wildcard",
                                  *literal_condition));
      }
      if (variable_condition) {
        if (!deny) {
          omit(fmt::format("a value of condition {} holds a literal ${{ or begins with $, which the store reads "
                           "as a policy variable",
                           *variable_condition));
          continue;
        }
        refuse(where, fmt::format("whose condition {} has a value that would hold a literal ${{ or begin with $ (from "
                                  "${{$}}, a value substituted for a variable or text taken as it is), which the store "
                                  "(Ceph RGW 16) reads as a policy variable (it substitutes ${{aws:username}} there, for "
                                  "one) or refuses",
                                  *variable_condition));
      }
      if (arn_condition) {
        if (!deny) {
          omit(fmt::format("condition {}: the store (Ceph RGW 16) never matches an Arn operator", *arn_condition));
          continue;
        }
        refuse(where, fmt::format("whose condition {} uses an Arn operator (the store, Ceph RGW 16, does not "
                                  "implement ArnEquals, ArnLike, ArnNotEquals or ArnNotLike and takes them as false "
                                  "whenever the key is present, so it would not deny where Sluice does)",
                                  *arn_condition));
      }
      if (qualified_condition) {
        constexpr std::string_view why =
            "the store (Ceph RGW 16) takes ForAllValues: and ForAnyValue: only with StringEquals, "
            "StringEqualsIgnoreCase and StringLike, and refuses the whole policy (MalformedPolicyDocument) with any "
            "other operator, negated ones included";
        if (!deny) {
          omit(fmt::format("condition {}: {}", *qualified_condition, why));
          continue;
        }
        refuse(where, fmt::format("whose condition {} has a set qualifier with an operator the store cannot take ({})",
                                  *qualified_condition, why));
      }
      if (clash) {
        constexpr std::string_view why =
            "are on the same key under the same operator once the key is written in the store's spelling (condition "
            "keys are case-insensitive, but the store, Ceph RGW 16, looks them up case-sensitively), and the store "
            "would take either one's values where both must hold";
        if (!deny) {
          omit(fmt::format("{} {}", *clash, why));
          continue;
        }
        refuse(where, fmt::format("whose {} {}", *clash, why));
      }
      if (several_negated) {  // Allow only
        omit(fmt::format("condition {} has several values: the store (Ceph RGW 16) takes a negated operator as true "
                         "when any one value does not match, not only when none does",
                         *several_negated));
        continue;
      }
      nlohmann::json condition = nlohmann::json::object();
      for (const auto& [op, keys] : store) {
        for (const auto& [key, w] : keys) condition[op][key] = list(w.values);
      }
      for (const auto& k : absent_keys) condition["Null"][k] = "true";
      for (const auto& k : present_keys) {
        // A StringLike on the key (no IfExists, no set qualifier) already requires it.
        if (!store.count("StringLike") || !store["StringLike"].count(k)) condition["StringLike"][k] = "*";
      }
      nlohmann::json j;
      if (!s.sid.empty()) j["Sid"] = s.sid;
      j["Effect"] = deny ? "Deny" : "Allow";
      j["Action"] = list(actions);
      if (!s.not_resource) j["Resource"] = list(resources);
      else if (resources.empty()) j["Resource"] = "*";
      else j["NotResource"] = list(resources);
      if (!condition.empty()) j["Condition"] = condition;
      statements.push_back(std::move(j));
    }
  }
  if (statements.empty()) {
    statements.push_back({{"Effect", "Deny"}, {"Action", "s3:*"}, {"Resource", "*"}});
  }
  nlohmann::json doc{{"Version", "2012-10-17"}, {"Statement", statements}};
  out.json = doc.dump();
  return out;
}

}  // namespace sluice::policy
