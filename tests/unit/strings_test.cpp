#include "core/strings.hpp"

#include <gtest/gtest.h>

using namespace sluice;

TEST(Strings, CaseMappingIsAsciiOnly) {
  EXPECT_EQ(ascii_lower("Content-TYPE 9_z"), "content-type 9_z");
  EXPECT_EQ(ascii_upper("sm_hp-lr.1"), "SM_HP-LR.1");
  EXPECT_EQ(ascii_lower("\xC3\x84"), "\xC3\x84");  // Ä is left alone, byte for byte
  EXPECT_EQ(ascii_lower('@'), '@');
  EXPECT_EQ(ascii_lower('['), '[');
}

TEST(Strings, IequalsAndIstartsWith) {
  EXPECT_TRUE(iequals("aws:UserName", "AWS:username"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_FALSE(iequals("a@", "a`"));  // '@' and '`' are 0x20 apart but not letters
  EXPECT_TRUE(istarts_with("aws:PrincipalTag/x", "AWS:principal"));
  EXPECT_FALSE(istarts_with("aws", "aws:"));
  EXPECT_TRUE(istarts_with("x", ""));
}

TEST(Strings, Trim) {
  EXPECT_EQ(trim(" \t key = v \r\n"), "key = v");
  EXPECT_EQ(trim(" \f\v "), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim_left("  a  "), "a  ");
  EXPECT_EQ(trim_right("  a  "), "  a");
  EXPECT_EQ(trim_left("\r\n a", " \t"), "\r\n a");  // only the characters asked for
  EXPECT_EQ(trim_right("xx--", "-"), "xx");
}

TEST(Strings, PercentDecode) {
  EXPECT_EQ(percent_decode("a%20b%2fc", false), "a b/c");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");  // SigV4 query strings: '+' is literal
  EXPECT_EQ(percent_decode("a+b", true), "a b");   // form encoding
  EXPECT_EQ(percent_decode("%2B", true), "+");
  EXPECT_EQ(percent_decode("%2520", false), "%20");  // decoded once only
  EXPECT_EQ(percent_decode("100%", false), "100%");
  EXPECT_EQ(percent_decode("%4g%", false), "%4g%");
}
