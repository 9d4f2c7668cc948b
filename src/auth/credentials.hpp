// Credentials, region and endpoint, resolved the way the AWS CLI does.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::auth {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // never log, never put in an error message
  std::string session_token;      // empty when none; never log
  std::string source;             // where they came from, e.g. "environment", "profile 'dev' in /root/.aws/credentials"
};

// Looks up an environment variable; tests pass a map instead of the process environment.
// The AWS CLI's flags that choose a setting are looked up here too, under their own names
// ("--profile", "--region": no environment variable is called that), so that every resolve_*
// below, wherever it is called from, sees them with the precedence the AWS CLI gives them.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
EnvLookup process_env();  // never answers a name starting with "--"

// `env` with these flags over it (unset ones are not answered, whatever `env` holds).
struct Flags {
  std::optional<std::string> profile;  // --profile
  std::optional<std::string> region;   // --region
};
EnvLookup with_flags(EnvLookup env, Flags flags);

// Order: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) from the environment,
// unless --profile is given (as in the AWS CLI, an explicitly chosen profile's keys are used);
// then profile --profile, else AWS_PROFILE (else "default") in AWS_SHARED_CREDENTIALS_FILE (else
// ~/.aws/credentials, "[name]" sections), then in AWS_CONFIG_FILE (else ~/.aws/config,
// "[profile name]" sections, "[default]"). Throws sluice::Error (kAccessDenied) naming what was
// tried when nothing is found, and (kNotFound) when AWS_PROFILE names a profile that is in
// neither file (so does --profile). A half-set pair (key id without secret) is an error, not a fall-through
// (kInvalidInput, as is a file that does not parse). Empty variables count as unset.
Credentials resolve_credentials(const EnvLookup& env);

// --region, then AWS_REGION, then AWS_DEFAULT_REGION, then "region" of the profile in the config
// file, then "us-east-1".
std::string resolve_region(const EnvLookup& env);

// --endpoint-url (flag), then AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then "endpoint_url" of
// the profile in the config file; nullopt means AWS S3 (virtual-hosted style). Throws
// kInvalidInput for a value that is not an http:// or https:// URL. Trailing '/' is dropped.
std::optional<std::string> resolve_endpoint(const std::optional<std::string>& flag, const EnvLookup& env);

}  // namespace sluice::auth
