#include "store/s3_store.hpp"

#include <curl/curl.h>

#include <atomic>
#include <charconv>
#include <future>
#include <memory>
#include <mutex>

#include "auth/sigv4.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "store/s3_errors.hpp"
#include "store/s3_xml.hpp"

namespace sluice::store {
namespace {

// The one place a store::Body becomes what the transport sends.
http::Body to_http(const Body& body) { return http::Body{body.bytes, body.fd, body.offset, body.length}; }

// The largest ListObjectsV2 page read: 1000 keys of 1024 bytes, percent-encoded, with their
// metadata are a few MiB.
constexpr size_t kMaxListBody = size_t{16} << 20;

const std::string kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string error_code_of(const http::Outcome& o) { return s3xml::parse_error(o.response.body).code; }

uint64_t header_u64(const http::Response& r, std::string_view name, uint64_t fallback) {
  auto v = r.header(name);
  if (!v) return fallback;
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  return ec == std::errc() ? out : fallback;
}

// The ETag S3 gives an object made of these parts: the MD5 of the parts' MD5s, then "-" and the
// count. Empty when a part's ETag is not a plain MD5 (encrypted objects): then it cannot be told.
std::string multipart_etag(const std::vector<std::string>& part_etags) {
  Digest d(Digest::Algo::kMd5);
  for (const auto& e : part_etags) {
    if (e.size() != 32) return "";
    std::string raw(16, '\0');
    for (size_t i = 0; i < 16; ++i) {
      auto [p, ec] = std::from_chars(e.data() + 2 * i, e.data() + 2 * i + 2, reinterpret_cast<unsigned char&>(raw[i]), 16);
      if (ec != std::errc() || p != e.data() + 2 * i + 2) return "";
    }
    d.update(raw);
  }
  return d.finish_hex() + "-" + std::to_string(part_etags.size());
}

}  // namespace

S3Store::S3Store(S3Config config, std::shared_ptr<http::Client> client)
    : config_(std::move(config)), client_(std::move(client)) {
  if (config_.endpoint) {
    while (!config_.endpoint->empty() && config_.endpoint->back() == '/') config_.endpoint->pop_back();
  }
}

// scheme://host[:port] of the request and the path prefix before the key.
std::string S3Store::host_and_base(std::string* host) const {
  if (config_.endpoint) {
    const std::string& ep = *config_.endpoint;
    auto scheme_end = ep.find("://");
    auto host_begin = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    auto path_begin = ep.find('/', host_begin);
    *host = ep.substr(host_begin, path_begin == std::string::npos ? std::string::npos : path_begin - host_begin);
    return ep;  // path-style: endpoint/bucket/key
  }
  const bool dotted = config_.bucket.find('.') != std::string::npos;
  std::string regional = "s3." + config_.region + ".amazonaws.com";
  *host = dotted || config_.bucket.empty() ? regional : config_.bucket + "." + regional;
  return "https://" + *host;
}

std::string S3Store::object_url_path(const std::string& key) const {
  const bool path_style = config_.endpoint || config_.bucket.find('.') != std::string::npos;
  std::string path = path_style && !config_.bucket.empty() ? "/" + auth::uri_encode(config_.bucket, true) + "/" : "/";
  if (path.size() > 1 && key.empty()) path.pop_back();
  return path + auth::uri_encode(key, false);
}

http::Request S3Store::build(const std::string& method, const std::string& key,
                             const std::vector<std::pair<std::string, std::string>>& query,
                             std::vector<http::Header> headers, http::Body body,
                             const std::string& payload_hash) const {
  std::string host;
  std::string base = host_and_base(&host);
  auth::Request sreq;
  sreq.method = method;
  sreq.wire_path = object_url_path(key);
  sreq.query = query;
  sreq.headers = headers;
  sreq.headers.emplace_back("Host", host);
  sreq.headers.emplace_back("x-amz-content-sha256", payload_hash);
  sreq.payload_sha256_hex = payload_hash;
  auth::SigningParams params;
  params.credentials = config_.credentials;
  params.region = config_.region;
  params.service = "s3";
  params.time = std::chrono::system_clock::now();
  params.path_rule = auth::PathRule::kS3;

  http::Request r;
  r.method = method;
  std::string qs = auth::canonical_query(query);
  r.url = base + sreq.wire_path + (qs.empty() ? "" : "?" + qs);
  r.headers = std::move(headers);
  r.headers.emplace_back("x-amz-content-sha256", payload_hash);
  for (auto& h : auth::sign_headers(sreq, params)) r.headers.push_back(std::move(h));
  r.body = std::move(body);
  r.timeout = config_.request_timeout;
  return r;
}

std::string S3Store::presign_get(const std::string& key, std::chrono::seconds expires) const {
  std::string host;
  std::string base = host_and_base(&host);
  auth::Request sreq;
  sreq.method = "GET";
  sreq.wire_path = object_url_path(key);
  sreq.headers.emplace_back("Host", host);
  sreq.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  auth::SigningParams params;
  params.credentials = config_.credentials;
  params.region = config_.region;
  params.service = "s3";
  params.time = std::chrono::system_clock::now();
  auto q = auth::presign_query(sreq, params, expires);
  return base + sreq.wire_path + "?" + auth::canonical_query(q);
}

Error S3Store::error_for(const std::string& what, const std::string& key, const http::Outcome& o,
                         int attempts) const {
  std::string target = config_.bucket.empty() ? "at " + config_.endpoint.value_or("s3." + config_.region + ".amazonaws.com")
                                              : "s3://" + config_.bucket + (key.empty() ? "" : "/" + key);
  std::string msg = what + " " + target;
  std::string tries = attempts > 1 ? " (after " + std::to_string(attempts) + " attempts)" : "";
  if (o.curl_code != CURLE_OK) {
    std::string where = config_.endpoint ? *config_.endpoint : "the S3 endpoint";
    // The store was reached but its answer broke off (reset, body shorter than its Content-Length,
    // stalled): say so rather than "cannot reach".
    const bool broke = o.curl_code == CURLE_PARTIAL_FILE || o.curl_code == CURLE_RECV_ERROR ||
                       o.curl_code == CURLE_OPERATION_TIMEDOUT || o.curl_code == CURLE_GOT_NOTHING;
    return Error(ErrorKind::kRetryable, msg,
                 (broke ? "the answer from " + where + " broke off: " : "cannot reach " + where + ": ") + o.curl_message + tries);
  }
  auto doc = s3xml::parse_error(o.response.body);
  std::string status = "HTTP " + std::to_string(o.response.status);
  std::string detail = doc.code.empty() ? status : doc.code + " (" + status + ")";
  if (!doc.message.empty()) detail += ": " + doc.message;
  detail += tries;
  const std::string& c = doc.code;
  const ErrorKind kind = s3_error_kind(c, o.response.status);
  if (c == "NoSuchBucket") return Error(kind, msg, "bucket '" + config_.bucket + "' does not exist");
  if (c == "NoSuchKey") return Error(kind, msg, "no such object");
  if (c == "InvalidAccessKeyId") {
    return Error(kind, msg,
                 "the store does not know access key id '" + config_.credentials.access_key_id + "' (" +
                     config_.credentials.source + ")");
  }
  if (c == "SignatureDoesNotMatch") {
    return Error(kind, msg,
                 "the secret access key for '" + config_.credentials.access_key_id + "' is wrong (" +
                     config_.credentials.source + "), or the request was changed in transit");
  }
  if (c == "PreconditionFailed" || (c.empty() && o.response.status == 412)) {
    return Error(kind, msg, "the object changed while it was being read (ETag no longer matches)");
  }
  const std::string_view hint = s3_error_hint(c);
  if (!hint.empty()) return Error(kind, msg, detail + ": " + std::string(hint));
  if (kind == ErrorKind::kAccessDenied) {
    return Error(kind, msg,
                 detail + ": the store refused access key id '" + config_.credentials.access_key_id + "' (" +
                     config_.credentials.source + "); the secret may be wrong or the key may lack permission");
  }
  return Error(kind, msg, detail);
}

http::Outcome S3Store::call(const std::string& what, const std::string& key, std::function<http::Request()> make) {
  auto [o, attempts] =
      http::execute_sync(*client_, config_.retry, [&make](int) { return make(); }, error_code_of);
  if (http::classify(o, o.curl_code == CURLE_OK ? error_code_of(o) : "") != http::Verdict::kSuccess) {
    throw error_for(what, key, o, attempts);
  }
  return o;
}

ListPage S3Store::list(const ListRequest& request) {
  std::vector<std::pair<std::string, std::string>> q = {{"list-type", "2"}, {"encoding-type", "url"}};
  q.emplace_back("max-keys", std::to_string(request.max_keys));
  if (!request.prefix.empty()) q.emplace_back("prefix", request.prefix);
  if (!request.delimiter.empty()) q.emplace_back("delimiter", request.delimiter);
  if (!request.continuation_token.empty()) q.emplace_back("continuation-token", request.continuation_token);
  const std::string where = "listing s3://" + config_.bucket + "/" + request.prefix;
  // The page goes through a sink that stops at kMaxListBody: a page of 1000 keys of 1024 bytes is a
  // few MiB even percent-encoded, so a larger body is not a listing, and is not kept in memory.
  struct Page {
    std::string body;
    bool too_big = false;
  };
  auto page_body = std::make_shared<Page>();
  auto done = std::make_shared<std::promise<std::pair<http::Outcome, int>>>();
  auto result = done->get_future();
  http::execute(*client_, config_.retry,
                http::RetryingCall{[this, &q, page_body](int) {
                                     page_body->body.clear();
                                     page_body->too_big = false;
                                     http::Sink sink = [page_body](const char* d, size_t n) {
                                       if (page_body->body.size() + n > kMaxListBody) {
                                         page_body->too_big = true;
                                         return false;
                                       }
                                       page_body->body.append(d, n);
                                       return true;
                                     };
                                     return std::pair<http::Request, http::Sink>(
                                         build("GET", "", q, {}, {}, kEmptySha256), std::move(sink));
                                   },
                                   error_code_of,
                                   [done](http::Outcome o, int n) { done->set_value({std::move(o), n}); },
                                   {}});
  auto [o, attempts] = result.get();
  if (page_body->too_big) {
    throw Error(ErrorKind::kInternal, where,
                "malformed ListObjectsV2 response from the store: the page is larger than " +
                    std::to_string(kMaxListBody >> 20) + " MiB (a page of 1000 keys is at most a few MiB); not read further");
  }
  if (http::classify(o, o.curl_code == CURLE_OK ? error_code_of(o) : "") != http::Verdict::kSuccess) {
    throw error_for("listing", request.prefix, o, attempts);
  }
  ListPage page;
  try {
    page = s3xml::parse_list_v2(page_body->body, true);
  } catch (const Error& e) {
    throw e.with_context(where);
  }
  // A store that answers with the token it was sent would be listed forever; keys outside the
  // prefix are not what was asked for (and callers cut the prefix off them).
  if (!request.continuation_token.empty() && page.next_continuation_token == request.continuation_token) {
    throw Error(ErrorKind::kInternal, where,
                "malformed ListObjectsV2 response from the store: it returned the continuation token it was sent ('" +
                    request.continuation_token.substr(0, 100) + "'), so the listing would never end");
  }
  auto outside = [&](const std::string& k) { return k.compare(0, request.prefix.size(), request.prefix) != 0; };
  for (const auto& obj : page.objects) {
    if (outside(obj.key)) {
      throw Error(ErrorKind::kInternal, where,
                  "malformed ListObjectsV2 response from the store: key '" + obj.key.substr(0, 200) +
                      "' does not start with the requested prefix '" + request.prefix + "'");
    }
  }
  for (const auto& p : page.common_prefixes) {
    if (outside(p)) {
      throw Error(ErrorKind::kInternal, where,
                  "malformed ListObjectsV2 response from the store: common prefix '" + p.substr(0, 200) +
                      "' does not start with the requested prefix '" + request.prefix + "'");
    }
  }
  return page;
}

ObjectInfo S3Store::head(const std::string& key) {
  http::Outcome o;
  try {
    o = call("reading the metadata of", key, [&] { return build("HEAD", key, {}, {}, {}, kEmptySha256); });
  } catch (const Error& e) {
    // A HEAD answer has no body to say which is missing: ask about the bucket.
    if (e.kind() != ErrorKind::kNotFound) throw;
    auto b = http::execute_sync(*client_, config_.retry, [&](int) { return build("HEAD", "", {}, {}, {}, kEmptySha256); },
                                error_code_of).first;
    if (b.curl_code == CURLE_OK && b.response.status == 404) {
      throw Error(ErrorKind::kNotFound, "reading s3://" + config_.bucket + "/" + key,
                  "bucket '" + config_.bucket + "' does not exist");
    }
    throw Error(ErrorKind::kNotFound, "reading s3://" + config_.bucket + "/" + key, "no such object");
  }
  ObjectInfo info;
  info.key = key;
  info.size = header_u64(o.response, "content-length", 0);
  info.etag = s3xml::strip_quotes(o.response.header("etag").value_or(""));
  if (auto lm = o.response.header("last-modified")) {
    info.mtime_epoch_ns = static_cast<int64_t>(curl_getdate(lm->c_str(), nullptr)) * 1'000'000'000;
  }
  return info;
}

namespace {

// One logical GET across attempts: counts delivered bytes so a retry resumes after them.
struct GetState {
  GetRequest request;
  DataSink sink;
  Completion done;
  uint64_t delivered = 0;
  std::optional<uint64_t> expected;  // total bytes this GET must deliver, once known
  std::string etag;                  // pinned with If-Match after the first response
  bool overflow = false;             // the store sent more bytes than asked for
};

}  // namespace

void S3Store::get(const GetRequest& request, DataSink sink, Completion done) {
  auto st = std::make_shared<GetState>();
  st->request = request;
  st->sink = std::move(sink);
  st->done = std::move(done);
  st->etag = request.if_match;
  if (request.range) st->expected = request.range->length();

  http::RetryingCall call;
  call.make = [this, st](int) {
    std::vector<http::Header> headers;
    const uint64_t first = (st->request.range ? st->request.range->first : 0) + st->delivered;
    if (st->request.range) {
      headers.emplace_back("Range", "bytes=" + std::to_string(first) + "-" + std::to_string(st->request.range->last));
    } else if (st->delivered > 0 && st->expected) {
      headers.emplace_back("Range", "bytes=" + std::to_string(first) + "-" + std::to_string(*st->expected - 1));
    }
    if (!st->etag.empty()) headers.emplace_back("If-Match", "\"" + st->etag + "\"");
    http::Request r = build("GET", st->request.key, {}, std::move(headers), {}, kEmptySha256);
    r.timeout = std::chrono::milliseconds(0);
    r.low_speed_window = config_.stall_timeout;
    http::Sink s = [st](const char* d, size_t n) {
      if (st->expected && st->delivered + n > *st->expected) {
        st->overflow = true;  // more than asked for: never hand it to the reader
        return false;
      }
      st->delivered += n;
      return st->sink(d, n);
    };
    return std::make_pair(std::move(r), std::move(s));
  };
  call.error_code = error_code_of;
  call.done = [this, st](http::Outcome o, int attempts) {
    if (http::classify(o, o.curl_code == CURLE_OK ? error_code_of(o) : "") != http::Verdict::kSuccess) {
      if (st->overflow) {
        st->done(std::make_exception_ptr(Error(ErrorKind::kDataLoss, "reading s3://" + config_.bucket + "/" + st->request.key,
                                               "the store sent more bytes than the " + std::to_string(*st->expected) +
                                                   " asked for")));
        return;
      }
      if (o.aborted_by_sink) {
        st->done(std::make_exception_ptr(Error(ErrorKind::kCancelled, "reading s3://" + config_.bucket + "/" + st->request.key, "stopped by the reader")));
        return;
      }
      st->done(std::make_exception_ptr(error_for("reading", st->request.key, o, attempts)));
      return;
    }
    if (st->expected && st->delivered != *st->expected) {
      st->done(std::make_exception_ptr(Error(
          ErrorKind::kDataLoss, "reading s3://" + config_.bucket + "/" + st->request.key,
          "received " + std::to_string(st->delivered) + " bytes, expected " + std::to_string(*st->expected))));
      return;
    }
    st->done(nullptr);
  };
  // Learn the total size and ETag from the first response so that a retry resumes with a bounded
  // range pinned to the same version.
  call.observe = [st](const http::Outcome& o) {
    if (o.response.status != 200 && o.response.status != 206) return;
    if (!st->expected && o.response.status == 200) {
      if (o.response.header("content-length")) st->expected = header_u64(o.response, "content-length", 0);
    }
    if (st->etag.empty()) st->etag = s3xml::strip_quotes(o.response.header("etag").value_or(""));
  };
  http::execute(*client_, config_.retry, std::move(call));
}

std::string S3Store::put(const std::string& key, Body body, const PutOptions& options) {
  std::vector<http::Header> headers;
  if (!options.content_md5_base64.empty()) headers.emplace_back("Content-MD5", options.content_md5_base64);
  auto o = call("writing", key, [&] {
    auto r = build("PUT", key, {}, headers, to_http(body), "UNSIGNED-PAYLOAD");
    r.timeout = std::chrono::milliseconds(0);
    r.low_speed_window = config_.stall_timeout;
    return r;
  });
  return s3xml::strip_quotes(o.response.header("etag").value_or(""));
}

std::string S3Store::create_multipart(const std::string& key) {
  const auto started = std::chrono::system_clock::now();
  auto [o, attempts] = http::execute_sync(
      *client_, config_.retry, [&](int) { return build("POST", key, {{"uploads", ""}}, {}, {}, kEmptySha256); },
      error_code_of);
  // An attempt whose answer was lost may have reached the store and created an upload: nobody would
  // ever complete or abort it (its parts stay stored, and billed). Also when curl sent the request
  // again by itself after a reused connection died without an answer.
  const bool lost_answers = attempts > 1 || o.curl_code != CURLE_OK || o.sends > 1;
  if (http::classify(o, o.curl_code == CURLE_OK ? error_code_of(o) : "") != http::Verdict::kSuccess) {
    if (lost_answers) abort_lost_uploads(key, "", started);
    throw error_for("starting a multipart upload to", key, o, attempts);
  }
  std::string id = s3xml::parse_upload_id(o.response.body);
  if (lost_answers) abort_lost_uploads(key, id, started);
  return id;
}

void S3Store::abort_lost_uploads(const std::string& key, const std::string& ours,
                                 std::chrono::system_clock::time_point started) {
  // Uploads of exactly this key initiated since our first attempt (less 5 s of clock skew) are
  // ours: another writer starting one of the same key within that window is racing us anyway.
  const int64_t since =
      std::chrono::duration_cast<std::chrono::nanoseconds>((started - std::chrono::seconds(5)).time_since_epoch()).count();
  try {
    auto o = call("listing the multipart uploads of", key,
                  [&] { return build("GET", "", {{"uploads", ""}, {"prefix", key}}, {}, {}, kEmptySha256); });
    for (const auto& u : s3xml::parse_multipart_uploads(o.response.body)) {
      if (u.key != key || u.upload_id == ours || u.initiated_ns < since) continue;
      abort_multipart(key, u.upload_id);
      log::info("aborted multipart upload {} of s3://{}/{}: a retried CreateMultipartUpload left it behind", u.upload_id,
                config_.bucket, key);
    }
  } catch (const Error& e) {
    log::warn("s3://{}/{}: a retried CreateMultipartUpload may have left an incomplete upload behind, and looking for "
              "it failed ({}); a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes such uploads",
              config_.bucket, key, e.what());
  }
}

void S3Store::upload_part(const std::string& key, const std::string& upload_id, int part_number, Body body,
                          std::function<void(std::exception_ptr, std::string)> done) {
  http::RetryingCall call;
  call.make = [this, key, upload_id, part_number, wire = to_http(body)](int) {
    auto r = build("PUT", key, {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}}, {}, wire,
                   "UNSIGNED-PAYLOAD");
    r.timeout = std::chrono::milliseconds(0);
    r.low_speed_window = config_.stall_timeout;
    return std::make_pair(std::move(r), http::Sink{});
  };
  call.error_code = error_code_of;
  call.done = [this, key, part_number, done](http::Outcome o, int attempts) {
    if (http::classify(o, o.curl_code == CURLE_OK ? error_code_of(o) : "") != http::Verdict::kSuccess) {
      done(std::make_exception_ptr(error_for("uploading part " + std::to_string(part_number) + " of", key, o, attempts)), "");
      return;
    }
    done(nullptr, s3xml::strip_quotes(o.response.header("etag").value_or("")));
  };
  http::execute(*client_, config_.retry, std::move(call));
}

