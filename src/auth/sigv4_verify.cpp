#include "auth/sigv4_verify.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "core/hash.hpp"
#include "core/strings.hpp"

namespace sluice::auth {
namespace {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr int64_t kMaxPresignExpires = 604800;

// A refusal on the way through verify_sigv4.
struct Refusal {
  VerifyErrorKind kind;
  std::string message;
};

// Everything the two forms give, once parsed.
struct Parsed {
  bool presigned = false;
  std::string access_key_id;
  std::string scope_date;  // YYYYMMDD
  std::string scope_region;
  std::string scope_service;
  std::vector<std::string> signed_headers;  // lower-case, sorted, unique
  std::string signature;
  std::string amz_date;               // YYYYMMDDTHHMMSSZ as sent
  int64_t expires = 0;                // presigned
  std::optional<std::string> token;   // X-Amz-Security-Token, when sent
  std::vector<QueryParam> query;      // decoded, without X-Amz-Signature
};

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::vector<std::string_view> header_values(std::span<const Header> headers, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) out.push_back(v);
  }
  return out;
}

// The one value of a header that may appear once; nullopt when absent; a Refusal when repeated.
std::optional<std::string_view> single_header(std::span<const Header> headers, std::string_view name,
                                              VerifyErrorKind kind) {
  auto values = header_values(headers, name);
  if (values.size() > 1) throw Refusal{kind, "The request has more than one " + std::string(name) + " header."};
  if (values.empty()) return std::nullopt;
  return values.front();
}

std::optional<std::string> single_param(const std::vector<QueryParam>& params, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& [n, v] : params) {
    if (n != name) continue;
    if (out) throw Refusal{VerifyErrorKind::kIncompleteSignature, "The query has more than one " + std::string(name) + "."};
    out = v;
  }
  return out;
}

