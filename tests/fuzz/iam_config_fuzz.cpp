// Fuzz target: the IAM configuration file (src/policy/iam_config.hpp parse_iam_config) and,
// for a config that parses, trust_allows and evaluate() for every role. A second pass parses the
// same bytes as a lone trust policy (parse_trust_policy). Expected outcomes: a config, or
// sluice::Error(kInvalidInput) whose message names the file.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "policy/evaluate.hpp"
#include "policy/iam_config.hpp"

using namespace sluice;
using namespace sluice::policy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  try {
    (void)parse_trust_policy(text);
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInvalidInput, "parse_trust_policy");
  }

  IamConfig config;
  try {
    config = parse_iam_config(text, "fuzz-iam.json");
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInvalidInput, "parse_iam_config");
    if (std::string_view(e.what()).find("fuzz-iam.json") == std::string_view::npos) {
      fuzz::finding(std::string("parse_iam_config error does not name the file: ") + e.what());
    }
    return 0;
  }
  for (const auto& role : config.roles) {
    if (config.find(role.arn) == nullptr) fuzz::finding("find() misses role " + role.arn);
    if (role.max_session_duration < 3600 || role.max_session_duration > 43200) {
      fuzz::finding("MaxSessionDuration out of range accepted");
    }
    for (const char* principal : {"arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:root",
                                  "sagemaker.amazonaws.com", "", "*"}) {
      (void)trust_allows(role, principal, false);
      (void)trust_allows(role, principal, true);
    }
    Context ctx;
    for (const auto& [k, v] : role.tags) ctx["aws:PrincipalTag/" + k].push_back(v);
    ctx["aws:PrincipalArn"] = {role.arn};
    for (const char* action : {"s3:GetObject", "s3:PutObject", "s3:ListBucket"}) {
      Request r{action, "arn:aws:s3:::bucket/prefix/key", ctx};
      (void)evaluate(role.policies, {}, r);
    }
  }
  return 0;
}