std::string S3Store::complete_multipart(const std::string& key, const std::string& upload_id,
                                        const std::vector<std::string>& part_etags) {
  std::string body = s3xml::complete_multipart_body(part_etags);
  std::string hash = sha256_hex(body);
  auto [o, attempts] = http::execute_sync(
      *client_, config_.retry,
      [&](int) {
        return build("POST", key, {{"uploadId", upload_id}}, {{"Content-Type", "application/xml"}},
                     http::Body::from_string(body), hash);
      },
      error_code_of);
  if (http::classify(o, o.curl_code == CURLE_OK ? error_code_of(o) : "") != http::Verdict::kSuccess) {
    // An earlier attempt whose answer was lost may have completed the upload: the store then
    // knows the upload no more. The object is ours if its ETag is the one these parts make.
    if ((attempts > 1 || o.sends > 1) && o.curl_code == CURLE_OK && error_code_of(o) == "NoSuchUpload") {
      const std::string expected = multipart_etag(part_etags);
      try {
        auto info = head(key);
        if (!expected.empty() && info.etag == expected) return info.etag;
      } catch (const Error&) {
      }
    }
    throw error_for("completing the multipart upload of", key, o, attempts);
  }
  // S3 may answer 200 and put an error in the body.
  auto err = s3xml::parse_error(o.response.body);
  if (!err.code.empty()) {
    throw Error(err.code == "InternalError" ? ErrorKind::kRetryable : ErrorKind::kInternal,
                "completing the multipart upload of s3://" + config_.bucket + "/" + key, err.code);
  }
  return head(key).etag;  // RGW answers with an empty <ETag>
}

void S3Store::abort_multipart(const std::string& key, const std::string& upload_id) {
  call("aborting the multipart upload of", key,
       [&] { return build("DELETE", key, {{"uploadId", upload_id}}, {}, {}, kEmptySha256); });
}

void S3Store::remove(const std::string& key) {
  call("deleting", key, [&] { return build("DELETE", key, {}, {}, {}, kEmptySha256); });
}

void S3Store::create_bucket() {
  try {
    call("creating bucket", "", [&] { return build("PUT", "", {}, {}, {}, kEmptySha256); });
  } catch (const Error& e) {
    if (e.cause().find("BucketAlreadyOwnedByYou") == std::string::npos) throw;
  }
}

void S3Store::delete_bucket() {
  call("deleting bucket", "", [&] { return build("DELETE", "", {}, {}, {}, kEmptySha256); });
}

std::vector<s3xml::BucketEntry> S3Store::list_buckets() {
  auto o = call("listing the buckets", "", [&] { return build("GET", "", {}, {}, {}, kEmptySha256); });
  return s3xml::parse_list_buckets(o.response.body);
}

}  // namespace sluice::store