bool all_of_chars(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

bool is_lower_hex(char c) { return ascii_isdigit(c) || (c >= 'a' && c <= 'f'); }
bool is_header_name_char(char c) {
  // RFC 9110 token characters, lower-case only (SignedHeaders lists lower-case names).
  return ascii_isdigit(c) || (c >= 'a' && c <= 'z') || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_scope_char(char c) { return ascii_isalnum(c) || c == '-' || c == '_' || c == '.'; }

// "AKID/YYYYMMDD/REGION/SERVICE/aws4_request".
void parse_credential(std::string_view credential, Parsed& out) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    size_t slash = credential.find('/', pos);
    parts.push_back(credential.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  const std::string malformed =
      "Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";
  if (parts.size() != 5) throw Refusal{VerifyErrorKind::kIncompleteSignature, malformed};
  if (!all_of_chars(parts[0], ascii_isalnum) || parts[1].size() != 8 || !all_of_chars(parts[1], ascii_isdigit) ||
      !all_of_chars(parts[2], is_scope_char) || !all_of_chars(parts[3], is_scope_char)) {
    throw Refusal{VerifyErrorKind::kIncompleteSignature, malformed};
  }
  if (parts[4] != kTerminator) {
    throw Refusal{VerifyErrorKind::kIncompleteSignature,
                  "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                      std::string(parts[4].substr(0, 32)) + "'."};
  }
  out.access_key_id = parts[0];
  out.scope_date = parts[1];
  out.scope_region = parts[2];
  out.scope_service = parts[3];
}

// "a;b;c": lower-case header names, sorted, each once.
void parse_signed_headers(std::string_view list, Parsed& out) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t semi = list.find(';', pos);
    if (semi == std::string_view::npos) semi = list.size();
    std::string_view name = list.substr(pos, semi - pos);
    if (!all_of_chars(name, is_header_name_char)) {
      throw Refusal{VerifyErrorKind::kIncompleteSignature,
                    "SignedHeaders must be lower-case header names separated by ';'."};
    }
    if (!out.signed_headers.empty() && !(out.signed_headers.back() < name)) {
      throw Refusal{VerifyErrorKind::kIncompleteSignature, "SignedHeaders must be sorted, each name once."};
    }
    out.signed_headers.emplace_back(name);
    pos = semi + 1;
  }
}

void check_signature_syntax(std::string_view signature) {
  if (signature.size() != 64 || !all_of_chars(signature, is_lower_hex)) {
    throw Refusal{VerifyErrorKind::kIncompleteSignature, "Signature must be 64 lower-case hexadecimal digits."};
  }
}

// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`: the three components once
// each, in any order, separated by ',' and optional spaces; nothing else.
void parse_authorization(std::string_view value, Parsed& out) {
  value = trim(value, " \t");
  size_t sp = value.find_first_of(" \t");
  std::string_view algorithm = value.substr(0, sp);
  if (algorithm != kAlgorithm) {
    throw Refusal{VerifyErrorKind::kIncompleteSignature,
                  "Unsupported AWS 'algorithm': '" + std::string(algorithm.substr(0, 32)) + "'."};
  }
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : trim(value.substr(sp), " \t");
  std::optional<std::string_view> credential, signed_headers, signature;
  size_t pos = 0;
  while (!rest.empty() && pos <= rest.size()) {
    size_t comma = rest.find(',', pos);
    if (comma == std::string_view::npos) comma = rest.size();
    std::string_view part = trim(rest.substr(pos, comma - pos), " \t");
    pos = comma + 1;
    size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    std::optional<std::string_view>* slot = key == "Credential"      ? &credential
                                            : key == "SignedHeaders" ? &signed_headers
                                            : key == "Signature"     ? &signature
                                                                     : nullptr;
    if (eq == std::string_view::npos || slot == nullptr || slot->has_value()) {
      throw Refusal{VerifyErrorKind::kIncompleteSignature,
                    "Authorization header is malformed: expecting 'Credential=', 'SignedHeaders=' and "
                    "'Signature=', each once, separated by ','."};
    }
    *slot = part.substr(eq + 1);
  }
  std::string missing;
  if (!credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!signed_headers) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!missing.empty()) throw Refusal{VerifyErrorKind::kIncompleteSignature, std::string(trim(missing))};
  parse_credential(*credential, out);
  parse_signed_headers(*signed_headers, out);
  check_signature_syntax(*signature);
  out.signature = *signature;
}

Parsed parse_header_form(const ReceivedRequest& req, std::string_view authorization) {
  Parsed out;
  parse_authorization(authorization, out);
  out.query = parse_query_string(req.query);
  auto date = single_header(req.headers, "x-amz-date", VerifyErrorKind::kBadDate);
  if (!date) {
    throw Refusal{VerifyErrorKind::kBadDate,
                  "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."};
  }
  out.amz_date = trim(*date, " \t");
  auto token = single_header(req.headers, "x-amz-security-token", VerifyErrorKind::kInvalidToken);
  if (token) out.token = std::string(trim(*token, " \t"));
  return out;
}

Parsed parse_presigned_form(const ReceivedRequest& req) {
  Parsed out;
  out.presigned = true;
  std::vector<QueryParam> all = parse_query_string(req.query);
  auto required = [&](std::string_view name) {
    auto v = single_param(all, name);
    if (!v) {
      throw Refusal{VerifyErrorKind::kIncompleteSignature,
                    "A presigned request requires the query parameter " + std::string(name) + "."};
    }
    return *v;
  };
  std::string algorithm = required("X-Amz-Algorithm");
  if (algorithm != kAlgorithm) {
    throw Refusal{VerifyErrorKind::kIncompleteSignature,
                  "Unsupported AWS 'algorithm': '" + algorithm.substr(0, 32) + "'."};
  }
  parse_credential(required("X-Amz-Credential"), out);
  parse_signed_headers(required("X-Amz-SignedHeaders"), out);
  out.signature = required("X-Amz-Signature");
  check_signature_syntax(out.signature);
  std::string expires = required("X-Amz-Expires");
  auto [end, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), out.expires);
  if (ec != std::errc() || end != expires.data() + expires.size() || out.expires < 1 ||
      out.expires > kMaxPresignExpires) {
    throw Refusal{VerifyErrorKind::kIncompleteSignature, "X-Amz-Expires must be a number of seconds from 1 to 604800."};
  }
  auto date = single_param(all, "X-Amz-Date");
  if (!date) throw Refusal{VerifyErrorKind::kBadDate, "A presigned request requires the query parameter X-Amz-Date."};
  out.amz_date = *date;
  out.token = single_param(all, "X-Amz-Security-Token");
  for (auto& p : all) {
    if (p.first != "X-Amz-Signature") out.query.push_back(std::move(p));
  }
  return out;
}

