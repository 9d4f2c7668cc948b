#include "policy/evaluate.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

namespace sluice::policy {
namespace {

std::optional<Pattern> policy_value(const std::string& v, Version ver, const Context& ctx) {
  if (ver == Version::k2008_10_17) return Pattern::plain(v);
  return substitute(v, ctx);
}

struct Cidr {
  int family = 0;
  unsigned char addr[16]{};
  int bits = 0;
};

std::optional<Cidr> parse_cidr(const std::string& s, bool allow_prefix) {
  Cidr c;
  std::string a = s;
  std::optional<int> bits;
  if (auto slash = a.find('/'); slash != std::string::npos) {
    if (!allow_prefix) return std::nullopt;
    int n = -1;
    const char* b = a.data() + slash + 1;
    const char* e = a.data() + a.size();
    auto [p, ec] = std::from_chars(b, e, n);
    if (ec != std::errc() || p != e || b == e) return std::nullopt;
    bits = n;
    a.resize(slash);
  }
  if (inet_pton(AF_INET, a.c_str(), c.addr) == 1) {
    c.family = AF_INET;
    c.bits = bits.value_or(32);
    if (c.bits < 0 || c.bits > 32) return std::nullopt;
  } else if (inet_pton(AF_INET6, a.c_str(), c.addr) == 1) {
    c.family = AF_INET6;
    c.bits = bits.value_or(128);
    if (c.bits < 0 || c.bits > 128) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return c;
}

bool in_cidr(const Cidr& net, const Cidr& ip) {
  if (net.family != ip.family) return false;
  int full = net.bits / 8, rest = net.bits % 8;
  if (std::memcmp(net.addr, ip.addr, static_cast<std::size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (net.addr[full] & mask) == (ip.addr[full] & mask);
}

template <typename T>
bool compare(Operator op, T ctx, T pol) {
  switch (op) {
    case Operator::kNumericEquals:
    case Operator::kDateEquals: return ctx == pol;
    case Operator::kNumericLessThan:
    case Operator::kDateLessThan: return ctx < pol;
    case Operator::kNumericLessThanEquals:
    case Operator::kDateLessThanEquals: return ctx <= pol;
    case Operator::kNumericGreaterThan:
    case Operator::kDateGreaterThan: return ctx > pol;
    case Operator::kNumericGreaterThanEquals:
    case Operator::kDateGreaterThanEquals: return ctx >= pol;
    default: return false;
  }
}

Operator positive(Operator op) {
  switch (op) {
    case Operator::kStringNotEquals: return Operator::kStringEquals;
    case Operator::kStringNotEqualsIgnoreCase: return Operator::kStringEqualsIgnoreCase;
    case Operator::kStringNotLike: return Operator::kStringLike;
    case Operator::kNumericNotEquals: return Operator::kNumericEquals;
    case Operator::kDateNotEquals: return Operator::kDateEquals;
    case Operator::kArnNotEquals: return Operator::kArnEquals;
    case Operator::kArnNotLike: return Operator::kArnLike;
    case Operator::kNotIpAddress: return Operator::kIpAddress;
    default: return op;
  }
}

// Whether the (positive) operator matches context value `cv` against one policy value.
bool value_matches(Operator op, const std::string& cv, const std::string& pv, Version ver,
                   const Context& ctx) {
  switch (op) {
    case Operator::kStringEquals:
    case Operator::kStringEqualsIgnoreCase: {
      auto p = policy_value(pv, ver, ctx);
      if (!p) return false;
      return op == Operator::kStringEquals ? p->text == cv : iequals(p->text, cv);
    }
    case Operator::kStringLike: {
      auto p = policy_value(pv, ver, ctx);
      return p && wildcard_match(*p, cv, false);
    }
    case Operator::kArnEquals:
    case Operator::kArnLike: {
      auto p = policy_value(pv, ver, ctx);
      return p && arn_match(*p, cv);
    }
    case Operator::kNumericEquals:
    case Operator::kNumericLessThan:
    case Operator::kNumericLessThanEquals:
    case Operator::kNumericGreaterThan:
    case Operator::kNumericGreaterThanEquals: {
      double c, p;
      return parse_number(cv, c) && parse_number(pv, p) && compare(op, c, p);
    }
    case Operator::kDateEquals:
    case Operator::kDateLessThan:
    case Operator::kDateLessThanEquals:
    case Operator::kDateGreaterThan:
    case Operator::kDateGreaterThanEquals: {
      long long c, p;
      return parse_date(cv, c) && parse_date(pv, p) && compare(op, c, p);
    }
    case Operator::kBool: return iequals(cv, pv);
    case Operator::kIpAddress: {
      auto net = parse_cidr(pv, true);
      auto ip = parse_cidr(cv, false);
      return net && ip && in_cidr(*net, *ip);
    }
    default: return false;
  }
}

// Positive operator: any policy value matches. Negated: no policy value matches (values AND).
bool value_holds(const Condition& c, const std::string& cv, Version ver, const Context& ctx) {
  Operator pos = positive(c.op);
  bool any = std::any_of(c.values.begin(), c.values.end(),
                         [&](const std::string& pv) { return value_matches(pos, cv, pv, ver, ctx); });
  return is_negated(c.op) ? !any : any;
}

bool action_matches(const Statement& s, const std::string& action) {
  bool hit = std::any_of(s.actions.begin(), s.actions.end(),
                         [&](const std::string& a) { return wildcard_match(a, action, true); });
  return s.not_action ? !hit : hit;
}

bool resource_matches(const Statement& s, Version ver, const Request& r) {
  bool hit = std::any_of(s.resources.begin(), s.resources.end(), [&](const std::string& res) {
    if (ver == Version::k2008_10_17) return wildcard_match(res, r.resource, false);
    auto p = substitute_resource(res, r.context);
    return p && wildcard_match(*p, r.resource, false);
  });
  return s.not_resource ? !hit : hit;
}

}  // namespace

bool condition_holds(const Condition& c, Version ver, const Context& ctx) {
  std::vector<std::string> vals = context_values(ctx, c.key);
  if (c.op == Operator::kNull) {
    bool absent = vals.empty();
    return std::any_of(c.values.begin(), c.values.end(),
                       [&](const std::string& v) { return (v == "true") == absent; });
  }
  if (vals.empty()) {
    if (c.if_exists) return true;
    switch (c.qualifier) {
      case SetQualifier::kForAllValues: return true;
      case SetQualifier::kForAnyValue: return false;
      case SetQualifier::kNone: return is_negated(c.op);
    }
  }
  auto holds = [&](const std::string& cv) { return value_holds(c, cv, ver, ctx); };
  switch (c.qualifier) {
    case SetQualifier::kForAllValues: return std::all_of(vals.begin(), vals.end(), holds);
    case SetQualifier::kForAnyValue: return std::any_of(vals.begin(), vals.end(), holds);
    case SetQualifier::kNone: break;
  }
  // No qualifier: a single-valued comparison. A context key with several values matches a
  // positive operator when any value does; a negated operator is the negation of that.
  Condition pos = c;
  pos.op = positive(c.op);
  bool any = std::any_of(vals.begin(), vals.end(),
                         [&](const std::string& cv) { return value_holds(pos, cv, ver, ctx); });
  return is_negated(c.op) ? !any : any;
}

bool statement_applies(const Statement& s, Version ver, const Request& r) {
  if (!action_matches(s, r.action)) return false;
  if (!resource_matches(s, ver, r)) return false;
  return std::all_of(s.conditions.begin(), s.conditions.end(),
                     [&](const Condition& c) { return condition_holds(c, ver, r.context); });
}

Decision evaluate(const std::vector<Document>& identity, const std::vector<Document>& session,
                  const Request& r) {
  std::vector<StatementRef> denies, identity_allows, session_allows;
  auto scan = [&](const std::vector<Document>& docs, PolicySet set, std::vector<StatementRef>& allows) {
    for (std::size_t p = 0; p < docs.size(); ++p) {
      for (std::size_t i = 0; i < docs[p].statements.size(); ++i) {
        const Statement& s = docs[p].statements[i];
        if (!statement_applies(s, docs[p].version, r)) continue;
        StatementRef ref{set, p, i, s.sid};
        (s.effect == Effect::kDeny ? denies : allows).push_back(std::move(ref));
      }
    }
  };
  scan(identity, PolicySet::kIdentity, identity_allows);
  scan(session, PolicySet::kSession, session_allows);
  Decision d;
  if (!denies.empty()) {
    d.outcome = Outcome::kExplicitDeny;
    d.statements = std::move(denies);
  } else if (!identity_allows.empty() && (session.empty() || !session_allows.empty())) {
    d.outcome = Outcome::kAllow;
    d.statements = std::move(identity_allows);
    d.statements.insert(d.statements.end(), session_allows.begin(), session_allows.end());
  }
  return d;
}

}  // namespace sluice::policy
