#include "auth/credentials.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace sluice::auth {
namespace {

using Section = std::map<std::string, std::string>;  // lower-case key -> trimmed value

// An AWS CLI style INI file (configparser rules as botocore uses them): "[section]" headers,
// "key = value" or "key: value" (keys case-insensitive, values trimmed, no inline comments),
// whole-line comments starting with '#' or ';', lines indented deeper than their key continue
// its value (nested settings such as "s3 =\n  max_concurrent_requests = 4").
struct IniFile {
  std::string path;
  bool exists = false;
  std::map<std::string, Section> sections;  // by section name, whitespace-normalised
};

// "profile   dev" -> "profile dev"; other names are only trimmed.
std::string section_key(std::string_view name) {
  name = trim(name);
  if (name.size() > 7 && name.substr(0, 7) == "profile" && (name[7] == ' ' || name[7] == '\t')) {
    return "profile " + std::string(trim(name.substr(7)));
  }
  return std::string(name);
}

size_t indent_of(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && (line[n] == ' ' || line[n] == '\t')) ++n;
  return n;
}

IniFile parse_ini(std::string path, std::string_view text) {
  IniFile ini;
  ini.path = std::move(path);
  ini.exists = true;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  Section* current = nullptr;
  std::string* current_value = nullptr;
  size_t current_indent = 0;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') continue;

    size_t indent = indent_of(line);
    if (current_value != nullptr && indent > current_indent) {
      current_value->push_back('\n');
      current_value->append(t);
      continue;
    }
    if (t.front() == '[') {
      size_t close = t.find(']');
      if (close == std::string_view::npos || close == 1) {
        throw Error(ErrorKind::kInvalidInput,
                    "cannot parse " + ini.path + " line " + std::to_string(line_no) + ": bad section header");
      }
      current = &ini.sections[section_key(t.substr(1, close - 1))];
      current_value = nullptr;
      continue;
    }
    size_t delim = t.find_first_of("=:");
    if (current == nullptr || delim == std::string_view::npos || delim == 0) {
      // The line's text is left out of the message: it may hold a secret.
      throw Error(ErrorKind::kInvalidInput, "cannot parse " + ini.path + " line " +
                                                std::to_string(line_no) +
                                                ": expected [section] or key = value");
    }
    std::string key = ascii_lower(trim(t.substr(0, delim)));
    std::string& value = (*current)[key];
    value = std::string(trim(t.substr(delim + 1)));
    current_value = &value;
    current_indent = indent;
  }
  return ini;
}

IniFile load_ini(const std::string& path) {
  IniFile ini;
  ini.path = path;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return ini;
    throw errno_error(err, "reading", path);
  }
  std::string text;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  bool failed = std::ferror(f) != 0;
  int err = errno;
  std::fclose(f);
  if (failed) throw errno_error(err, "reading", path);
  return parse_ini(path, text);
}