// "YYYYMMDDTHHMMSSZ", a real UTC date and time.
std::optional<TimePoint> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (!ascii_isdigit(s[i])) return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  int y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2), sec = num(13, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec};
}

std::string skew_text(std::chrono::seconds s) {
  return s.count() % 60 == 0 ? std::to_string(s.count() / 60) + " min." : std::to_string(s.count()) + " sec.";
}

void check_time(const Parsed& p, TimePoint t, const VerifyConfig& config, TimePoint now) {
  const auto skew = config.max_skew;
  if (now < t - skew) {
    throw Refusal{VerifyErrorKind::kSignatureExpired,
                  "Signature not yet current: " + p.amz_date + " is still later than " + amz_date(now + skew) +
                      " (" + amz_date(now) + " + " + skew_text(skew) + ")"};
  }
  if (p.presigned) {
    if (now > t + std::chrono::seconds(p.expires)) {
      throw Refusal{VerifyErrorKind::kSignatureExpired,
                    "Request has expired: signed at " + p.amz_date + " for " + std::to_string(p.expires) +
                        " seconds, now " + amz_date(now) + "."};
    }
  } else if (now > t + skew) {
    throw Refusal{VerifyErrorKind::kSignatureExpired,
                  "Signature expired: " + p.amz_date + " is now earlier than " + amz_date(now - skew) + " (" +
                      amz_date(now) + " - " + skew_text(skew) + ")"};
  }
}

void check_signed_headers(const ReceivedRequest& req, const Parsed& p) {
  auto is_signed = [&](std::string_view lname) {
    return std::binary_search(p.signed_headers.begin(), p.signed_headers.end(), lname);
  };
  if (!is_signed("host")) {
    throw Refusal{VerifyErrorKind::kIncompleteSignature, "The host header must be signed (SignedHeaders)."};
  }
  if (!p.presigned && !is_signed("x-amz-date")) {
    throw Refusal{VerifyErrorKind::kIncompleteSignature, "The x-amz-date header must be signed (SignedHeaders)."};
  }
  for (const std::string& name : p.signed_headers) {
    if (name == "authorization" || header_values(req.headers, name).empty()) {
      throw Refusal{VerifyErrorKind::kIncompleteSignature,
                    "SignedHeaders names '" + name.substr(0, 64) + "', which the request does not carry."};
    }
  }
  for (const auto& [name, value] : req.headers) {
    std::string lname = ascii_lower(name);
    if (lname.starts_with("x-amz-") && lname != "x-amz-security-token" && !is_signed(lname)) {
      throw Refusal{VerifyErrorKind::kIncompleteSignature,
                    "There were headers present in the request which were not signed: " + lname.substr(0, 64) + "."};
    }
  }
}

void check_token(const Parsed& p, const KeyLookupResult& key) {
  const std::string_view sent = p.token ? std::string_view(*p.token) : std::string_view();
  bool ok = key.session_token.empty() ? !p.token.has_value() : equal_constant_time(sent, key.session_token);
  if (!ok) throw Refusal{VerifyErrorKind::kInvalidToken, "The security token included in the request is invalid."};
}

