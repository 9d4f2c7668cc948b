// Credential, region and endpoint resolution with AWS CLI conventions. Every test uses its own
// temporary HOME and an EnvLookup map: the real environment and ~/.aws are never read.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/credentials.hpp"
#include "core/error.hpp"

namespace sluice::auth {
namespace {

namespace fs = std::filesystem;

// Secrets used below; no error message may ever contain any of them.
const std::vector<std::string> kSecrets = {
    "ENVSECRETenvsecretENVSECRET0000000000001",  "CREDSECRETcredsecretCREDSECRET000000002",
    "CONFSECRETconfsecretCONFSECRET000000003",  "DEVSECRETdevsecretDEVSECRET0000000000004",
    "ALTSECRETaltsecretALTSECRET0000000000005",  "TOKENSECRETtokensecret0000000000000006",
};
const std::string& kEnvSecret = kSecrets[0];
const std::string& kCredSecret = kSecrets[1];
const std::string& kConfSecret = kSecrets[2];
const std::string& kDevSecret = kSecrets[3];
const std::string& kAltSecret = kSecrets[4];
const std::string& kToken = kSecrets[5];

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "sluice-credentials-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    home_ = root_ / "home";
    fs::create_directories(home_ / ".aws");
    env_["HOME"] = home_.string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  EnvLookup env() const {
    auto copy = env_;
    return [copy](std::string_view name) -> std::optional<std::string> {
      auto it = copy.find(std::string(name));
      if (it == copy.end()) return std::nullopt;
      return it->second;
    };
  }

  static void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << text;
    ASSERT_TRUE(out.good()) << p;
  }
  void write_credentials(const std::string& text) { write(home_ / ".aws" / "credentials", text); }
  void write_config(const std::string& text) { write(home_ / ".aws" / "config", text); }

  // Runs f, which must throw sluice::Error of `kind`; returns its full text, checked for secrets.
  std::string expect_error(const std::function<void()>& f, ErrorKind kind) {
    try {
      f();
    } catch (const sluice::Error& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      std::string all = std::string(e.what()) + "\n" + e.message() + "\n" + e.cause();
      for (const auto& secret : kSecrets) {
        EXPECT_EQ(all.find(secret), std::string::npos) << "secret leaked into: " << all;
        EXPECT_EQ(all.find(secret.substr(0, 16)), std::string::npos) << "secret prefix leaked into: " << all;
      }
      return all;
    }
    ADD_FAILURE() << "no sluice::Error thrown";
    return "";
  }

  fs::path root_;
  fs::path home_;
  std::map<std::string, std::string> env_;
};

// ---- credentials: precedence ------------------------------------------------------------------

TEST_F(CredentialsTest, EnvironmentBeatsFiles) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  env_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  env_["AWS_SESSION_TOKEN"] = kToken;
  write_credentials("[default]\naws_access_key_id = AKIACRED\naws_secret_access_key = " + kCredSecret + "\n");
  write_config("[default]\naws_access_key_id = AKIACONF\naws_secret_access_key = " + kConfSecret + "\n");
  Credentials c = resolve_credentials(env());
  EXPECT_EQ(c.access_key_id, "AKIAENV");
  EXPECT_EQ(c.secret_access_key, kEnvSecret);
  EXPECT_EQ(c.session_token, kToken);
  EXPECT_EQ(c.source, "environment");
}

TEST_F(CredentialsTest, CredentialsFileBeatsConfigFile) {
  write_credentials("[default]\naws_access_key_id = AKIACRED\naws_secret_access_key = " + kCredSecret + "\n");
  write_config("[default]\naws_access_key_id = AKIACONF\naws_secret_access_key = " + kConfSecret + "\n");
  Credentials c = resolve_credentials(env());
  EXPECT_EQ(c.access_key_id, "AKIACRED");
  EXPECT_EQ(c.secret_access_key, kCredSecret);
  EXPECT_EQ(c.session_token, "");
  EXPECT_EQ(c.source, "profile 'default' in " + (home_ / ".aws" / "credentials").string());
}

TEST_F(CredentialsTest, ConfigFileWhenCredentialsFileIsAbsent) {
  write_config("[default]\nregion = eu-west-1\naws_access_key_id = AKIACONF\naws_secret_access_key = " +
               kConfSecret + "\n");
  Credentials c = resolve_credentials(env());
  EXPECT_EQ(c.access_key_id, "AKIACONF");
  EXPECT_EQ(c.secret_access_key, kConfSecret);
  EXPECT_EQ(c.source, "profile 'default' in " + (home_ / ".aws" / "config").string());
}

