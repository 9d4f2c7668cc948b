// Fuzz target: the AugmentedManifestFile parser (src/dataset/manifest.hpp
// parse_augmented_manifest, parse_augmented_line). Input: the first line is the AttributeNames,
// separated by ',' (empty: "source-ref,label"); the rest is the manifest. Expected outcomes: the
// lines, each with one record per attribute, or sluice::Error(kInvalidInput).
#include <cstddef>
#include <cstdint>

#include "dataset/manifest.hpp"
#include "fuzz_support.hpp"

using namespace sluice;
using namespace sluice::dataset;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  const size_t nl = text.find('\n');
  std::string_view names_line = nl == std::string_view::npos ? text : text.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  std::vector<std::string> names = names_line.empty() ? std::vector<std::string>{"source-ref", "label"}
                                                       : fuzz::split(names_line, ',');
  if (names.size() > 16) names.resize(16);

  try {
    std::vector<AugmentedLine> lines = parse_augmented_manifest(body, names);
    size_t last = 0;
    for (const auto& l : lines) {
      if (l.records.size() != names.size()) fuzz::finding("a line with a different number of records");
      if (l.line_number <= last) fuzz::finding("line numbers not increasing");
      last = l.line_number;
      for (const auto& r : l.records) {
        if (r.kind == AugmentedRecord::Kind::kObjectRef) {
          if (r.ref.key.empty() || r.ref.key.back() == '/') fuzz::finding("object ref without an object key");
          (void)r.ref.uri();
        }
      }
    }
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInvalidInput, "parse_augmented_manifest");
  }

  // The first body line alone, through parse_augmented_line.
  const size_t nl2 = body.find('\n');
  AugmentedLine line;
  try {
    (void)parse_augmented_line(body.substr(0, nl2), 1, names, line);
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInvalidInput, "parse_augmented_line");
  }
  return 0;
}
