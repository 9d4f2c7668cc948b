#include "job/job_spec_values.hpp"

#include <algorithm>
#include <limits>
#include <regex>

#include "core/error.hpp"
#include "core/location.hpp"
#include "core/strings.hpp"
#include "core/utf8.hpp"

namespace sluice::job {

using namespace json_check;

// [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}: letters, digits and hyphens, starting and ending with a letter or digit.
bool valid_job_name(std::string_view s) {
  if (s.empty() || !ascii_isalnum(s.front()) || !ascii_isalnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return ascii_isalnum(c) || c == '-'; });
}

// arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+
bool valid_role_arn(std::string_view s) {
  if (!s.starts_with("arn:aws")) return false;
  s.remove_prefix(7);
  while (!s.empty() && ((s[0] >= 'a' && s[0] <= 'z') || s[0] == '-')) s.remove_prefix(1);
  if (!s.starts_with(":iam::")) return false;
  s.remove_prefix(6);
  if (s.size() < 12 || !std::all_of(s.begin(), s.begin() + 12, ascii_isdigit)) return false;
  s.remove_prefix(12);
  if (!s.starts_with(":role")) return false;
  s.remove_prefix(5);
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return ascii_isalnum(c) || std::string_view("_+=,.@-/").find(c) != std::string_view::npos;
  });
}

bool valid_channel_name(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return ascii_isalnum(c) || c == '.' || c == '-' || c == '_'; });
}

// fs-[0-9a-f]{8,}
bool valid_file_system_id(std::string_view s) {
  if (!s.starts_with("fs-") || s.size() < 11) return false;
  return std::all_of(s.begin() + 3, s.end(), [](char c) { return ascii_isdigit(c) || (c >= 'a' && c <= 'f'); });
}

// The API's ArnOrName for AlgorithmName.
bool valid_algorithm_name(const std::string& s) {
  static const std::regex re(
      "(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*/)?[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?");
  return std::regex_match(s, re);
}

// ml.<family>.<size>, e.g. ml.m5.xlarge. The API's enum grows every few months; Sluice checks the shape.
bool valid_instance_type(std::string_view s) {
  if (!s.starts_with("ml.")) return false;
  s.remove_prefix(3);
  auto dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == s.size()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return ascii_isalnum(c) || c == '.' || c == '-'; });
}

bool has_dot_dot_segment(std::string_view p) {
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    if (p.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

// An S3Uri or S3OutputPath: the API's (https|s3)://([^/]+)/?(.*) of at most 1024 characters, or
// file:///ABSOLUTE/PATH (Sluice's local-mode extension). Returns the problem, or "" when fine.
std::string uri_problem(const std::string& s) {
  size_t len = utf8_char_count(s);
  if (len > 1024) return "must be at most 1024 characters long, got " + std::to_string(len);
  if (s.starts_with("file://")) {
    std::string_view rest = std::string_view(s).substr(7);
    if (rest.empty() || rest.front() != '/') {
      return "a file:// URI needs an absolute path with no host, as in file:///data/train, got " + show(s);
    }
  } else {
    size_t scheme_end = s.starts_with("s3://") ? 5 : s.starts_with("https://") ? 8 : 0;
    if (scheme_end == 0 || scheme_end == s.size() || s[scheme_end] == '/') {
      return "must match (https|s3)://BUCKET/PREFIX or file:///PATH, got " + show(s);
    }
    if (scheme_end == 8) {
      return "https:// URIs match the API's pattern but Sluice cannot read them; write s3://BUCKET/PREFIX, got " +
             show(s);
    }
  }
  try {
    (void)sluice::parse_location(s);
  } catch (const Error& e) {
    return e.cause() + ", got " + show(s);
  }
  return "";
}

std::optional<std::string> get_uri(Checker& c, const Node& n) {
  auto s = get_string(c, n, 0, std::numeric_limits<size_t>::max());
  if (!s) return std::nullopt;
  std::string why = uri_problem(*s);
  if (!why.empty()) {
    c.add(n.path, why);
    return std::nullopt;
  }
  return s;
}

}  // namespace sluice::job
