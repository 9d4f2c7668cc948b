// The aws-c-auth SigV4 test suite (tests/vectors/sigv4/aws-c-auth/v4, path in SLUICE_SIGV4_VECTORS):
// loading a case, parsing its request files, and the request the signer is given. Header-only,
// for the tests (sigv4_test signs the cases, sigv4_verify_test verifies their signed requests).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "auth/sigv4.hpp"
#include "core/hash.hpp"

namespace sluice::auth::vectors {

namespace fs = std::filesystem;

inline const fs::path kSuite = SLUICE_SIGV4_VECTORS;

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  // CR LF -> LF, as aws-c-auth compares.
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
    out.push_back(s[i]);
  }
  return out;
}

// An expected artifact: trailing line breaks are not part of it.
inline std::string read_expected(const fs::path& p) {
  std::string s = read_file(p);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

inline std::vector<std::string> list_cases() {
  std::vector<std::string> out;
  if (!fs::is_directory(kSuite)) return out;
  for (const auto& e : fs::directory_iterator(kSuite)) {
    if (e.is_directory()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct HttpRequest {
  std::string method;
  std::string path;  // raw, as on the request line
  std::vector<QueryParam> query;
  std::vector<Header> headers;
  std::string body;
};

// request line, "Name:value" headers (lines starting with whitespace continue the previous
// value, folded with one space), blank line, body. The target may contain spaces.
inline HttpRequest parse_request(const std::string& text) {
  HttpRequest r;
  size_t pos = 0;
  auto next_line = [&](std::string& line) {
    if (pos >= text.size()) return false;
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    line = text.substr(pos, end - pos);
    pos = end + 1;
    return true;
  };
  std::string line;
  if (!next_line(line)) throw std::runtime_error("empty request.txt");
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1) throw std::runtime_error("bad request line: " + line);
  r.method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t qm = target.find('?');
  r.path = target.substr(0, qm);
  if (qm != std::string::npos) r.query = parse_query_string(std::string_view(target).substr(qm + 1));

  bool blank = false;
  while (next_line(line)) {
    if (line.empty()) {
      blank = true;
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (r.headers.empty()) throw std::runtime_error("continuation before any header");
      size_t b = line.find_first_not_of(" \t");
      r.headers.back().second += " " + line.substr(b == std::string::npos ? line.size() : b);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error("bad header line: " + line);
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  if (blank && pos < text.size()) r.body = text.substr(pos);
  return r;
}

inline std::chrono::system_clock::time_point parse_timestamp(const std::string& ts) {
  int y, mo, d, h, mi, s;
  if (std::sscanf(ts.c_str(), "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) != 6) {
    throw std::runtime_error("bad timestamp " + ts);
  }
  using namespace std::chrono;
  return sys_days{year{y} / month{static_cast<unsigned>(mo)} / day{static_cast<unsigned>(d)}} + hours{h} +
         minutes{mi} + seconds{s};
}

struct Case {
  std::string name;
  HttpRequest http;
  SigningParams params;
  bool sign_body = false;
  int64_t expires = 0;
};

inline Case load_case(const std::string& name) {
  Case c;
  c.name = name;
  const fs::path dir = kSuite / name;
  c.http = parse_request(read_file(dir / "request.txt"));
  auto ctx = nlohmann::json::parse(read_file(dir / "context.json"));
  const auto& cr = ctx.at("credentials");
  c.params.credentials.access_key_id = cr.at("access_key_id").get<std::string>();
  c.params.credentials.secret_access_key = cr.at("secret_access_key").get<std::string>();
  c.params.credentials.session_token = cr.value("token", std::string());
  c.params.region = ctx.at("region").get<std::string>();
  c.params.service = ctx.at("service").get<std::string>();
  c.params.time = parse_timestamp(ctx.at("timestamp").get<std::string>());
  c.params.path_rule = PathRule::kGeneric;
  c.params.normalize_path = ctx.at("normalize").get<bool>();
  c.params.omit_session_token = ctx.value("omit_session_token", false);
  c.sign_body = ctx.at("sign_body").get<bool>();
  c.expires = ctx.at("expiration_in_seconds").get<int64_t>();
  return c;
}

// The request to sign. For header signing with sign_body the suite adds x-amz-content-sha256 and
// signs it; query signing never adds it. The payload hash is the body's when sign_body, otherwise
// the hash of the empty string.
inline Request to_request(const Case& c, bool header_signing) {
  Request r;
  r.method = c.http.method;
  r.wire_path = c.http.path;
  r.query = c.http.query;
  r.headers = c.http.headers;
  r.payload_sha256_hex = sha256_hex(c.sign_body ? c.http.body : std::string());
  if (c.sign_body && header_signing) r.headers.emplace_back("X-Amz-Content-Sha256", r.payload_sha256_hex);
  return r;
}

}  // namespace sluice::auth::vectors
