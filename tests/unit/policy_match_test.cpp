// policy/match: `*`/`?` wildcards (case folding for actions, case-sensitive resources, no
// exponential backtracking), policy-variable substitution (values, defaults, escapes, missing
// values), ARN component matching (docs/policy.md, "Evaluation", and the IAM pages it cites).
#include "policy/match.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace sluice::policy {
namespace {

TEST(PolicyWildcard, LiteralsAndWildcards) {
  EXPECT_TRUE(wildcard_match("abc", "abc", false));
  EXPECT_FALSE(wildcard_match("abc", "abd", false));
  EXPECT_FALSE(wildcard_match("abc", "abcd", false));
  EXPECT_FALSE(wildcard_match("abcd", "abc", false));
  EXPECT_TRUE(wildcard_match("*", "", false));
  EXPECT_TRUE(wildcard_match("*", "anything/at:all", false));
  EXPECT_TRUE(wildcard_match("", "", false));
  EXPECT_FALSE(wildcard_match("", "a", false));
  EXPECT_TRUE(wildcard_match("a?c", "abc", false));
  EXPECT_FALSE(wildcard_match("a?c", "ac", false));
  EXPECT_FALSE(wildcard_match("a?c", "abbc", false));
  EXPECT_TRUE(wildcard_match("a*c", "ac", false));
  EXPECT_TRUE(wildcard_match("a*c", "a/b/c", false));
  EXPECT_TRUE(wildcard_match("a*b*c", "axxbyyc", false));
  EXPECT_FALSE(wildcard_match("a*b*c", "axxbyy", false));
  EXPECT_TRUE(wildcard_match("*a", "aaa", false));
  EXPECT_TRUE(wildcard_match("**", "x", false));
  EXPECT_TRUE(wildcard_match("?*", "x", false));
  EXPECT_FALSE(wildcard_match("?*", "", false));
  EXPECT_TRUE(wildcard_match("*?*", "x", false));
  // Backtracking needed: the first candidate for "*b" is wrong.
  EXPECT_TRUE(wildcard_match("*ab*ab", "abxabab", false));
  EXPECT_TRUE(wildcard_match("a*ba", "abbba", false));
  EXPECT_FALSE(wildcard_match("a*ba", "abbb", false));
}

TEST(PolicyWildcard, CaseFolding) {
  EXPECT_TRUE(wildcard_match("iam:ListAccessKeys", "IAM:listaccesskeys", true));
  EXPECT_TRUE(wildcard_match("iam:*AccessKey*", "iam:CreateAccessKey", true));
  EXPECT_TRUE(wildcard_match("iam:*AccessKey*", "IAM:createaccesskeys", true));
  EXPECT_FALSE(wildcard_match("iam:*AccessKey*", "iam:ListUsers", true));
  EXPECT_TRUE(wildcard_match("S3:Get*", "s3:getobject", true));
  EXPECT_FALSE(wildcard_match("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/k", false));
  EXPECT_TRUE(wildcard_match("arn:aws:s3:::Bucket/*", "arn:aws:s3:::Bucket/k", false));
}

// The IAM guide's Resource example arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/* (keys reconstructed
// from the guide's list: `*` crosses `/`, and an empty run matches).
TEST(PolicyWildcard, ResourceGuideExample) {
  const std::string p = "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*";
  for (const char* key : {"1/test/object.jpg", "1/2/test/object.jpg", "1/2/test/3/object.jpg",
                          "1/2/3/test/4/object.jpg", "1///test///object.jpg", "1/test/.jpg",
                          "/test/object.jpg", "1/test/"}) {
    EXPECT_TRUE(wildcard_match(p, std::string("arn:aws:s3:::DOC-EXAMPLE-BUCKET/") + key, false)) << key;
  }
  for (const char* key : {"object.jpg", "1/object.jpg", "1/2/test.jpg"}) {
    EXPECT_FALSE(wildcard_match(p, std::string("arn:aws:s3:::DOC-EXAMPLE-BUCKET/") + key, false)) << key;
  }
}

TEST(PolicyWildcard, PathologicalPatternsFinishQuickly) {
  const std::string as(10000, 'a');
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(wildcard_match("a*a*a*a*a*b", as, false));
  EXPECT_TRUE(wildcard_match("a*a*a*a*a*a", as, false));
  EXPECT_FALSE(wildcard_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", as, true));
  EXPECT_FALSE(wildcard_match("?*?*?*?*?*?*?*?*b", as, false));
  std::string long_pattern;
  for (int i = 0; i < 200; ++i) long_pattern += "a*";
  long_pattern += "b";
  EXPECT_FALSE(wildcard_match(long_pattern, as, false));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_LT(ms.count(), 2000);
}

TEST(PolicyVariables, SubstitutesSingleValuedKeysCaseInsensitively) {
  Context ctx{{"aws:PrincipalTag/tenant-id", {"example-tenant"}}, {"aws:username", {"bob"}}};
  auto p = substitute("a/${aws:PrincipalTag/tenant-id}/${aws:username}", ctx);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->text, "a/example-tenant/bob");
  auto q = substitute("${AWS:principaltag/TENANT-ID}", ctx);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->text, "example-tenant");
  auto plain = substitute("no variables * here", ctx);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->text, "no variables * here");
  EXPECT_TRUE(wildcard_match(*plain, "no variables at all here", false));
}

