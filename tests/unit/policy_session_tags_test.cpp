// policy/session_tags: STS limits for --session-tag (count, key/value length in characters,
// allowed characters, case-insensitive duplicates, reserved aws: prefix, UTF-8), the role-session
// request context, and SageMaker session tag chaining.
#include "policy/session_tags.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"

namespace sluice::policy {
namespace {

using Tags = std::vector<SessionTag>;

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// The error message of parse_session_tags(args), or "" when it succeeds.
std::string parse_error(const std::vector<std::string>& args) {
  try {
    parse_session_tags(args);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    return e.message();
  }
  return "";
}

bool accepted(const std::string& arg) { return parse_error({arg}).empty(); }

TEST(SessionTags, ParsesKeyValueInOrder) {
  EXPECT_EQ(parse_session_tags({"tenant-id=example-tenant", "team=ml"}),
            (Tags{{"tenant-id", "example-tenant"}, {"team", "ml"}}));
  EXPECT_TRUE(parse_session_tags({}).empty());
}

TEST(SessionTags, SplitsAtFirstEquals) {
  EXPECT_EQ(parse_session_tags({"k=a=b=c"}), (Tags{{"k", "a=b=c"}}));
  EXPECT_EQ(parse_session_tags({"k=="}), (Tags{{"k", "="}}));
}

TEST(SessionTags, EmptyValueAllowed) { EXPECT_EQ(parse_session_tags({"k="}), (Tags{{"k", ""}})); }

TEST(SessionTags, EmptyKeyRefused) {
  std::string m = parse_error({"=v"});
  EXPECT_NE(m.find("--session-tag '=v'"), std::string::npos) << m;
  EXPECT_NE(m.find("empty"), std::string::npos) << m;
}

TEST(SessionTags, MissingEqualsRefused) {
  std::string m = parse_error({"ok=1", "novalue"});
  EXPECT_NE(m.find("--session-tag 'novalue'"), std::string::npos) << m;
  EXPECT_NE(m.find("KEY=VALUE"), std::string::npos) << m;
  EXPECT_EQ(m.find("ok=1"), std::string::npos) << m;  // only the offending argument
}

TEST(SessionTags, FiftyTagsOkFiftyOneRefused) {
  std::vector<std::string> args;
  for (int i = 0; i < 50; ++i) args.push_back("k" + std::to_string(i) + "=v");
  EXPECT_EQ(parse_session_tags(args).size(), 50u);
  args.push_back("k50=v");
  std::string m = parse_error(args);
  EXPECT_NE(m.find("more than 50"), std::string::npos) << m;
  EXPECT_NE(m.find("'k50=v'"), std::string::npos) << m;
  EXPECT_EQ(m.find("'k0=v'"), std::string::npos) << m;
}

TEST(SessionTags, KeyLengthCountsCharactersNotBytes) {
  // "é" is 2 bytes, "€" 3, "𝟘" (U+1D7D8, a digit) 4: 128 characters, far more than 128 bytes.
  EXPECT_TRUE(accepted(repeat("\xC3\xA9", 128) + "=v"));
  EXPECT_TRUE(accepted(repeat("\xF0\x9D\x9F\x98", 128) + "=v"));
  EXPECT_TRUE(accepted(repeat("a", 127) + "\xC3\xA9=v"));
  std::string m = parse_error({repeat("\xC3\xA9", 129) + "=v"});
  EXPECT_NE(m.find("129 characters"), std::string::npos) << m;
  EXPECT_NE(m.find("at most 128"), std::string::npos) << m;
  EXPECT_FALSE(accepted(repeat("a", 129) + "=v"));
  EXPECT_TRUE(accepted(repeat("a", 128) + "=v"));
}

TEST(SessionTags, ValueLengthCountsCharactersNotBytes) {
  EXPECT_TRUE(accepted("k=" + repeat("\xE2\x82\xAC", 0) + repeat("\xC3\xA9", 256)));
  EXPECT_TRUE(accepted("k=" + repeat("a", 256)));
  std::string m = parse_error({"k=" + repeat("\xC3\xA9", 257)});
  EXPECT_NE(m.find("257 characters"), std::string::npos) << m;
  EXPECT_NE(m.find("at most 256"), std::string::npos) << m;
  EXPECT_FALSE(accepted("k=" + repeat("a", 257)));
  // '=' inside the value counts toward its length.
  EXPECT_TRUE(accepted("k=" + repeat("=", 256)));
  EXPECT_FALSE(accepted("k=" + repeat("=", 257)));
}

TEST(SessionTags, EachAllowedPunctuationInKeyAndValue) {
  for (char c : std::string("_.:/=+-@")) {
    std::string s(1, c);
    if (c != '=') {
      EXPECT_TRUE(accepted("k" + s + "x=v")) << c;
    }
    EXPECT_TRUE(accepted("k=v" + s + "x")) << c;
  }
  EXPECT_EQ(parse_session_tags({"a_.:/+-@b=_.:/=+-@"}), (Tags{{"a_.:/+-@b", "_.:/=+-@"}}));
}

TEST(SessionTags, UnicodeLettersNumbersAndSeparatorsAllowed) {
  EXPECT_TRUE(accepted("Zoë=Ünïcödé"));
  EXPECT_TRUE(accepted("日本=東京"));
  EXPECT_TRUE(accepted("ключ=значение"));
  EXPECT_TRUE(accepted("k=٣"));            // Arabic-indic digit (Nd)
  EXPECT_TRUE(accepted("k=Ⅻ"));            // roman numeral (Nl)
  EXPECT_TRUE(accepted("k=½"));            // vulgar fraction (No)
  EXPECT_TRUE(accepted("my key=a value"));  // space (Zs)
  EXPECT_TRUE(accepted("k=a\xC2\xA0z"));      // no-break space U+00A0 (Zs)
  EXPECT_TRUE(accepted("k=a\xE3\x80\x80z"));  // ideographic space U+3000 (Zs)
  EXPECT_TRUE(accepted("k=a\xE2\x80\xA8z"));  // line separator U+2028 (Zl)
}

TEST(SessionTags, ForbiddenCharactersRefused) {
  for (std::string c : {"*", "?", "$", "{", "}", "#", "%", "&", ",", ";", "'", "\"", "\\", "!", "(",
                        "<", "~", "|", "\t", "\n", "\x7F", "\xE2\x82\xAC" /* € Sc */,
                        "\xF0\x9F\x98\x80" /* emoji So */, "\xCC\x81" /* combining Mn */}) {
    EXPECT_FALSE(accepted("k=a" + c)) << c;
    EXPECT_FALSE(accepted("k" + c + "=v")) << c;
  }
  std::string m = parse_error({"tenant=a*"});
  EXPECT_NE(m.find("--session-tag 'tenant=a*'"), std::string::npos) << m;
  EXPECT_NE(m.find("tag value"), std::string::npos) << m;
  m = parse_error({"ten?ant=a"});
  EXPECT_NE(m.find("tag key"), std::string::npos) << m;
}

TEST(SessionTags, CaseInsensitiveDuplicateRefusedNamingBoth) {
  std::string m = parse_error({"Tenant-ID=a", "team=x", "tenant-id=b"});
  EXPECT_NE(m.find("'Tenant-ID=a'"), std::string::npos) << m;
  EXPECT_NE(m.find("'tenant-id=b'"), std::string::npos) << m;
  EXPECT_EQ(m.find("team=x"), std::string::npos) << m;
  EXPECT_NE(m.find("case-insensitive"), std::string::npos) << m;
  EXPECT_FALSE(parse_error({"k=a", "k=a"}).empty());
  EXPECT_FALSE(parse_error({"ÄRGER=1", "ärger=2"}).empty());  // non-ASCII case folding
  EXPECT_FALSE(parse_error({"ΣΟΦΙΑ=1", "σοφια=2"}).empty());
  EXPECT_TRUE(parse_error({"a=1", "b=1"}).empty());
}

TEST(SessionTags, AwsPrefixReserved) {
  for (std::string k : {"aws:foo", "AWS:foo", "Aws:x", "aws:"}) {
    std::string m = parse_error({k + "=v"});
    EXPECT_NE(m.find("reserved"), std::string::npos) << k << ": " << m;
  }
  EXPECT_TRUE(accepted("awsfoo=v"));
  EXPECT_TRUE(accepted("x:aws:y=v"));
  EXPECT_TRUE(accepted("k=aws:v"));
}

TEST(SessionTags, InvalidUtf8Refused) {
  for (std::string bad : {"\xFF", "\xC3", "\xC0\xAF" /* overlong */, "\xED\xA0\x80" /* surrogate */,
                          "\xF4\x90\x80\x80" /* > U+10FFFF */, "\x80"}) {
    std::string m = parse_error({"k=a" + bad});
    EXPECT_NE(m.find("not valid UTF-8"), std::string::npos) << m;
    // The message stays valid UTF-8: the bad byte is shown as U+FFFD.
    EXPECT_NE(m.find("\xEF\xBF\xBD"), std::string::npos) << m;
    EXPECT_FALSE(accepted("k" + bad + "=v"));
  }
}

TEST(SessionTags, LongArgumentIsCutInMessage) {
  std::string m = parse_error({"k=" + repeat("a", 5000)});
  EXPECT_LT(m.size(), 600u);
  EXPECT_NE(m.find("..."), std::string::npos);
}

TEST(SessionTags, FoldCase) {
  EXPECT_EQ(fold_case("Tenant-ID"), "tenant-id");
  EXPECT_EQ(fold_case("ÄÖÜ"), "äöü");
  EXPECT_EQ(fold_case("ΣΟΦΙΑ"), fold_case("σοφια"));
}

const std::string kRole = "arn:aws:iam::123456789012:role/sluice-exec";

TEST(SessionContext, PrincipalTagsAndArn) {
  Context ctx = session_context({{"tenant-id", "example-tenant"}, {"Team", "ml"}, {"empty", ""}},
                                kRole, "job-123");
  EXPECT_EQ(ctx.at("aws:PrincipalTag/tenant-id"), std::vector<std::string>{"example-tenant"});
  EXPECT_EQ(ctx.at("aws:PrincipalTag/Team"), std::vector<std::string>{"ml"});  // key as given
  EXPECT_EQ(context_values(ctx, "aws:principaltag/team"), std::vector<std::string>{"ml"});
  EXPECT_TRUE(context_values(ctx, "aws:PrincipalTag/empty").empty());  // empty value = null
  EXPECT_EQ(ctx.at("aws:PrincipalArn"), std::vector<std::string>{kRole});
  EXPECT_EQ(ctx.count("aws:username"), 0u);
  EXPECT_EQ(ctx.count("aws:userid"), 0u);
  EXPECT_EQ(ctx.count("aws:TagKeys"), 0u);
  EXPECT_EQ(ctx.size(), 4u);
}

TEST(SessionContext, NoTags) {
  Context ctx = session_context({}, kRole, "s1");
  EXPECT_EQ(ctx.size(), 1u);
  EXPECT_TRUE(context_values(ctx, "aws:PrincipalTag/tenant-id").empty());
}

TEST(SessionContext, RefusesBadInput) {
  EXPECT_THROW(session_context({{"k", "a"}, {"K", "b"}}, kRole, "s1"), Error);
  EXPECT_THROW(session_context({}, "not-an-arn-but-long-enough", "s1"), Error);
  EXPECT_THROW(session_context({}, "arn:aws:iam::1:r", "s1"), Error);  // < 20 characters
  EXPECT_THROW(session_context({}, kRole, "s"), Error);
  EXPECT_THROW(session_context({}, kRole, repeat("s", 65)), Error);
  EXPECT_THROW(session_context({}, kRole, "bad name"), Error);
  EXPECT_NO_THROW(session_context({}, kRole, repeat("s", 64)));
  EXPECT_NO_THROW(session_context({}, kRole, "a_+=,.@-Z9"));
}

TEST(ChainedTags, WithoutChainingOnlyRoleTags) {
  Tags caller{{"tenant-id", "t1"}};
  Tags role{{"team", "ml"}};
  EXPECT_EQ(chained_tags(caller, role, false), role);
  EXPECT_TRUE(chained_tags(caller, {}, false).empty());
}

TEST(ChainedTags, WithChainingCallerTagsExactly) {
  Tags caller{{"tenant-id", "t1"}, {"project", "p"}};
  EXPECT_EQ(chained_tags(caller, {}, true), caller);
  EXPECT_TRUE(chained_tags({}, {}, true).empty());
}

TEST(ChainedTags, SessionTagsOverrideRoleTagsIgnoringCase) {
  Tags caller{{"Tenant-ID", "t1"}};
  Tags role{{"tenant-id", "role-default"}, {"team", "ml"}};
  EXPECT_EQ(chained_tags(caller, role, true), (Tags{{"Tenant-ID", "t1"}, {"team", "ml"}}));
}

TEST(ChainedTags, RefusesRatherThanDrops) {
  EXPECT_THROW(chained_tags({{"k", "a"}, {"K", "b"}}, {}, true), Error);
  EXPECT_THROW(chained_tags({{"aws:x", "a"}}, {}, true), Error);
  EXPECT_THROW(chained_tags({{"k", "a*"}}, {}, true), Error);
  Tags many;
  for (int i = 0; i < 51; ++i) many.push_back({"k" + std::to_string(i), "v"});
  EXPECT_THROW(chained_tags(many, {}, true), Error);
  many.pop_back();
  EXPECT_EQ(chained_tags(many, {}, true).size(), 50u);
  // Without chaining the caller's tags are not passed, so they are not checked.
  EXPECT_NO_THROW(chained_tags({{"k", "a*"}}, {}, false));
  EXPECT_THROW(chained_tags({}, {{"r", "1"}, {"R", "2"}}, false), Error);
}

}  // namespace
}  // namespace sluice::policy
