// The AWS CLI's --profile and --region, before or after the subcommand, against the real store:
// they take effect (the profile's keys are the ones the store sees, the region is the one signed
// for), with the AWS CLI's precedence over the environment.
#include <gtest/gtest.h>

#include "support.hpp"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

// A HOME whose ~/.aws holds the store's keys under profile "store" (region ap-south-1), and an
// environment whose own keys are wrong.
struct ProfileHome {
  TempDir home{"sluice-it-home"};
  EnvMap env;
  ProfileHome() {
    write_file(home / ".aws/credentials", "[store]\naws_access_key_id = " + store_env().at("AWS_ACCESS_KEY_ID") +
                                              "\naws_secret_access_key = " + store_env().at("AWS_SECRET_ACCESS_KEY") + "\n");
    write_file(home / ".aws/config", "[profile store]\nregion = ap-south-1\n");
    env = env_with({{"HOME", home.path()},
                    {"AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG1"},
                    {"AWS_SECRET_ACCESS_KEY", "WrongSecretWrongSecretWrongSecretWrong12"},
                    {"AWS_REGION", std::nullopt},
                    {"AWS_DEFAULT_REGION", std::nullopt}});
  }
};

TEST(CliGlobalOptions, ProfileChoosesTheKeysBeforeOrAfterTheSubcommand) {
  TestBucket b("profile");
  b.store().put("k", store::Body::from_string("x"), {});
  ProfileHome h;
  // The environment's (wrong) keys, without --profile: refused.
  auto plain = run_sluice({"ls", b.uri()}, h.env, 60s);
  EXPECT_EQ(plain.exit_code, 4) << plain.describe();
  // AWS_PROFILE does not override the environment's keys (nor does it in the AWS CLI) ...
  EnvMap with_var = h.env;
  with_var["AWS_PROFILE"] = "store";
  EXPECT_EQ(run_sluice({"ls", b.uri()}, with_var, 60s).exit_code, 4);
  // ... --profile does, wherever it is.
  for (const auto& args : std::vector<std::vector<std::string>>{{"--profile", "store", "ls", b.uri()},
                                                                 {"ls", b.uri(), "--profile", "store"}}) {
    auto r = run_sluice(args, h.env, 60s);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_TRUE(contains(r.out, " k\n")) << r.describe();
  }
  // A profile that is not there: exit 3, naming it and where it came from.
  auto missing = run_sluice({"ls", b.uri(), "--profile", "nope"}, h.env, 60s);
  EXPECT_EQ(missing.exit_code, 3) << missing.describe();
  EXPECT_TRUE(contains(missing.err, "'nope' (from --profile)")) << missing.describe();
}

// The region a request is signed for, from a presigned URL's X-Amz-Credential (no request is made).
std::string signed_region(const std::vector<std::string>& args, const EnvMap& env) {
  auto r = run_sluice(args, env, 60s);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  // X-Amz-Credential=KEY%2FDATE%2FREGION%2Fs3%2Faws4_request
  auto at = r.out.find("%2Fs3%2Faws4_request");
  if (at == std::string::npos) {
    ADD_FAILURE() << "no credential scope in " << r.out;
    return "";
  }
  auto start = r.out.rfind("%2F", at - 1);
  return r.out.substr(start + 3, at - start - 3);
}

TEST(CliGlobalOptions, RegionIsTheOneSignedFor) {
  ProfileHome h;
  EnvMap env = h.env;
  env["AWS_ACCESS_KEY_ID"] = store_env().at("AWS_ACCESS_KEY_ID");
  env["AWS_SECRET_ACCESS_KEY"] = store_env().at("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(signed_region({"presign", "s3://bucket/k"}, env), "us-east-1");
  EXPECT_EQ(signed_region({"--region", "eu-central-1", "presign", "s3://bucket/k"}, env), "eu-central-1");
  EXPECT_EQ(signed_region({"presign", "s3://bucket/k", "--region", "eu-central-1"}, env), "eu-central-1");
  // The chosen profile's region, unless the environment or --region says otherwise.
  EXPECT_EQ(signed_region({"presign", "s3://bucket/k", "--profile", "store"}, env), "ap-south-1");
  EXPECT_EQ(signed_region({"presign", "s3://bucket/k", "--profile", "store", "--region", "sa-east-1"}, env), "sa-east-1");
  env["AWS_REGION"] = "eu-north-1";
  EXPECT_EQ(signed_region({"presign", "s3://bucket/k", "--profile", "store"}, env), "eu-north-1");
  EXPECT_EQ(signed_region({"presign", "s3://bucket/k", "--region", "sa-east-1"}, env), "sa-east-1");
}

}  // namespace
}  // namespace sluice::itest
