#include "store/s3_xml.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <ctime>

#include "core/error.hpp"
#include "core/iso8601.hpp"
#include "core/strings.hpp"

namespace sluice::store::s3xml {
namespace {

pugi::xml_document load(std::string_view body, const char* what) {
  pugi::xml_document doc;
  auto result = doc.load_buffer(body.data(), body.size());
  if (!result) {
    throw Error(ErrorKind::kInternal, std::string("malformed ") + what + " from the store",
                std::string(result.description()) + " at byte " + std::to_string(result.offset));
  }
  return doc;
}

uint64_t parse_u64(std::string_view s, const char* field) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    throw Error(ErrorKind::kInternal, "malformed ListObjectsV2 response from the store",
                std::string(field) + " is not a number: '" + std::string(s.substr(0, 40)) + "'");
  }
  return v;
}

}  // namespace

std::string percent_decode(std::string_view s) {
  return sluice::percent_decode(s, /*plus_is_space=*/true);  // encoding-type=url uses form encoding
}

int64_t parse_iso8601_ns(std::string_view s) { return ::sluice::parse_iso8601_ns(s).value_or(0); }

std::string strip_quotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  if (etag.starts_with("&quot;")) etag.remove_prefix(6);
  if (etag.ends_with("&quot;")) etag.remove_suffix(6);
  return std::string(etag);
}

ErrorDoc parse_error(std::string_view body) {
  ErrorDoc e;
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return e;
  auto node = doc.child("Error");
  e.code = node.child_value("Code");
  e.message = node.child_value("Message");
  return e;
}

ListPage parse_list_v2(std::string_view body, bool url_encoded) {
  // A page of 1000 keys has some 30 000 tags ('<' is escaped inside keys): a body with far more is
  // not a listing, and parsing it would take some 70 bytes of memory per element.
  constexpr size_t kMaxTags = 200'000;
  if (const auto tags = static_cast<size_t>(std::count(body.begin(), body.end(), '<')); tags > kMaxTags) {
    throw Error(ErrorKind::kInternal, "malformed ListObjectsV2 response from the store",
                std::to_string(tags) + " XML tags in one page (a page of 1000 keys has some 30000); not parsed");
  }
  auto doc = load(body, "ListObjectsV2 response");
  auto root = doc.child("ListBucketResult");
  if (!root) throw Error(ErrorKind::kInternal, "malformed ListObjectsV2 response from the store", "no <ListBucketResult>");
  auto text = [url_encoded](const char* v) { return url_encoded ? percent_decode(v) : std::string(v); };
  ListPage page;
  for (auto c : root.children("Contents")) {
    ObjectInfo o;
    if (!c.child("Key")) throw Error(ErrorKind::kInternal, "malformed ListObjectsV2 response from the store", "<Contents> without <Key>");
    o.key = text(c.child_value("Key"));
    o.size = parse_u64(c.child_value("Size"), "Size");
    o.etag = strip_quotes(c.child_value("ETag"));
    o.mtime_epoch_ns = parse_iso8601_ns(c.child_value("LastModified"));
    page.objects.push_back(std::move(o));
  }
  for (auto p : root.children("CommonPrefixes")) page.common_prefixes.push_back(text(p.child_value("Prefix")));
  if (std::string_view(root.child_value("IsTruncated")) == "true") {
    page.next_continuation_token = root.child_value("NextContinuationToken");
    if (page.next_continuation_token.empty()) {
      throw Error(ErrorKind::kInternal, "malformed ListObjectsV2 response from the store",
                  "IsTruncated is true but there is no NextContinuationToken");
    }
  }
  return page;
}

std::vector<BucketEntry> parse_list_buckets(std::string_view body) {
  auto doc = load(body, "ListBuckets response");
  auto root = doc.child("ListAllMyBucketsResult");
  if (!root) throw Error(ErrorKind::kInternal, "malformed ListBuckets response from the store", "no <ListAllMyBucketsResult>");
  std::vector<BucketEntry> out;
  for (auto b : root.child("Buckets").children("Bucket")) {
    out.push_back({b.child_value("Name"), parse_iso8601_ns(b.child_value("CreationDate"))});
  }
  return out;
}

std::string parse_upload_id(std::string_view body) {
  auto doc = load(body, "CreateMultipartUpload response");
  std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty()) throw Error(ErrorKind::kInternal, "malformed CreateMultipartUpload response from the store", "no <UploadId>");
  return id;
}

std::vector<PendingUpload> parse_multipart_uploads(std::string_view body) {
  auto doc = load(body, "ListMultipartUploads response");
  auto root = doc.child("ListMultipartUploadsResult");
  if (!root) throw Error(ErrorKind::kInternal, "malformed ListMultipartUploads response from the store", "no <ListMultipartUploadsResult>");
  std::vector<PendingUpload> out;
  for (auto u : root.children("Upload")) {
    out.push_back({u.child_value("Key"), u.child_value("UploadId"), parse_iso8601_ns(u.child_value("Initiated"))});
  }
  return out;
}

std::string complete_multipart_body(const std::vector<std::string>& part_etags) {
  std::string body = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < part_etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>\"" + part_etags[i] + "\"</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  return body;
}

}  // namespace sluice::store::s3xml
