#include "policy/document.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "policy/json_values.hpp"
#include "core/json_input.hpp"

namespace sluice::policy {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw Error(ErrorKind::kInvalidInput, "invalid policy document: " + path + ": " + why);
}

struct OpName {
  std::string_view name;
  Operator op;
};
constexpr OpName kOps[] = {
    {"StringEquals", Operator::kStringEquals},
    {"StringNotEquals", Operator::kStringNotEquals},
    {"StringEqualsIgnoreCase", Operator::kStringEqualsIgnoreCase},
    {"StringNotEqualsIgnoreCase", Operator::kStringNotEqualsIgnoreCase},
    {"StringLike", Operator::kStringLike},
    {"StringNotLike", Operator::kStringNotLike},
    {"NumericEquals", Operator::kNumericEquals},
    {"NumericNotEquals", Operator::kNumericNotEquals},
    {"NumericLessThan", Operator::kNumericLessThan},
    {"NumericLessThanEquals", Operator::kNumericLessThanEquals},
    {"NumericGreaterThan", Operator::kNumericGreaterThan},
    {"NumericGreaterThanEquals", Operator::kNumericGreaterThanEquals},
    {"DateEquals", Operator::kDateEquals},
    {"DateNotEquals", Operator::kDateNotEquals},
    {"DateLessThan", Operator::kDateLessThan},
    {"DateLessThanEquals", Operator::kDateLessThanEquals},
    {"DateGreaterThan", Operator::kDateGreaterThan},
    {"DateGreaterThanEquals", Operator::kDateGreaterThanEquals},
    {"Bool", Operator::kBool},
    {"Null", Operator::kNull},
    {"ArnEquals", Operator::kArnEquals},
    {"ArnLike", Operator::kArnLike},
    {"ArnNotEquals", Operator::kArnNotEquals},
    {"ArnNotLike", Operator::kArnNotLike},
    {"IpAddress", Operator::kIpAddress},
    {"NotIpAddress", Operator::kNotIpAddress},
};

bool is_numeric(Operator op) { return op >= Operator::kNumericEquals && op <= Operator::kNumericGreaterThanEquals; }
bool is_date(Operator op) { return op >= Operator::kDateEquals && op <= Operator::kDateGreaterThanEquals; }
bool is_ip(Operator op) { return op == Operator::kIpAddress || op == Operator::kNotIpAddress; }

// Parses "ForAnyValue:StringLikeIfExists" into its parts; throws naming `path` when unknown.
Condition parse_operator(const std::string& text, const std::string& path) {
  Condition c;
  c.op_name = text;
  std::string_view rest = text;
  if (rest.starts_with("ForAllValues:")) {
    c.qualifier = SetQualifier::kForAllValues;
    rest.remove_prefix(13);
  } else if (rest.starts_with("ForAnyValue:")) {
    c.qualifier = SetQualifier::kForAnyValue;
    rest.remove_prefix(12);
  }
  std::string_view base = rest;
  if (base.ends_with("IfExists")) {
    c.if_exists = true;
    base.remove_suffix(8);
  }
  for (const auto& o : kOps) {
    if (o.name == base) {
      c.op = o.op;
      if (o.op == Operator::kNull && (c.if_exists || c.qualifier != SetQualifier::kNone))
        fail(path, "the Null operator takes no IfExists suffix or set qualifier");
      return c;
    }
  }
  if (base == "BinaryEquals") fail(path, "condition operator \"" + text + "\" is not supported");
  fail(path, "unknown condition operator \"" + text + "\"");
}

bool ip_cidr_valid(std::string_view s) {
  std::string addr(s);
  int max_bits = 32;
  std::string bits;
  if (auto slash = addr.find('/'); slash != std::string::npos) {
    bits = addr.substr(slash + 1);
    addr.resize(slash);
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) != 1) {
    if (inet_pton(AF_INET6, addr.c_str(), buf) != 1) return false;
    max_bits = 128;
  }
  if (bits.empty()) return s.find('/') == std::string_view::npos;
  int n = -1;
  auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n);
  return ec == std::errc() && p == bits.data() + bits.size() && n >= 0 && n <= max_bits;
}