VerifiedRequest verify(const ReceivedRequest& req, const VerifyConfig& config, const KeyLookup& lookup,
                       TimePoint now) {
  auto authorization = single_header(req.headers, "authorization", VerifyErrorKind::kIncompleteSignature);
  const bool has_algorithm = single_param(parse_query_string(req.query), "X-Amz-Algorithm").has_value();
  if (authorization && has_algorithm) {
    throw Refusal{VerifyErrorKind::kIncompleteSignature,
                  "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the "
                  "Authorization header should be specified."};
  }
  if (!authorization && (!has_algorithm || !config.allow_presigned)) {
    throw Refusal{VerifyErrorKind::kMissingAuthentication, "Missing Authentication Token"};
  }
  const Parsed p = authorization ? parse_header_form(req, *authorization) : parse_presigned_form(req);
  check_signed_headers(req, p);

  const std::optional<TimePoint> t = parse_amz_date(p.amz_date);
  if (!t) {
    throw Refusal{VerifyErrorKind::kBadDate,
                  "X-Amz-Date must be in ISO-8601 basic format, YYYYMMDD'T'HHMMSS'Z', not '" +
                      p.amz_date.substr(0, 32) + "'."};
  }
  if (p.scope_date != p.amz_date.substr(0, 8)) {
    throw Refusal{VerifyErrorKind::kScopeDateMismatch,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
                      p.scope_date + "' != '" + p.amz_date.substr(0, 8) + "', from '" + p.amz_date + "'."};
  }
  if (p.scope_region != config.region) {
    throw Refusal{VerifyErrorKind::kWrongRegion,
                  "Credential should be scoped to a valid region, not '" + p.scope_region + "'."};
  }
  if (p.scope_service != config.service) {
    throw Refusal{VerifyErrorKind::kWrongService,
                  "Credential should be scoped to correct service: '" + config.service + "'."};
  }
  check_time(p, *t, config, now);

  const KeyLookupResult key = lookup(p.access_key_id);
  if (key.status == KeyLookupResult::Status::kUnknown) {
    throw Refusal{VerifyErrorKind::kUnknownAccessKey, "The security token included in the request is invalid."};
  }
  if (key.status == KeyLookupResult::Status::kExpired) {
    throw Refusal{VerifyErrorKind::kExpiredToken, "The security token included in the request is expired"};
  }
  check_token(p, key);

  const std::string body_hash = req.body_sha256_hex.empty() ? sha256_hex(req.body) : ascii_lower(req.body_sha256_hex);
  auto content_sha = single_header(req.headers, "x-amz-content-sha256", VerifyErrorKind::kContentHashMismatch);
  if (content_sha && !equal_constant_time(ascii_lower(trim(*content_sha, " \t")), body_hash)) {
    throw Refusal{VerifyErrorKind::kContentHashMismatch,
                  "The provided 'x-amz-content-sha256' header does not match what was computed."};
  }

  Request canonical;
  canonical.method = std::string(req.method);
  canonical.wire_path = std::string(req.path);
  canonical.query = p.query;
  canonical.headers.assign(req.headers.begin(), req.headers.end());
  canonical.payload_sha256_hex = body_hash;
  canonical.only_headers = p.signed_headers;
  SigningParams params;
  params.region = p.scope_region;
  params.service = p.scope_service;
  params.time = *t;
  params.path_rule = PathRule::kGeneric;
  params.normalize_path = config.normalize_path;
  const std::string sts = string_to_sign(canonical_request(canonical, params), params);
  const std::string key_bytes = signing_key(key.secret_access_key, p.scope_date, p.scope_region, p.scope_service);
  const std::string expected = hex_encode(hmac_sha256(key_bytes, sts));
  if (!equal_constant_time(expected, p.signature)) {
    throw Refusal{VerifyErrorKind::kSignatureMismatch,
                  "The request signature we calculated does not match the signature you provided. Check your "
                  "AWS Secret Access Key and signing method. Consult the service documentation for details."};
  }

  VerifiedRequest out;
  out.access_key_id = p.access_key_id;
  out.principal = key.principal;
  out.temporary = !key.session_token.empty();
  out.presigned = p.presigned;
  out.signature = p.signature;
  out.request_time = *t;
  out.valid_until = p.presigned ? *t + std::chrono::seconds(p.expires) : *t + config.max_skew;
  return out;
}

}  // namespace