TEST(PolicyVariables, MissingValueMatchesNothing) {
  Context ctx{{"aws:username", {"bob"}}, {"multi", {"x", "y"}}, {"empty", {""}}, {"none", {}}};
  EXPECT_FALSE(substitute("${aws:PrincipalTag/tenant-id}", ctx));
  EXPECT_FALSE(substitute("prefix/${aws:username}/${aws:PrincipalTag/tenant-id}/*", ctx));
  EXPECT_FALSE(substitute("${multi}", ctx));  // multivalued keys cannot be variables
  EXPECT_FALSE(substitute("${empty}", ctx));  // an empty value is null
  EXPECT_FALSE(substitute("${none}", ctx));
}

TEST(PolicyVariables, Defaults) {
  Context ctx{{"aws:PrincipalTag/team", {"red"}}};
  auto p = substitute("${aws:PrincipalTag/team, 'company-wide'}", ctx);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->text, "red");
  auto d = substitute("x/${aws:PrincipalTag/dept, 'company-wide'}/y", ctx);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->text, "x/company-wide/y");
  auto e = substitute("${aws:PrincipalTag/dept,''}", ctx);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->text, "");
  EXPECT_FALSE(substitute("${aws:PrincipalTag/dept, company-wide}", ctx));  // unquoted default
}

TEST(PolicyVariables, EscapesAreLiteral) {
  Context ctx;
  auto p = substitute("a${*}b${?}c${$}d", ctx);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->text, "a*b?c$d");
  EXPECT_TRUE(wildcard_match(*p, "a*b?c$d", false));
  EXPECT_FALSE(wildcard_match(*p, "axxb?c$d", false));  // ${*} is not a wildcard
  EXPECT_FALSE(wildcard_match(*p, "a*bxc$d", false));   // ${?} is not a wildcard
  auto q = substitute("${*}*", ctx);
  ASSERT_TRUE(q);
  EXPECT_TRUE(wildcard_match(*q, "*anything", false));
  EXPECT_FALSE(wildcard_match(*q, "anything", false));
}

TEST(PolicyVariables, SubstitutedValuesAreLiteral) {
  Context ctx{{"k", {"a*"}}};
  auto p = substitute("${k}", ctx);
  ASSERT_TRUE(p);
  EXPECT_TRUE(wildcard_match(*p, "a*", false));
  EXPECT_FALSE(wildcard_match(*p, "abc", false));
}

TEST(PolicyVariables, UnterminatedIsLiteral) {
  auto p = substitute("a${b", {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->text, "a${b");
}

TEST(PolicyVariables, ResourceOnlyAfterFifthColon) {
  Context ctx{{"aws:PrincipalTag/tenant-id", {"t1"}}, {"r", {"us-east-1"}}};
  auto p = substitute_resource("arn:aws:s3:::input-bucket/${aws:PrincipalTag/tenant-id}/*", ctx);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->text, "arn:aws:s3:::input-bucket/t1/*");
  auto q = substitute_resource("arn:aws:s3:${r}::b/${aws:PrincipalTag/tenant-id}", ctx);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->text, "arn:aws:s3:${r}::b/t1");  // the region segment is not substituted
  EXPECT_FALSE(substitute_resource("arn:aws:s3:::b/${aws:PrincipalTag/other}", ctx));
}

TEST(PolicyArn, ComponentsMatchSeparately) {
  const std::string value =
      "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
  const std::string pattern = "arn:aws:someservice:*:111122223333:finance/*";
  EXPECT_TRUE(wildcard_match(pattern, value, false));       // StringLike
  EXPECT_FALSE(arn_match(Pattern::plain(pattern), value));  // ArnLike
  EXPECT_TRUE(arn_match(Pattern::plain(pattern),
                        "arn:aws:someservice:us-east-2:111122223333:finance/document.txt"));
  EXPECT_TRUE(arn_match(Pattern::plain("arn:aws:iam::*:role/*"), "arn:aws:iam::123:role/a:b"));
  EXPECT_FALSE(arn_match(Pattern::plain("arn:aws:iam::*:role/*"), "arn:aws:iam::123:user/a"));
  EXPECT_FALSE(arn_match(Pattern::plain("arn:aws:iam::*:role/*"), "arn:aws:iam::123"));
  EXPECT_FALSE(arn_match(Pattern::plain("arn:aws:IAM::*:role/*"), "arn:aws:iam::1:role/x"));
  EXPECT_TRUE(arn_match(Pattern::plain("*"), "arn:aws:iam::1:role/x"));
}

TEST(PolicyContext, LookupIsCaseInsensitiveAndDropsEmpty) {
  Context ctx{{"aws:PrincipalTag/Team", {"a", "", "b"}}};
  EXPECT_EQ(context_values(ctx, "AWS:principaltag/team"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(context_values(ctx, "aws:username").empty());
}

}  // namespace
}  // namespace sluice::policy
