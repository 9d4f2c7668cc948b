// Fuzz target: STS session tags (src/policy/session_tags.hpp). Input: lines. Line 1 is a role
// ARN, line 2 a session name, the other lines `--session-tag` values. Tags that parse go through
// session_context (with a fixed valid role and with the fuzzed one) and chained_tags.
// Expected outcomes: results, or sluice::Error(kInvalidInput).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "policy/session_tags.hpp"

using namespace sluice;
using namespace sluice::policy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> lines = fuzz::split(fuzz::as_text(data, size), '\n');
  std::string role_arn = lines.empty() ? "" : lines[0];
  std::string session = lines.size() > 1 ? lines[1] : "";
  std::vector<std::string> args(lines.begin() + std::min<size_t>(2, lines.size()), lines.end());

  std::vector<SessionTag> tags;
  try {
    tags = parse_session_tags(args);
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInvalidInput, "parse_session_tags");
    return 0;
  }
  if (tags.size() != args.size()) fuzz::finding("parse_session_tags returned a different number of tags");
  for (const auto& t : tags) {
    (void)fold_case(t.key);
    (void)fold_case(t.value);
  }
  try {
    Context ctx = session_context(tags, "arn:aws:iam::123456789012:role/Trainer", "fuzz-session");
    if (ctx.empty()) fuzz::finding("session_context without aws:PrincipalArn");
  } catch (const Error& e) {
    fuzz::finding(std::string("session_context refused tags parse_session_tags accepted: ") + e.what());
  }
  try {
    (void)session_context(tags, role_arn, session);
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInvalidInput, "session_context");
  }
  const std::vector<SessionTag> role_tags = {{"team", "ml"}, {"Project", "x"}};
  try {
    auto chained = chained_tags(tags, role_tags, true);
    if (chained.size() < tags.size()) fuzz::finding("chained_tags dropped a caller tag");
    auto own = chained_tags(tags, role_tags, false);
    if (own != role_tags) fuzz::finding("chained_tags without chaining changed the role's tags");
  } catch (const Error& e) {
    fuzz::finding(std::string("chained_tags refused tags parse_session_tags accepted: ") + e.what());
  }
  return 0;
}