namespace {

struct Codes {
  const char* json;
  const char* query;
  int json_status;
  int query_status;
};
constexpr Codes kMissingCodes{"MissingAuthenticationTokenException", "MissingAuthenticationToken", 403, 403};
constexpr Codes kIncompleteCodes{"IncompleteSignatureException", "IncompleteSignature", 400, 400};
constexpr Codes kSignatureCodes{"InvalidSignatureException", "SignatureDoesNotMatch", 400, 403};
constexpr Codes kClientCodes{"UnrecognizedClientException", "InvalidClientTokenId", 400, 403};
constexpr Codes kExpiredCodes{"ExpiredTokenException", "ExpiredToken", 400, 400};
constexpr Codes kThrottlingCodes{"ThrottlingException", "Throttling", 400, 400};

const Codes& codes_of(VerifyErrorKind kind) {
  switch (kind) {
    case VerifyErrorKind::kMissingAuthentication: return kMissingCodes;
    case VerifyErrorKind::kIncompleteSignature:
    case VerifyErrorKind::kBadDate: return kIncompleteCodes;
    case VerifyErrorKind::kUnknownAccessKey:
    case VerifyErrorKind::kInvalidToken: return kClientCodes;
    case VerifyErrorKind::kExpiredToken: return kExpiredCodes;
    case VerifyErrorKind::kReplayCacheFull: return kThrottlingCodes;
    default: return kSignatureCodes;  // the scope, time, content hash, signature and replay checks
  }
}

}  // namespace

VerifyError make_verify_error(VerifyErrorKind kind, ErrorFlavour flavour, std::string message) {
  const Codes& c = codes_of(kind);
  const bool json = flavour == ErrorFlavour::kJson;
  return VerifyError{kind, json ? c.json : c.query, json ? c.json_status : c.query_status, std::move(message)};
}

VerifyResult verify_sigv4(const ReceivedRequest& req, const VerifyConfig& config, const KeyLookup& lookup,
                          TimePoint now) {
  VerifyResult result;
  try {
    result.verified = verify(req, config, lookup, now);
  } catch (Refusal& r) {
    result.error = make_verify_error(r.kind, config.flavour, std::move(r.message));
  }
  return result;
}

ReplayCache::ReplayCache(size_t capacity) : capacity_(capacity) {}

void ReplayCache::purge(TimePoint now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first < now) {
    seen_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
}

ReplayCache::Verdict ReplayCache::check_and_remember(std::string_view signature, TimePoint valid_until,
                                                     TimePoint now) {
  std::lock_guard lock(mu_);
  purge(now);
  if (seen_.find(std::string(signature)) != seen_.end()) return Verdict::kReplayed;
  if (seen_.size() >= capacity_) return Verdict::kFull;
  seen_.emplace(signature, valid_until);
  by_expiry_.emplace(valid_until, signature);
  return Verdict::kFresh;
}

std::optional<VerifyError> ReplayCache::admit(const VerifiedRequest& request, ErrorFlavour flavour, TimePoint now) {
  switch (check_and_remember(request.signature, request.valid_until, now)) {
    case Verdict::kFresh:
      return std::nullopt;
    case Verdict::kReplayed:
      return make_verify_error(VerifyErrorKind::kReplayed, flavour,
                               "The request was already received: a signed request is accepted once.");
    case Verdict::kFull:
      break;
  }
  return make_verify_error(VerifyErrorKind::kReplayCacheFull, flavour, "Rate exceeded");
}

size_t ReplayCache::size() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

}  // namespace sluice::auth
