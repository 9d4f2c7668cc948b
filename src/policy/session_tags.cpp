#include "policy/session_tags.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "core/error.hpp"
#include "core/unicode.hpp"
#include "core/utf8.hpp"

namespace sluice::policy {
namespace {

// [\p{L}\p{Z}\p{N}_.:/=+\-@]
bool allowed_char(std::uint32_t cp) {
  switch (cp) {
    case '_': case '.': case ':': case '/': case '=': case '+': case '-': case '@':
      return true;
    default:
      break;
  }
  return is_letter_number_separator(cp);
}

std::string fold_cps(const std::vector<std::uint32_t>& cps) {
  std::string out;
  for (auto cp : cps) append_utf8(out, simple_case_fold(cp));
  return out;
}

[[noreturn]] void invalid(const std::string& what, const std::string& rule) {
  throw Error(ErrorKind::kInvalidInput, what + ": " + rule);
}

bool starts_with_aws(const std::string& folded_key) {
  return folded_key.rfind("aws:", 0) == 0;
}

// Checks one key/value pair against the STS rules; `what` names it in the error. Returns the
// case-folded key.
std::string check_tag(const std::string& key, const std::string& value, const std::string& what) {
  auto k = decode_utf8(key);
  auto v = decode_utf8(value);
  if (!k || !v) invalid(what, "not valid UTF-8");
  if (k->empty()) invalid(what, "the tag key is empty (keys are 1-128 characters)");
  if (k->size() > kMaxTagKeyChars) {
    invalid(what, "the tag key has " + std::to_string(k->size()) +
                      " characters; at most 128 are allowed");
  }
  if (v->size() > kMaxTagValueChars) {
    invalid(what, "the tag value has " + std::to_string(v->size()) +
                      " characters; at most 256 are allowed");
  }
  if (!std::all_of(k->begin(), k->end(), allowed_char)) {
    invalid(what, "the tag key has a character outside letters, numbers, spaces and _ . : / = + - @");
  }
  if (!std::all_of(v->begin(), v->end(), allowed_char)) {
    invalid(what, "the tag value has a character outside letters, numbers, spaces and _ . : / = + - @");
  }
  std::string folded = fold_cps(*k);
  if (starts_with_aws(folded)) invalid(what, "tag keys starting with 'aws:' are reserved");
  return folded;
}

// Throws when two tags have keys equal ignoring case; `name` renders a tag for the message.
template <typename Name>
void check_distinct(const std::vector<SessionTag>& tags, Name name) {
  std::vector<std::pair<std::string, std::size_t>> folded;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    auto cps = decode_utf8(tags[i].key);
    if (!cps) invalid(name(i), "not valid UTF-8");
    folded.emplace_back(fold_cps(*cps), i);
  }
  std::stable_sort(folded.begin(), folded.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < folded.size(); ++i) {
    if (folded[i].first == folded[i - 1].first) {
      std::size_t a = std::min(folded[i - 1].second, folded[i].second);
      std::size_t b = std::max(folded[i - 1].second, folded[i].second);
      invalid(name(b), "the tag key duplicates " + name(a) +
                           " (tag keys are case-insensitive)");
    }
  }
}

std::string tag_name(const SessionTag& t) { return "session tag " + quote_for_message(t.key); }

}  // namespace

std::string quote_for_message(std::string_view text) {
  constexpr std::size_t kMaxShown = kMaxTagKeyChars + 1 + kMaxTagValueChars;
  std::string shown = utf8_prefix(text, kMaxShown);
  if (utf8_prefix(text, kMaxShown + 1).size() > shown.size()) shown += "...";
  return "'" + shown + "'";
}

void check_tags(const std::vector<SessionTag>& tags, const std::function<std::string(std::size_t)>& name) {
  for (std::size_t i = 0; i < tags.size(); ++i) check_tag(tags[i].key, tags[i].value, name(i));
  if (tags.size() > kMaxSessionTags) {
    invalid(name(kMaxSessionTags), "more than 50 tags (" + std::to_string(tags.size()) + " given)");
  }
  check_distinct(tags, name);
}

std::string fold_case(const std::string& utf8) {
  auto cps = decode_utf8(utf8);
  if (!cps) throw Error(ErrorKind::kInvalidInput, "not valid UTF-8");
  return fold_cps(*cps);
}

std::vector<SessionTag> parse_session_tags(const std::vector<std::string>& args) {
  auto name = [&](std::size_t i) { return "--session-tag " + quote_for_message(args[i]); };
  std::vector<SessionTag> tags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!decode_utf8(arg)) invalid(name(i), "not valid UTF-8");
    auto eq = arg.find('=');
    if (eq == std::string::npos) invalid(name(i), "expected KEY=VALUE");
    tags.push_back({arg.substr(0, eq), arg.substr(eq + 1)});
  }
  check_tags(tags, name);
  return tags;
}

Context session_context(const std::vector<SessionTag>& tags, const std::string& role_arn,
                        const std::string& session_name) {
  if (role_arn.size() < 20 || role_arn.size() > 2048 || role_arn.rfind("arn:", 0) != 0) {
    invalid("role ARN " + quote_for_message(role_arn), "expected an ARN of 20-2048 characters");
  }
  bool name_ok = session_name.size() >= 2 && session_name.size() <= 64 &&
                 std::all_of(session_name.begin(), session_name.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          std::string_view("_+=,.@-").find(c) != std::string_view::npos;
                 });
  if (!name_ok) {
    invalid("role session name " + quote_for_message(session_name),
            "expected 2-64 characters of letters, digits and _ + = , . @ -");
  }
  check_distinct(tags, [&](std::size_t i) { return tag_name(tags[i]); });
  Context ctx;
  for (const auto& t : tags) ctx["aws:PrincipalTag/" + t.key] = {t.value};
  ctx["aws:PrincipalArn"] = {role_arn};
  return ctx;
}

std::vector<SessionTag> chained_tags(const std::vector<SessionTag>& caller_tags,
                                     const std::vector<SessionTag>& role_tags,
                                     bool enable_chaining) {
  check_distinct(role_tags, [&](std::size_t i) { return "role tag " + quote_for_message(role_tags[i].key); });
  if (!enable_chaining) return role_tags;
  check_tags(caller_tags, [&](std::size_t i) { return tag_name(caller_tags[i]); });
  std::vector<SessionTag> out = caller_tags;
  for (const auto& r : role_tags) {
    std::string folded = fold_case(r.key);
    bool overridden = std::any_of(caller_tags.begin(), caller_tags.end(),
                                  [&](const SessionTag& c) { return fold_case(c.key) == folded; });
    if (!overridden) out.push_back(r);
  }
  return out;
}

}  // namespace sluice::policy