void validate_value(const Condition& c, const std::string& v, const std::string& path) {
  double d;
  long long ms;
  if (is_numeric(c.op) && !parse_number(v, d)) fail(path, "not a number: \"" + v + "\"");
  if (is_date(c.op) && !parse_date(v, ms)) fail(path, "not a date: \"" + v + "\"");
  if ((c.op == Operator::kBool || c.op == Operator::kNull) && v != "true" && v != "false")
    fail(path, "must be \"true\" or \"false\", got \"" + v + "\"");
  if (is_ip(c.op) && !ip_cidr_valid(v)) fail(path, "not an IP address or CIDR block: \"" + v + "\"");
}

std::string scalar_text(const json& j, const std::string& path) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
  if (j.is_number()) return j.dump();
  fail(path, "must be a string, number or boolean, got " + describe(j));
}

std::vector<Condition> parse_conditions(const json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "must be an object, got " + describe(j));
  std::vector<Condition> out;
  for (const auto& [op_text, keys] : j.items()) {
    std::string op_path = path + "." + op_text;
    Condition proto = parse_operator(op_text, op_path);
    if (!keys.is_object()) fail(op_path, "must be an object of condition keys, got " + describe(keys));
    if (keys.empty()) fail(op_path, "has no condition keys");
    for (const auto& [key, vals] : keys.items()) {
      std::string key_path = op_path + "." + key;
      Condition c = proto;
      c.key = key;
      if (vals.is_array()) {
        if (vals.empty()) fail(key_path, "has no values");
        for (std::size_t i = 0; i < vals.size(); ++i) {
          std::string vp = key_path + "[" + std::to_string(i) + "]";
          c.values.push_back(scalar_text(vals[i], vp));
          validate_value(c, c.values.back(), vp);
        }
      } else {
        c.values.push_back(scalar_text(vals, key_path));
        validate_value(c, c.values.back(), key_path);
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<std::string> string_list(const json& j, const std::string& path) { return string_or_list(j, path, "invalid policy document: "); }

void check_action(const std::string& a, const std::string& path) {
  if (a == "*") return;
  auto colon = a.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == a.size())
    fail(path, "an action must be \"*\" or \"service:action\", got \"" + a + "\"");
}

void check_resource(const std::string& r, const std::string& path) {
  if (r == "*") return;
  if (!r.starts_with("arn:")) fail(path, "a resource must be \"*\" or an ARN, got \"" + r + "\"");
}

Statement parse_statement(const json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "a statement must be an object, got " + describe(j));
  Statement s;
  bool has_effect = false;
  bool has_action = false, has_not_action = false, has_resource = false, has_not_resource = false;
  for (const auto& [k, v] : j.items()) {
    std::string p = path + "." + k;
    if (k == "Sid") {
      if (!v.is_string()) fail(p, "must be a string, got " + describe(v));
      s.sid = v.get<std::string>();
    } else if (k == "Effect") {
      if (v == "Allow") s.effect = Effect::kAllow;
      else if (v == "Deny") s.effect = Effect::kDeny;
      else fail(p, "must be \"Allow\" or \"Deny\", got " + describe(v));
      has_effect = true;
    } else if (k == "Action" || k == "NotAction") {
      (k == "Action" ? has_action : has_not_action) = true;
      s.not_action = k == "NotAction";
      s.actions = string_list(v, p);
      for (std::size_t i = 0; i < s.actions.size(); ++i)
        check_action(s.actions[i], v.is_array() ? p + "[" + std::to_string(i) + "]" : p);
    } else if (k == "Resource" || k == "NotResource") {
      (k == "Resource" ? has_resource : has_not_resource) = true;
      s.not_resource = k == "NotResource";
      s.resources = string_list(v, p);
      for (std::size_t i = 0; i < s.resources.size(); ++i)
        check_resource(s.resources[i], v.is_array() ? p + "[" + std::to_string(i) + "]" : p);
    } else if (k == "Condition") {
      s.conditions = parse_conditions(v, p);
    } else if (k == "Principal" || k == "NotPrincipal") {
      fail(p, "not allowed in an identity or session policy");
    } else {
      fail(p, "unknown statement element");
    }
  }
  if (!has_effect) fail(path + ".Effect", "missing");
  if (has_action && has_not_action) fail(path, "has both Action and NotAction; exactly one is allowed");
  if (!has_action && !has_not_action) fail(path, "has neither Action nor NotAction; exactly one is required");
  if (has_resource && has_not_resource)
    fail(path, "has both Resource and NotResource; exactly one is allowed");
  if (!has_resource && !has_not_resource)
    fail(path, "has neither Resource nor NotResource; exactly one is required");
  return s;
}

}  // namespace