TEST_F(CredentialsTest, ConfigFileWhenCredentialsFileLacksTheProfile) {
  env_["AWS_PROFILE"] = "dev";
  write_credentials("[default]\naws_access_key_id = AKIACRED\naws_secret_access_key = " + kCredSecret + "\n");
  write_config("[profile dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = " + kDevSecret + "\n");
  Credentials c = resolve_credentials(env());
  EXPECT_EQ(c.access_key_id, "AKIADEV");
  EXPECT_EQ(c.secret_access_key, kDevSecret);
}

TEST_F(CredentialsTest, EmptyEnvironmentValuesCountAsUnset) {
  env_["AWS_ACCESS_KEY_ID"] = "";
  env_["AWS_SECRET_ACCESS_KEY"] = "";
  write_credentials("[default]\naws_access_key_id = AKIACRED\naws_secret_access_key = " + kCredSecret + "\n");
  EXPECT_EQ(resolve_credentials(env()).access_key_id, "AKIACRED");
}

// ---- credentials: profiles --------------------------------------------------------------------

TEST_F(CredentialsTest, AwsProfileSelectsTheProfile) {
  write_credentials("[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = " + kCredSecret +
                    "\n\n[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = " + kDevSecret + "\n");
  EXPECT_EQ(resolve_credentials(env()).access_key_id, "AKIADEFAULT");
  env_["AWS_PROFILE"] = "dev";
  Credentials c = resolve_credentials(env());
  EXPECT_EQ(c.access_key_id, "AKIADEV");
  EXPECT_EQ(c.secret_access_key, kDevSecret);
  EXPECT_EQ(c.source, "profile 'dev' in " + (home_ / ".aws" / "credentials").string());
}

TEST_F(CredentialsTest, ConfigNeedsProfilePrefixCredentialsDoesNot) {
  env_["AWS_PROFILE"] = "dev";
  // "[dev]" in config and "[profile dev]" in credentials are not profile "dev".
  write_config("[dev]\naws_access_key_id = AKIAWRONG1\naws_secret_access_key = " + kConfSecret + "\n");
  write_credentials("[profile dev]\naws_access_key_id = AKIAWRONG2\naws_secret_access_key = " + kCredSecret + "\n");
  std::string msg = expect_error([&] { resolve_credentials(env()); }, ErrorKind::kNotFound);
  EXPECT_NE(msg.find("'dev'"), std::string::npos) << msg;

  write_config("[profile   dev]\naws_access_key_id = AKIACONFDEV\naws_secret_access_key = " + kDevSecret + "\n");
  EXPECT_EQ(resolve_credentials(env()).access_key_id, "AKIACONFDEV");

  write_credentials("[dev]\naws_access_key_id = AKIACREDDEV\naws_secret_access_key = " + kCredSecret + "\n");
  EXPECT_EQ(resolve_credentials(env()).access_key_id, "AKIACREDDEV");
}

TEST_F(CredentialsTest, DefaultProfileInConfigAsDefaultOrProfileDefault) {
  write_config("[profile default]\naws_access_key_id = AKIAPD\naws_secret_access_key = " + kConfSecret + "\n");
  EXPECT_EQ(resolve_credentials(env()).access_key_id, "AKIAPD");
  write_config("[default]\naws_access_key_id = AKIAD\naws_secret_access_key = " + kConfSecret + "\n");
  EXPECT_EQ(resolve_credentials(env()).access_key_id, "AKIAD");
}