// An environment variable, with "" treated as unset (as botocore does).
std::optional<std::string> get(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

// The path of a shared file: the variable's value (with "~" expanded) or ~/.aws/<name>.
// nullopt when it needs HOME and HOME is not set.
std::optional<std::string> shared_file(const EnvLookup& env, std::string_view var, std::string_view name) {
  std::string path = get(env, var).value_or("~/.aws/" + std::string(name));
  if (path == "~" || path.rfind("~/", 0) == 0) {
    auto home = get(env, "HOME");
    if (!home) return std::nullopt;
    path = *home + path.substr(1);
  }
  return path;
}

struct Profile {
  std::string name;
  std::string from;  // "AWS_PROFILE" or "AWS_DEFAULT_PROFILE"; empty for the implicit "default"
};

Profile profile_name(const EnvLookup& env) {
  if (auto p = get(env, "--profile")) return {*p, "--profile"};
  if (auto p = get(env, "AWS_PROFILE")) return {*p, "AWS_PROFILE"};
  if (auto p = get(env, "AWS_DEFAULT_PROFILE")) return {*p, "AWS_DEFAULT_PROFILE"};
  return {"default", ""};
}

// The profile's section in the credentials file: "[name]".
const Section* credentials_section(const IniFile& ini, const std::string& profile) {
  auto it = ini.sections.find(profile);
  return it == ini.sections.end() ? nullptr : &it->second;
}

// The profile's settings in the config file: "[profile name]", or "[default]" (merged with a
// "[profile default]", which wins) for the default profile.
std::optional<Section> config_section(const IniFile& ini, const std::string& profile) {
  std::optional<Section> out;
  if (profile == "default") {
    if (auto it = ini.sections.find("default"); it != ini.sections.end()) out = it->second;
  }
  if (auto it = ini.sections.find("profile " + profile); it != ini.sections.end()) {
    if (!out) out.emplace();
    for (const auto& [k, v] : it->second) (*out)[k] = v;
  }
  return out;
}

std::string value_of(const Section& s, const std::string& key) {
  auto it = s.find(key);
  return it == s.end() ? std::string() : it->second;
}

// The profile's config-file settings, or nullopt (no HOME, no file, no such profile).
std::optional<Section> config_profile(const EnvLookup& env) {
  auto path = shared_file(env, "AWS_CONFIG_FILE", "config");
  if (!path) return std::nullopt;
  IniFile ini = load_ini(*path);
  if (!ini.exists) return std::nullopt;
  return config_section(ini, profile_name(env).name);
}

// Keys from a profile section: credentials, nothing (nullopt), or an error for a half-set pair.
std::optional<Credentials> keys_from(const Section& s, const std::string& profile, const std::string& path) {
  std::string id = value_of(s, "aws_access_key_id");
  std::string secret = value_of(s, "aws_secret_access_key");
  if (id.empty() && secret.empty()) return std::nullopt;
  if (id.empty() || secret.empty()) {
    throw Error(ErrorKind::kInvalidInput,
                "profile '" + profile + "' in " + path + " has " +
                    (id.empty() ? "aws_secret_access_key but no aws_access_key_id"
                                : "aws_access_key_id but no aws_secret_access_key"));
  }
  std::string token = value_of(s, "aws_session_token");
  if (token.empty()) token = value_of(s, "aws_security_token");
  return Credentials{std::move(id), std::move(secret), std::move(token),
                     "profile '" + profile + "' in " + path};
}

// Settings for credential sources that Sluice does not implement, named in the error.
std::string unsupported_sources(const Section& s) {
  static constexpr const char* kKeys[] = {"role_arn", "credential_process", "sso_session", "sso_start_url",
                                          "web_identity_token_file"};
  std::string out;
  for (const char* k : kKeys) {
    if (s.count(k) != 0) out += std::string(out.empty() ? "" : ", ") + k;
  }
  return out;
}

bool is_http_url(const std::string& url) {
  std::string lower = ascii_lower(url);
  size_t scheme_len = 0;
  if (lower.rfind("http://", 0) == 0) scheme_len = 7;
  else if (lower.rfind("https://", 0) == 0) scheme_len = 8;
  else return false;
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  size_t host_end = url.find_first_of("/?#", scheme_len);
  std::string authority = url.substr(scheme_len, host_end == std::string::npos ? std::string::npos
                                                                               : host_end - scheme_len);
  // The host is what follows any userinfo; it must not be empty (":9000" alone is no host).
  size_t at = authority.rfind('@');
  std::string host = at == std::string::npos ? authority : authority.substr(at + 1);
  return !host.empty() && host.front() != ':';
}

std::string checked_endpoint(std::string url, std::string_view source) {
  if (!is_http_url(url)) {
    throw Error(ErrorKind::kInvalidInput, "invalid endpoint URL '" + url + "' (from " + std::string(source) +
                                              "): it must be an http:// or https:// URL with a host");
  }
  while (url.back() == '/') url.pop_back();  // the host is not empty, so "scheme://host" stays
  return url;
}

}  // namespace

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    if (name.starts_with("--")) return std::nullopt;  // a flag: see with_flags
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

EnvLookup with_flags(EnvLookup env, Flags flags) {
  return [env = std::move(env), flags = std::move(flags)](std::string_view name) -> std::optional<std::string> {
    if (name == "--profile") return flags.profile;
    if (name == "--region") return flags.region;
    if (name.starts_with("--")) return std::nullopt;
    return env(name);
  };
}

