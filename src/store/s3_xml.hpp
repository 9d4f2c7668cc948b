// Parsing of the S3 XML documents Sluice reads (pugixml).
#pragma once

#include <string>
#include <string_view>

#include "store/object_store.hpp"

namespace sluice::store::s3xml {

struct ErrorDoc {
  std::string code;
  std::string message;
};

// An <Error> document; empty fields when the body is not one.
ErrorDoc parse_error(std::string_view body);

// ListObjectsV2 result. url_encoded: the request asked for encoding-type=url, so keys and
// prefixes are percent-decoded. Throws Error(kInternal) naming the problem for a malformed body.
ListPage parse_list_v2(std::string_view body, bool url_encoded);

// One <Bucket> of a ListBuckets result (<ListAllMyBucketsResult>).
struct BucketEntry {
  std::string name;
  int64_t created_ns = 0;  // <CreationDate>; 0 when the store did not say
};
// Throws Error(kInternal) for a malformed body.
std::vector<BucketEntry> parse_list_buckets(std::string_view body);

// <InitiateMultipartUploadResult><UploadId>.
std::string parse_upload_id(std::string_view body);

// One <Upload> of a ListMultipartUploads result.
struct PendingUpload {
  std::string key;
  std::string upload_id;
  int64_t initiated_ns = 0;  // 0 when the store did not say
};
// <ListMultipartUploadsResult>; keys as written (no encoding-type). Throws Error(kInternal) for a
// malformed body.
std::vector<PendingUpload> parse_multipart_uploads(std::string_view body);

// The body of CompleteMultipartUpload.
std::string complete_multipart_body(const std::vector<std::string>& part_etags);

std::string percent_decode(std::string_view s);
// "2023-01-02T03:04:05.678Z" -> nanoseconds since the epoch; 0 when unparsable.
int64_t parse_iso8601_ns(std::string_view s);
std::string strip_quotes(std::string_view etag);

}  // namespace sluice::store::s3xml
