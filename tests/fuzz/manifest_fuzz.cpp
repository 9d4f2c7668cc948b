// Fuzz target: the ManifestFile parser (src/dataset/manifest.hpp parse_manifest) and
// store::parse_address. Input: the manifest text. Expected outcomes: a Manifest with at least one
// entry, or sluice::Error(kInvalidInput).
#include <cstddef>
#include <cstdint>

#include "dataset/manifest.hpp"
#include "fuzz_support.hpp"

using namespace sluice;
using namespace sluice::dataset;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  try {
    store::Address a = store::parse_address(text);
    store::Address again = store::parse_address(a.uri());
    if (!(again == a)) fuzz::finding("store::parse_address(uri()) differs: " + a.uri() + " vs " + again.uri());
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInvalidInput, "store::parse_address");
  }

  try {
    Manifest m = parse_manifest(text);
    if (m.size() == 0) fuzz::finding("parse_manifest accepted a manifest without entries");
    for (size_t i = 0; i < m.size(); ++i) {
      if (m.entries[i].empty()) fuzz::finding("parse_manifest accepted an empty entry");
      (void)m.address(i).uri();
    }
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInvalidInput, "parse_manifest");
  }
  return 0;
}