Credentials resolve_credentials(const EnvLookup& env) {
  std::vector<std::string> tried;

  // 1. The environment, unless a profile was chosen with --profile.
  const bool profile_flag = get(env, "--profile").has_value();
  auto id = profile_flag ? std::nullopt : get(env, "AWS_ACCESS_KEY_ID");
  auto secret = profile_flag ? std::nullopt : get(env, "AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    std::string token = get(env, "AWS_SESSION_TOKEN").value_or(get(env, "AWS_SECURITY_TOKEN").value_or(""));
    log::debug("using AWS credentials from the environment");
    return Credentials{*id, *secret, std::move(token), "environment"};
  }
  if (id || secret) {
    throw Error(ErrorKind::kInvalidInput, id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                                             : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  }
  tried.push_back(profile_flag ? "no environment variables (--profile chooses the profile)"
                               : "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (not set)");

  // 2. The shared credentials file, then 3. the config file.
  const Profile profile = profile_name(env);
  bool profile_found = false;
  std::vector<std::string> looked_in;
  const std::string quoted = "profile '" + profile.name + "'";

  auto cred_path = shared_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  if (!cred_path) {
    tried.push_back("~/.aws/credentials (HOME is not set)");
  } else {
    looked_in.push_back(*cred_path);
    IniFile ini = load_ini(*cred_path);
    if (!ini.exists) {
      tried.push_back(*cred_path + " (no such file)");
    } else if (const Section* s = credentials_section(ini, profile.name)) {
      profile_found = true;
      if (auto c = keys_from(*s, profile.name, *cred_path)) {
        log::debug("using AWS credentials from {}", c->source);
        return *c;
      }
      tried.push_back(quoted + " in " + *cred_path + " (no aws_access_key_id)");
    } else {
      tried.push_back(*cred_path + " (no " + quoted + ")");
    }
  }

  auto config_path = shared_file(env, "AWS_CONFIG_FILE", "config");
  if (!config_path) {
    tried.push_back("~/.aws/config (HOME is not set)");
  } else {
    looked_in.push_back(*config_path);
    IniFile ini = load_ini(*config_path);
    if (!ini.exists) {
      tried.push_back(*config_path + " (no such file)");
    } else if (auto s = config_section(ini, profile.name)) {
      profile_found = true;
      if (auto c = keys_from(*s, profile.name, *config_path)) {
        log::debug("using AWS credentials from {}", c->source);
        return *c;
      }
      std::string unsupported = unsupported_sources(*s);
      tried.push_back(quoted + " in " + *config_path + " (no aws_access_key_id" +
                      (unsupported.empty() ? "" : "; " + unsupported + " is not supported by sluice") + ")");
    } else {
      tried.push_back(*config_path + " (no " + quoted + ")");
    }
  }

  if (!profile.from.empty() && !profile_found) {
    std::string where;
    for (const auto& p : looked_in) where += (where.empty() ? "" : " or ") + p;
    throw Error(ErrorKind::kNotFound, "the AWS profile '" + profile.name + "' (from " + profile.from + ") was not found" +
                                          (where.empty() ? std::string() : " in " + where));
  }

  std::string message = "no AWS credentials found; tried: ";
  for (size_t i = 0; i < tried.size(); ++i) message += (i > 0 ? "; " : "") + tried[i];
  throw Error(ErrorKind::kAccessDenied, message);
}

std::string resolve_region(const EnvLookup& env) {
  if (auto r = get(env, "--region")) return *r;
  if (auto r = get(env, "AWS_REGION")) return *r;
  if (auto r = get(env, "AWS_DEFAULT_REGION")) return *r;
  if (auto s = config_profile(env)) {
    std::string r = value_of(*s, "region");
    if (!r.empty()) return r;
  }
  return "us-east-1";
}

std::optional<std::string> resolve_endpoint(const std::optional<std::string>& flag, const EnvLookup& env) {
  if (flag) return checked_endpoint(*flag, "--endpoint-url");
  if (auto e = get(env, "AWS_ENDPOINT_URL_S3")) return checked_endpoint(*e, "AWS_ENDPOINT_URL_S3");
  if (auto e = get(env, "AWS_ENDPOINT_URL")) return checked_endpoint(*e, "AWS_ENDPOINT_URL");
  if (auto s = config_profile(env)) {
    std::string e = value_of(*s, "endpoint_url");
    if (!e.empty()) return checked_endpoint(e, "endpoint_url in the AWS config file");
  }
  return std::nullopt;
}

}  // namespace sluice::auth