bool is_negated(Operator op) {
  switch (op) {
    case Operator::kStringNotEquals:
    case Operator::kStringNotEqualsIgnoreCase:
    case Operator::kStringNotLike:
    case Operator::kNumericNotEquals:
    case Operator::kDateNotEquals:
    case Operator::kArnNotEquals:
    case Operator::kArnNotLike:
    case Operator::kNotIpAddress: return true;
    default: return false;
  }
}

bool parse_number(std::string_view s, double& out) {
  if (s.empty() || s.front() == '+') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, std::chars_format::general);
  return ec == std::errc() && p == s.data() + s.size();
}

namespace {
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}
long long days_from_civil(long long y, unsigned m, unsigned d) {  // Howard Hinnant's algorithm
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}
}  // namespace

bool parse_date(std::string_view s, long long& ms_out) {
  if (s.empty()) return false;
  bool all_digits = true;
  for (std::size_t i = (s[0] == '-' ? 1 : 0); i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') all_digits = false;
  if (all_digits && s != "-") {
    long long secs = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), secs);
    if (ec != std::errc() || p != s.data() + s.size()) return false;
    if (secs > 253402300799LL || secs < -62135596800LL) return false;
    ms_out = secs * 1000;
    return true;
  }
  int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1]) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return false;
  std::size_t i = 10;
  long long offset_min = 0;
  if (i < s.size()) {
    if (s[i] != 'T') return false;
    if (!digits(s, i + 1, 2, h) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(s, i + 4, 2, mi))
      return false;
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (!digits(s, i + 1, 2, sec)) return false;
      i += 3;
      if (i < s.size() && s[i] == '.') {
        std::size_t start = ++i;
        int frac = 0, n = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          if (n < 3) frac = frac * 10 + (s[i] - '0'), ++n;
          ++i;
        }
        if (i == start) return false;
        while (n < 3) frac *= 10, ++n;
        ms = frac;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return false;
    if (i < s.size()) {
      if (s[i] == 'Z' && i + 1 == s.size()) {
      } else if ((s[i] == '+' || s[i] == '-') && i + 6 == s.size() && s[i + 3] == ':') {
        int oh, om;
        if (!digits(s, i + 1, 2, oh) || !digits(s, i + 4, 2, om) || oh > 23 || om > 59) return false;
        offset_min = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
      } else {
        return false;
      }
    }
  }
  long long days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  long long secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  ms_out = secs * 1000 + ms;
  return true;
}

Document parse_document(std::string_view json_text) {
  json j = parse_json_input(json_text, "invalid policy document: ");
  if (!j.is_object()) fail("(document)", "must be a JSON object, got " + describe(j));
  Document doc;
  // Checked in a fixed order (Version, Id, Statement, then anything else), not the JSON's order.
  if (auto v = j.find("Version"); v != j.end()) {
    if (*v == "2012-10-17") doc.version = Version::k2012_10_17;
    else if (*v == "2008-10-17") doc.version = Version::k2008_10_17;
    else fail("Version", "must be \"2012-10-17\" or \"2008-10-17\", got " + describe(*v));
  }
  if (auto v = j.find("Id"); v != j.end()) {
    if (!v->is_string()) fail("Id", "must be a string, got " + describe(*v));
    doc.id = v->get<std::string>();
  }
  bool has_statement = false;
  if (auto v = j.find("Statement"); v != j.end()) {
    has_statement = true;
    if (v->is_array()) {
      if (v->empty()) fail("Statement", "must not be an empty list");
      for (std::size_t i = 0; i < v->size(); ++i)
        doc.statements.push_back(parse_statement((*v)[i], "Statement[" + std::to_string(i) + "]"));
    } else {
      doc.statements.push_back(parse_statement(*v, "Statement"));
    }
  }
  for (const auto& [k, v] : j.items())
    if (k != "Version" && k != "Id" && k != "Statement") fail(k, "unknown top-level element");
  if (!has_statement) fail("Statement", "missing");
  return doc;
}

}  // namespace sluice::policy
