// Fuzz target: the S3 XML parsers (src/store/s3_xml.hpp): parse_list_v2 (ListObjectsV2, with and
// without encoding-type=url, chosen by the first byte), parse_error, parse_upload_id, and the
// field helpers on the raw bytes. Expected outcomes: results, or sluice::Error(kInternal) (the
// documented error for a malformed store answer).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "store/s3_xml.hpp"

using namespace sluice;
using namespace sluice::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool url_encoded = (data[0] & 1) != 0;
  const std::string_view body = fuzz::as_text(data + 1, size - 1);

  try {
    ListPage page = s3xml::parse_list_v2(body, url_encoded);
    (void)page;
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInternal, "parse_list_v2");
  }
  (void)s3xml::parse_error(body);
  try {
    (void)s3xml::parse_upload_id(body);
  } catch (const Error& e) {
    fuzz::expect_error(e, ErrorKind::kInternal, "parse_upload_id");
  }
  const std::string decoded = s3xml::percent_decode(body);
  if (decoded.size() > body.size()) fuzz::finding("percent_decode grew its input");
  (void)s3xml::parse_iso8601_ns(body);
  (void)s3xml::strip_quotes(body);
  return 0;
}
