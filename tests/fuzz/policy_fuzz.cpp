// Fuzz target: IAM policy documents (src/policy/document.hpp parse_document) and their evaluation
// (src/policy/evaluate.hpp). Input: the policy JSON. A document that parses is evaluated, as an
// identity policy and as a session policy, against fixed requests and against requests made from
// its own actions and resources (so its conditions are reached), with a few fixed contexts.
// Expected outcomes: a Document and decisions, or sluice::Error(kInvalidInput).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "policy/document.hpp"
#include "policy/evaluate.hpp"

using namespace sluice;
using namespace sluice::policy;

namespace {

const std::vector<Context>& contexts() {
  static const std::vector<Context> all = {
      {},
      {{"aws:PrincipalTag/team", {"ml"}},
       {"aws:PrincipalArn", {"arn:aws:iam::123456789012:role/Trainer"}},
       {"aws:SourceIp", {"10.1.2.3"}},
       {"aws:CurrentTime", {"2024-06-01T12:00:00Z"}},
       {"aws:EpochTime", {"1717243200"}},
       {"aws:SecureTransport", {"true"}},
       {"s3:prefix", {"home/ml/", "data/"}},
       {"s3:max-keys", {"100"}}},
      {{"aws:PrincipalTag/team", {"", "x*?${"}},
       {"aws:SourceIp", {"2001:db8::1"}},
       {"aws:CurrentTime", {"not a date"}},
       {"s3:max-keys", {"1e308", "-0", "nan"}}},
  };
  return all;
}

// A concrete string that a pattern with wildcards and variables probably matches.
std::string concretize(const std::string& pattern) {
  std::string out;
  for (char c : pattern) out += (c == '*' || c == '?') ? 'x' : c;
  return out;
}

void check(const Decision& d) {
  if (d.outcome == Outcome::kImplicitDeny && !d.statements.empty()) {
    fuzz::finding("implicit deny names statements");
  }
  if (d.outcome != Outcome::kImplicitDeny && d.statements.empty()) fuzz::finding("decision names no statement");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  // Condition value parsers, on the raw bytes.
  long long ms = 0;
  double number = 0;
  (void)parse_date(text, ms);
  (void)parse_number(text, number);

  Document doc;
  try {
    doc = parse_document(text);
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInvalidInput, "parse_document");
    return 0;
  }

  std::vector<Request> requests;
  for (const char* action : {"s3:GetObject", "s3:ListBucket"}) {
    requests.push_back({action, "arn:aws:s3:::bucket/home/ml/key", {}});
  }
  size_t made = 0;
  for (const auto& s : doc.statements) {
    for (const auto& a : s.actions) {
      for (const auto& r : s.resources) {
        if (++made > 16) break;
        requests.push_back({concretize(a), concretize(r), {}});
      }
      if (s.resources.empty() && ++made <= 16) requests.push_back({concretize(a), "arn:aws:s3:::b/k", {}});
    }
  }
  const std::vector<Document> one = {doc};
  const std::vector<Document> none;
  for (const auto& ctx : contexts()) {
    for (auto& r : requests) {
      r.context = ctx;
      check(evaluate(one, none, r));
      check(evaluate(one, one, r));
      for (const auto& s : doc.statements) {
        (void)statement_applies(s, doc.version, r);
        for (const auto& c : s.conditions) (void)condition_holds(c, doc.version, ctx);
      }
    }
  }
  return 0;
}
