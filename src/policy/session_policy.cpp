#include "policy/session_policy.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "policy/evaluate.hpp"

namespace sluice::policy {
namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// A key whose value belongs to the principal, not to the request: decided when the policy is made.
bool principal_key(std::string_view key, const Context& principal) {
  if (!context_values(principal, key).empty()) return true;
  return starts_with_ci(key, "aws:Principal") || iequals(key, "aws:username") || iequals(key, "aws:userid");
}

// The text of a substituted pattern, or nullopt when it has no value or holds a literal `*`/`?`
// (which only a policy variable such as ${*} can express).
std::optional<std::string> concrete(std::optional<Pattern> p) {
  if (!p) return std::nullopt;
  for (size_t i = 0; i < p->text.size(); ++i) {
    if (p->literal[i] && (p->text[i] == '*' || p->text[i] == '?')) return std::nullopt;
  }
  return p->text;
}

std::optional<std::string> value_of(const std::string& v, Version ver, const Context& ctx, bool resource) {
  if (ver == Version::k2008_10_17) return concrete(Pattern::plain(v));
  return concrete(resource ? substitute_resource(v, ctx) : substitute(v, ctx));
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
      auto omit = [&](const std::string& why) {
        out.omitted.push_back(fmt::format("policy {} statement {}{}: {}", pi, si, s.sid.empty() ? "" : " (Sid " + s.sid + ")", why));
      };
      if (s.not_action) { omit("NotAction"); continue; }
      if (s.not_resource) { omit("NotResource"); continue; }
      std::vector<std::string> actions;
      for (const auto& a : s.actions) {
        if (a == "*") actions.push_back("s3:*");
        else if (starts_with_ci(a, "s3:")) actions.push_back(a);
      }
      if (actions.empty()) continue;  // not about the store: nothing to omit
      std::vector<std::string> resources;
      bool literal_wildcard = false;
      for (const auto& r : s.resources) {
        if (auto v = value_of(r, doc.version, principal, true)) {
          resources.push_back(*v);
        } else if (doc.version == Version::k2012_10_17 && substitute_resource(r, principal)) {
          literal_wildcard = true;
        }
      }
      if (literal_wildcard) { omit("a resource holds a literal * or ?"); continue; }
      if (resources.empty()) continue;  // matches nothing for this session: never applies
      nlohmann::json condition = nlohmann::json::object();
      bool applies = true;
      for (const auto& c : s.conditions) {
        if (principal_key(c.key, principal)) {
          if (!condition_holds(c, doc.version, principal)) applies = false;
          continue;
        }
        std::vector<std::string> values;
        for (const auto& v : c.values) {
          if (auto x = value_of(v, doc.version, principal, false)) {
            values.push_back(*x);
          } else if (doc.version == Version::k2012_10_17 && substitute(v, principal)) {
            literal_wildcard = true;
          }
        }
        if (literal_wildcard) {
          omit(fmt::format("a value of condition {} on {} holds a literal * or ?", c.op_name, c.key));
          applies = false;
          break;
        }
        if (values.empty() && c.op != Operator::kNull) {
          // No value can match: the condition depends only on whether the key is present.
          Condition none = c;
          none.values.clear();
          const bool absent = condition_holds(none, doc.version, {});
          const bool present = condition_holds(none, doc.version, {{c.key, {"x"}}});
          if (absent && present) continue;            // always true
          if (!absent && !present) { applies = false; break; }  // never true
          condition["Null"][c.key] = absent ? "true" : "false";
          continue;
        }
        condition[c.op_name][c.key] = list(values);
      }
      if (!applies) continue;
      nlohmann::json j;
      if (!s.sid.empty()) j["Sid"] = s.sid;
      j["Effect"] = s.effect == Effect::kAllow ? "Allow" : "Deny";
      j["Action"] = list(actions);
      j["Resource"] = list(resources);
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
