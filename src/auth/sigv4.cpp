#include "auth/sigv4.hpp"

#include <algorithm>
#include <ctime>
#include <map>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"

namespace sluice::auth {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::chrono::seconds kMaxExpires{604800};  // 7 days, the SigV4 limit

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trim, and collapse every run of whitespace (including folded line breaks) into one space.
std::string canonical_header_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Headers never signed: hop-by-hop headers a proxy may change, and headers that clients or
// libcurl rewrite (User-Agent, Expect) or that carry the signature itself.
bool is_unsigned_header(std::string_view lower_name) {
  static constexpr std::string_view kSkip[] = {
      "authorization", "connection", "expect",  "keep-alive", "proxy-authorization", "te",
      "trailer",       "transfer-encoding",     "upgrade",    "user-agent",          "x-amzn-trace-id"};
  return std::find(std::begin(kSkip), std::end(kSkip), lower_name) != std::end(kSkip);
}

// Lower-case name -> values in request order. Headers in `extra` replace same-named headers of
// the request (a caller-set X-Amz-Date never doubles up with ours).
// With `only` not empty, exactly the headers it names are taken.
std::map<std::string, std::vector<std::string>> collect_headers(const std::vector<Header>& headers,
                                                                const std::vector<Header>& extra,
                                                                const std::vector<std::string>& only = {}) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, value] : headers) {
    std::string lname = ascii_lower(name);
    bool skip = only.empty() ? is_unsigned_header(lname)
                             : std::find(only.begin(), only.end(), lname) == only.end();
    if (skip) continue;
    out[lname].push_back(canonical_header_value(value));
  }
  std::map<std::string, std::vector<std::string>> extras;
  for (const auto& [name, value] : extra) {
    extras[ascii_lower(name)].push_back(canonical_header_value(value));
  }
  for (auto& [lname, values] : extras) out[lname] = std::move(values);
  if (out.find("host") == out.end()) {
    throw Error(ErrorKind::kInternal, "SigV4: the request to sign has no Host header");
  }
  return out;
}

std::string signed_header_list(const std::map<std::string, std::vector<std::string>>& headers) {
  std::string out;
  for (const auto& [name, values] : headers) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

// Remove "." and ".." segments and empty segments ("//"); keep a trailing slash.
std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(pos, end - pos);
    bool last = end == path.size();
    if (seg.empty() || seg == ".") {
      if (last) trailing_slash = true;
    } else if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      if (last) trailing_slash = true;
    } else {
      segments.push_back(seg);
      if (last) trailing_slash = false;
    }
    pos = end + 1;
  }
  std::string out;
  for (std::string_view seg : segments) {
    out.push_back('/');
    out.append(seg);
  }
  if (out.empty() || trailing_slash) out.push_back('/');
  return out;
}

std::string canonical_uri(const std::string& wire_path, const SigningParams& p) {
  std::string path = wire_path.empty() ? std::string("/") : wire_path;
  if (p.path_rule == PathRule::kS3) return path;
  if (p.normalize_path) path = normalize_path(path);
  return uri_encode(path, /*encode_slash=*/false);
}

std::string credential_scope(const std::string& date8, const SigningParams& p) {
  return date8 + "/" + p.region + "/" + p.service + "/aws4_request";
}

void check_credentials(const SigningParams& p) {
  if (p.credentials.access_key_id.empty() || p.credentials.secret_access_key.empty()) {
    throw Error(ErrorKind::kAccessDenied, "SigV4: no credentials to sign with");
  }
}

std::string signature_hex(const SigningParams& p, const std::string& date8, const std::string& sts) {
  return hex_encode(hmac_sha256(signing_key(p.credentials.secret_access_key, date8, p.region, p.service), sts));
}

}  // namespace

std::string amz_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr) throw Error(ErrorKind::kInternal, "SigV4: cannot format time");
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  if (n != 16) throw Error(ErrorKind::kInternal, "SigV4: time out of range");
  return std::string(buf, n);
}

std::string signing_key(std::string_view secret_access_key, std::string_view date8,
                        std::string_view region, std::string_view service) {
  std::string key = hmac_sha256("AWS4" + std::string(secret_access_key), date8);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  return hmac_sha256(key, "aws4_request");
}

std::vector<QueryParam> parse_query_string(std::string_view raw) {
  std::vector<QueryParam> out;
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t amp = raw.find('&', pos);
    if (amp == std::string_view::npos) amp = raw.size();
    std::string_view part = raw.substr(pos, amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string_view name = part.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
      out.emplace_back(percent_decode(name, false), percent_decode(value, false));
    }
    pos = amp + 1;
  }
  return out;
}