TEST_F(CredentialsTest, MissingProfileIsNotFound) {
  env_["AWS_PROFILE"] = "nope";
  write_credentials("[default]\naws_access_key_id = AKIACRED\naws_secret_access_key = " + kCredSecret + "\n");
  write_config("[default]\nregion = us-west-2\n");
  std::string msg = expect_error([&] { resolve_credentials(env()); }, ErrorKind::kNotFound);
  EXPECT_NE(msg.find("'nope'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("AWS_PROFILE"), std::string::npos) << msg;
  EXPECT_NE(msg.find((home_ / ".aws" / "credentials").string()), std::string::npos) << msg;

  // Also when neither file exists.
  fs::remove(home_ / ".aws" / "credentials");
  fs::remove(home_ / ".aws" / "config");
  expect_error([&] { resolve_credentials(env()); }, ErrorKind::kNotFound);
}

TEST_F(CredentialsTest, EnvironmentWinsEvenWithAMissingProfile) {
  // The documented order: environment first, files only when it has no keys.
  env_["AWS_PROFILE"] = "nope";
  env_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  env_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  EXPECT_EQ(resolve_credentials(env()).source, "environment");
}

TEST_F(CredentialsTest, SessionTokenFromFile) {
  write_credentials("[default]\naws_access_key_id = ASIACRED\naws_secret_access_key = " + kCredSecret +
                    "\naws_session_token = " + kToken + "\n");
  Credentials c = resolve_credentials(env());
  EXPECT_EQ(c.session_token, kToken);
}

TEST_F(CredentialsTest, NoSessionTokenFromEnvironmentMeansEmpty) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  env_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  EXPECT_EQ(resolve_credentials(env()).session_token, "");
}

// ---- credentials: file locations --------------------------------------------------------------

TEST_F(CredentialsTest, SharedCredentialsFileVariableIsHonoured) {
  write_credentials("[default]\naws_access_key_id = AKIAHOME\naws_secret_access_key = " + kCredSecret + "\n");
  const fs::path alt = root_ / "elsewhere" / "creds.ini";
  write(alt, "[default]\naws_access_key_id = AKIAALT\naws_secret_access_key = " + kAltSecret + "\n");
  env_["AWS_SHARED_CREDENTIALS_FILE"] = alt.string();
  Credentials c = resolve_credentials(env());
  EXPECT_EQ(c.access_key_id, "AKIAALT");
  EXPECT_EQ(c.source, "profile 'default' in " + alt.string());
}

TEST_F(CredentialsTest, ConfigFileVariableIsHonoured) {
  write_config("[default]\naws_access_key_id = AKIAHOME\naws_secret_access_key = " + kConfSecret +
               "\nregion = eu-west-1\n");
  const fs::path alt = root_ / "elsewhere" / "config.ini";
  write(alt, "[default]\naws_access_key_id = AKIAALT\naws_secret_access_key = " + kAltSecret +
                 "\nregion = ap-south-1\nendpoint_url = http://alt.example:9000\n");
  env_["AWS_CONFIG_FILE"] = alt.string();
  EXPECT_EQ(resolve_credentials(env()).access_key_id, "AKIAALT");
  EXPECT_EQ(resolve_region(env()), "ap-south-1");
  EXPECT_EQ(resolve_endpoint(std::nullopt, env()), "http://alt.example:9000");
}

TEST_F(CredentialsTest, TildeInFileVariablesExpandsToHome) {
  write(home_ / "my" / "creds", "[default]\naws_access_key_id = AKIATILDE\naws_secret_access_key = " +
                                    kCredSecret + "\n");
  env_["AWS_SHARED_CREDENTIALS_FILE"] = "~/my/creds";
  EXPECT_EQ(resolve_credentials(env()).access_key_id, "AKIATILDE");
}

TEST_F(CredentialsTest, OverriddenFileThatDoesNotExistIsNotReplacedByHomeFile) {
  write_credentials("[default]\naws_access_key_id = AKIAHOME\naws_secret_access_key = " + kCredSecret + "\n");
  env_["AWS_SHARED_CREDENTIALS_FILE"] = (root_ / "missing").string();
  std::string msg = expect_error([&] { resolve_credentials(env()); }, ErrorKind::kAccessDenied);
  EXPECT_NE(msg.find((root_ / "missing").string()), std::string::npos) << msg;
}

// ---- credentials: errors ----------------------------------------------------------------------

TEST_F(CredentialsTest, HalfSetEnvironmentPairIsAnError) {
  write_credentials("[default]\naws_access_key_id = AKIACRED\naws_secret_access_key = " + kCredSecret + "\n");
  env_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  std::string msg = expect_error([&] { resolve_credentials(env()); }, ErrorKind::kInvalidInput);
  EXPECT_NE(msg.find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << msg;

  env_.erase("AWS_ACCESS_KEY_ID");
  env_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  msg = expect_error([&] { resolve_credentials(env()); }, ErrorKind::kInvalidInput);
  EXPECT_NE(msg.find("AWS_ACCESS_KEY_ID"), std::string::npos) << msg;
}

TEST_F(CredentialsTest, HalfSetPairInAFileIsAnError) {
  write_credentials("[default]\naws_secret_access_key = " + kCredSecret + "\n");
  write_config("[default]\naws_access_key_id = AKIACONF\naws_secret_access_key = " + kConfSecret + "\n");
  std::string msg = expect_error([&] { resolve_credentials(env()); }, ErrorKind::kInvalidInput);
  EXPECT_NE(msg.find("aws_access_key_id"), std::string::npos) << msg;
}

TEST_F(CredentialsTest, NothingFoundListsWhatWasTried) {
  write_config("[default]\nregion = us-west-2\n[profile other]\naws_access_key_id = AKIAOTHER\n"
               "aws_secret_access_key = " + kConfSecret + "\n");
  write_credentials("[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = " + kCredSecret + "\n");
  env_["AWS_SESSION_TOKEN"] = kToken;  // a token alone is not credentials
  std::string msg = expect_error([&] { resolve_credentials(env()); }, ErrorKind::kAccessDenied);
  EXPECT_NE(msg.find("AWS_ACCESS_KEY_ID"), std::string::npos) << msg;
  EXPECT_NE(msg.find((home_ / ".aws" / "credentials").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find((home_ / ".aws" / "config").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("'default'"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("AKIAOTHER"), std::string::npos) << msg;
}

TEST_F(CredentialsTest, NothingFoundWithoutFilesOrHome) {
  std::string msg = expect_error([&] { resolve_credentials(env()); }, ErrorKind::kAccessDenied);
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
  env_.erase("HOME");
  msg = expect_error([&] { resolve_credentials(env()); }, ErrorKind::kAccessDenied);
  EXPECT_NE(msg.find("HOME"), std::string::npos) << msg;
}

TEST_F(CredentialsTest, UnsupportedProfileKindIsNamed) {
  write_config("[profile assume]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n");
  env_["AWS_PROFILE"] = "assume";
  std::string msg = expect_error([&] { resolve_credentials(env()); }, ErrorKind::kAccessDenied);
  EXPECT_NE(msg.find("role_arn"), std::string::npos) << msg;
}

TEST_F(CredentialsTest, NoErrorEverContainsASecret) {
  // Secrets scattered over every source, with each kind of failure.
  const std::vector<std::function<void()>> setups = {
      [&] { env_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret; },
      [&] { write_credentials("[default]\naws_secret_access_key = " + kCredSecret + "\n"); },
      [&] { write_config("[default]\naws_secret_access_key=" + kConfSecret + "\naws_session_token=" + kToken + "\n"); },
      [&] {
        env_["AWS_PROFILE"] = "ghost";
        write_credentials("[default]\naws_access_key_id = A\naws_secret_access_key = " + kCredSecret + "\n");
      },
      [&] { write_credentials("[default]\n" + kDevSecret + "\n"); },  // a pasted secret: parse error
      [&] { write_config(kAltSecret + "\n[default]\n"); },           // before any section
      [&] {
        env_["AWS_SESSION_TOKEN"] = kToken;
        write_config("[profile x]\naws_access_key_id = A\naws_secret_access_key = " + kConfSecret + "\n");
      },
  };
  for (size_t i = 0; i < setups.size(); ++i) {
    SCOPED_TRACE("setup " + std::to_string(i));
    env_ = {{"HOME", home_.string()}};
    fs::remove(home_ / ".aws" / "credentials");
    fs::remove(home_ / ".aws" / "config");
    setups[i]();
    try {
      resolve_credentials(env());
      ADD_FAILURE() << "resolved";
    } catch (const sluice::Error& e) {
      expect_error([&] { throw e; }, e.kind());
    }
  }
}

// ---- the INI dialect --------------------------------------------------------------------------

TEST_F(CredentialsTest, IniDialect) {
  write_credentials(
      "\xEF\xBB\xBF# a comment\r\n"
      "; another comment\r\n"
      "\r\n"
      "[ default ]\r\n"
      "  # indented comment\r\n"
      "AWS_ACCESS_KEY_ID   =   AKIAINI   \r\n"
      "Aws_Secret_Access_Key=" + kCredSecret + "=/+x\r\n"
      "aws_session_token: tok # not a comment\r\n");
  Credentials c = resolve_credentials(env());
  EXPECT_EQ(c.access_key_id, "AKIAINI");
  EXPECT_EQ(c.secret_access_key, kCredSecret + "=/+x");
  EXPECT_EQ(c.session_token, "tok # not a comment");  // as the CLI: no inline comments
}

TEST_F(CredentialsTest, NestedSettingsDoNotLeakIntoTheProfile) {
  write_config(
      "[default]\n"
      "s3 =\n"
      "  endpoint_url = http://nested.example\n"
      "  max_concurrent_requests = 4\n"
      "region = eu-north-1\n");
  EXPECT_EQ(resolve_endpoint(std::nullopt, env()), std::nullopt);
  EXPECT_EQ(resolve_region(env()), "eu-north-1");
}

TEST_F(CredentialsTest, UnparseableFileIsInvalidInput) {
  write_credentials("[default]\nthis line has no delimiter\n");
  std::string msg = expect_error([&] { resolve_credentials(env()); }, ErrorKind::kInvalidInput);
  EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("no delimiter"), std::string::npos) << msg;  // the line itself is not quoted
}

// ---- region -----------------------------------------------------------------------------------

TEST_F(CredentialsTest, RegionPrecedence) {
  EXPECT_EQ(resolve_region(env()), "us-east-1");
  write_config("[default]\nregion = eu-west-1\n[profile dev]\nregion = eu-central-1\n");
  EXPECT_EQ(resolve_region(env()), "eu-west-1");
  env_["AWS_PROFILE"] = "dev";
  EXPECT_EQ(resolve_region(env()), "eu-central-1");
  env_["AWS_DEFAULT_REGION"] = "ap-northeast-1";
  EXPECT_EQ(resolve_region(env()), "ap-northeast-1");
  env_["AWS_REGION"] = "sa-east-1";
  EXPECT_EQ(resolve_region(env()), "sa-east-1");
}

TEST_F(CredentialsTest, RegionIgnoresCredentialsFileAndMissingProfile) {
  write_credentials("[default]\nregion = eu-west-3\n");
  EXPECT_EQ(resolve_region(env()), "us-east-1");
  write_config("[default]\nregion = eu-west-1\n");
  env_["AWS_PROFILE"] = "ghost";
  EXPECT_EQ(resolve_region(env()), "us-east-1");
}

// ---- endpoint ---------------------------------------------------------------------------------

TEST_F(CredentialsTest, EndpointPrecedence) {
  EXPECT_EQ(resolve_endpoint(std::nullopt, env()), std::nullopt);
  write_config("[default]\nendpoint_url = http://config.example:9000\n");
  EXPECT_EQ(resolve_endpoint(std::nullopt, env()), "http://config.example:9000");
  env_["AWS_ENDPOINT_URL"] = "http://generic.example";
  EXPECT_EQ(resolve_endpoint(std::nullopt, env()), "http://generic.example");
  env_["AWS_ENDPOINT_URL_S3"] = "https://s3.example";
  EXPECT_EQ(resolve_endpoint(std::nullopt, env()), "https://s3.example");
  EXPECT_EQ(resolve_endpoint(std::string("http://127.0.0.1:8080"), env()), "http://127.0.0.1:8080");
}

TEST_F(CredentialsTest, EndpointFromTheSelectedProfile) {
  write_config("[default]\nendpoint_url = http://default.example\n[profile dev]\nendpoint_url = https://dev.example\n");
  env_["AWS_PROFILE"] = "dev";
  EXPECT_EQ(resolve_endpoint(std::nullopt, env()), "https://dev.example");
}

TEST_F(CredentialsTest, EndpointTrailingSlashDropped) {
  EXPECT_EQ(resolve_endpoint(std::string("http://localhost:9000/"), env()), "http://localhost:9000");
  EXPECT_EQ(resolve_endpoint(std::string("HTTPS://Host.Example/"), env()), "HTTPS://Host.Example");
}

TEST_F(CredentialsTest, InvalidEndpoint) {
  for (const std::string bad : {"localhost:9000", "ftp://host", "http://", "https:///path", "", "http://a b",
                                "s3://bucket", "http://:9000"}) {
    SCOPED_TRACE(bad);
    std::string msg = expect_error([&] { resolve_endpoint(bad, env()); }, ErrorKind::kInvalidInput);
    EXPECT_NE(msg.find("--endpoint-url"), std::string::npos) << msg;
  }
  env_["AWS_ENDPOINT_URL_S3"] = "minio:9000";
  std::string msg = expect_error([&] { resolve_endpoint(std::nullopt, env()); }, ErrorKind::kInvalidInput);
  EXPECT_NE(msg.find("AWS_ENDPOINT_URL_S3"), std::string::npos) << msg;
  env_.erase("AWS_ENDPOINT_URL_S3");
  write_config("[default]\nendpoint_url = localhost\n");
  expect_error([&] { resolve_endpoint(std::nullopt, env()); }, ErrorKind::kInvalidInput);
}

// ---- --profile and --region (with_flags) -------------------------------------------------------

TEST_F(CredentialsTest, ProfileFlagBeatsAwsProfileAndTheEnvironmentsKeys) {
  env_["AWS_PROFILE"] = "dev";
  env_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  env_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  write_credentials("[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = " + kDevSecret +
                    "\n[alt]\naws_access_key_id = AKIAALT\naws_secret_access_key = " + kAltSecret + "\n");
  // Without the flag the environment's keys win (AWS_PROFILE does not negate them) ...
  EXPECT_EQ(resolve_credentials(env()).access_key_id, "AKIAENV");
  // ... with it, as in the AWS CLI, the chosen profile's keys are used.
  Credentials c = resolve_credentials(with_flags(env(), {.profile = "alt", .region = {}}));
  EXPECT_EQ(c.access_key_id, "AKIAALT");
  EXPECT_EQ(c.source, "profile 'alt' in " + (home_ / ".aws" / "credentials").string());
}

TEST_F(CredentialsTest, MissingProfileFromTheFlagIsNotFoundNamingTheFlag) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  env_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  write_credentials("[default]\naws_access_key_id = AKIACRED\naws_secret_access_key = " + kCredSecret + "\n");
  std::string msg = expect_error([&] { resolve_credentials(with_flags(env(), {.profile = "nope", .region = {}})); },
                                 ErrorKind::kNotFound);
  EXPECT_NE(msg.find("'nope' (from --profile)"), std::string::npos) << msg;
}

TEST_F(CredentialsTest, RegionFlagBeatsEverything) {
  env_["AWS_REGION"] = "eu-west-1";
  env_["AWS_DEFAULT_REGION"] = "eu-west-2";
  write_config("[default]\nregion = eu-west-3\n");
  EXPECT_EQ(resolve_region(with_flags(env(), {.profile = {}, .region = "ap-east-1"})), "ap-east-1");
  EXPECT_EQ(resolve_region(with_flags(env(), {})), "eu-west-1");
}

TEST_F(CredentialsTest, ProfileFlagChoosesTheRegionAndEndpointOfItsProfile) {
  write_config("[default]\nregion = eu-west-3\n[profile far]\nregion = sa-east-1\nendpoint_url = http://far.example:7480\n");
  EXPECT_EQ(resolve_region(env()), "eu-west-3");
  auto far = with_flags(env(), {.profile = "far", .region = {}});
  EXPECT_EQ(resolve_region(far), "sa-east-1");
  EXPECT_EQ(resolve_endpoint(std::nullopt, far), "http://far.example:7480");
  // The environment's region still beats the profile's, as in the AWS CLI.
  env_["AWS_REGION"] = "us-west-1";
  EXPECT_EQ(resolve_region(with_flags(env(), {.profile = "far", .region = {}})), "us-west-1");
}

TEST(WithFlags, FlagsAreAnsweredOnlyFromTheFlags) {
  EnvLookup base = [](std::string_view name) -> std::optional<std::string> { return "env:" + std::string(name); };
  EnvLookup env = with_flags(base, {.profile = "p", .region = std::nullopt});
  EXPECT_EQ(env("--profile"), "p");
  EXPECT_EQ(env("--region"), std::nullopt);  // not from the environment, whatever it holds
  EXPECT_EQ(env("--other"), std::nullopt);
  EXPECT_EQ(env("AWS_REGION"), "env:AWS_REGION");
}

// ---- process_env ------------------------------------------------------------------------------

TEST(ProcessEnv, ReadsTheProcessEnvironment) {
  const char* name = "SLUICE_CREDENTIALS_TEST_VARIABLE";
  ::unsetenv(name);
  EnvLookup env = process_env();
  EXPECT_EQ(env(name), std::nullopt);
  ::setenv(name, "value 1", 1);
  EXPECT_EQ(env(name), "value 1");
  ::setenv(name, "", 1);
  EXPECT_EQ(env(name), "");
  ::unsetenv(name);
  ::setenv("--profile", "from-the-environment", 1);  // not a flag: never answered
  EXPECT_EQ(env("--profile"), std::nullopt);
  ::unsetenv("--profile");
}

}  // namespace
}  // namespace sluice::auth
