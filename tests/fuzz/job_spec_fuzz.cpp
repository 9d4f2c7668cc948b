// Fuzz target: the CreateTrainingJob job-spec parser (src/job/job_spec.hpp parse_job_spec).
// Input: the JSON text. Expected outcomes: a JobSpec, or sluice::Error(kInvalidInput) whose
// problems list is not empty.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "job/job_spec.hpp"

using namespace sluice;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<job::SpecProblem> problems;
  try {
    job::JobSpec spec = job::parse_job_spec(fuzz::as_text(data, size), &problems);
    if (!problems.empty()) fuzz::finding("parse_job_spec returned a spec and reported problems");
    for (const auto& c : spec.channels) {
      if (c.s3.has_value() == c.file_system.has_value()) fuzz::finding("channel without exactly one data source");
      (void)job::to_string(spec.mode_of(c));
    }
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInvalidInput, "parse_job_spec");
    if (problems.empty()) fuzz::finding(std::string("parse_job_spec threw without problems: ") + e.what());
    for (const auto& p : problems) {
      if (p.message.empty()) fuzz::finding("a problem without a message at " + p.path);
    }
  }
  return 0;
}