std::string uri_encode(std::string_view s, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string canonical_query(const std::vector<QueryParam>& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) {
    encoded.emplace_back(uri_encode(name, true), uri_encode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string canonical_request(const Request& req, const SigningParams& p,
                              const std::vector<Header>& extra_signed_headers) {
  if (req.payload_sha256_hex.empty()) {
    throw Error(ErrorKind::kInternal, "SigV4: the request's payload hash is not set");
  }
  auto headers = collect_headers(req.headers, extra_signed_headers, req.only_headers);
  std::string out;
  out += req.method;
  out.push_back('\n');
  out += canonical_uri(req.wire_path, p);
  out.push_back('\n');
  out += canonical_query(req.query);
  out.push_back('\n');
  for (const auto& [name, values] : headers) {
    out += name;
    out.push_back(':');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out.push_back(',');
      out += values[i];
    }
    out.push_back('\n');
  }
  out.push_back('\n');
  out += signed_header_list(headers);
  out.push_back('\n');
  out += req.payload_sha256_hex;
  return out;
}

std::string string_to_sign(const std::string& canonical_request, const SigningParams& p) {
  std::string date = amz_date(p.time);
  std::string out(kAlgorithm);
  out.push_back('\n');
  out += date;
  out.push_back('\n');
  out += credential_scope(date.substr(0, 8), p);
  out.push_back('\n');
  out += sha256_hex(canonical_request);
  return out;
}

std::vector<Header> sign_headers(const Request& req, const SigningParams& p, SigningTrace* trace) {
  check_credentials(p);
  const std::string date = amz_date(p.time);
  const std::string date8 = date.substr(0, 8);
  const std::string& token = p.credentials.session_token;

  std::vector<Header> extra{{"X-Amz-Date", date}};
  if (!token.empty() && !p.omit_session_token) extra.emplace_back("X-Amz-Security-Token", token);

  std::string creq = canonical_request(req, p, extra);
  std::string sts = string_to_sign(creq, p);
  std::string sig = signature_hex(p, date8, sts);
  std::string signed_headers = signed_header_list(collect_headers(req.headers, extra, req.only_headers));

  std::vector<Header> out{{"X-Amz-Date", date}};
  if (!token.empty()) out.emplace_back("X-Amz-Security-Token", token);
  out.emplace_back("Authorization", std::string(kAlgorithm) + " Credential=" +
                                        p.credentials.access_key_id + "/" +
                                        credential_scope(date8, p) +
                                        ", SignedHeaders=" + signed_headers + ", Signature=" + sig);
  if (trace != nullptr) *trace = SigningTrace{std::move(creq), std::move(sts), std::move(sig)};
  return out;
}

std::vector<QueryParam> presign_query(const Request& req, const SigningParams& p,
                                      std::chrono::seconds expires, SigningTrace* trace) {
  check_credentials(p);
  if (expires.count() < 1 || expires > kMaxExpires) {
    throw Error(ErrorKind::kInvalidInput, "presigned URL expiry must be between 1 and 604800 seconds, not " +
                                              std::to_string(expires.count()));
  }
  const std::string date = amz_date(p.time);
  const std::string date8 = date.substr(0, 8);
  const std::string& token = p.credentials.session_token;

  std::vector<QueryParam> added{
      {"X-Amz-Algorithm", std::string(kAlgorithm)},
      {"X-Amz-Credential", p.credentials.access_key_id + "/" + credential_scope(date8, p)},
      {"X-Amz-Date", date},
      {"X-Amz-Expires", std::to_string(expires.count())},
      {"X-Amz-SignedHeaders", signed_header_list(collect_headers(req.headers, {}, req.only_headers))},
  };
  if (!token.empty() && !p.omit_session_token) added.emplace_back("X-Amz-Security-Token", token);

  Request signed_req = req;
  signed_req.query.insert(signed_req.query.end(), added.begin(), added.end());
  std::string creq = canonical_request(signed_req, p);
  std::string sts = string_to_sign(creq, p);
  std::string sig = signature_hex(p, date8, sts);

  if (!token.empty() && p.omit_session_token) added.emplace_back("X-Amz-Security-Token", token);
  added.emplace_back("X-Amz-Signature", sig);
  if (trace != nullptr) *trace = SigningTrace{std::move(creq), std::move(sts), std::move(sig)};
  return added;
}

}  // namespace sluice::auth
