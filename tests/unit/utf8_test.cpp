#include "core/utf8.hpp"

#include <gtest/gtest.h>

using sluice::utf8_prefix;

TEST(Utf8Prefix, CountsCharactersNotBytes) {
  std::string euros;
  for (int i = 0; i < 3000; ++i) euros += "\xE2\x82\xAC";  // €
  std::string cut = utf8_prefix(euros, 1024);
  EXPECT_EQ(cut.size(), 1024u * 3);
  EXPECT_EQ(cut, euros.substr(0, 1024 * 3));
  EXPECT_EQ(utf8_prefix("abc", 1024), "abc");
  EXPECT_EQ(utf8_prefix("abcdef", 3), "abc");
  EXPECT_EQ(utf8_prefix("", 10), "");
  EXPECT_EQ(utf8_prefix("\xF0\x9F\x98\x80x", 1), "\xF0\x9F\x98\x80");  // emoji is one character
}

TEST(Utf8Prefix, ReplacesInvalidBytes) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8_prefix("bad \xff\xfe bytes", 100), "bad " + fffd + fffd + " bytes");
  EXPECT_EQ(utf8_prefix("\xE2\x82", 10), fffd + fffd);           // truncated sequence
  EXPECT_EQ(utf8_prefix("\xC0\xAF", 10), fffd + fffd);           // overlong '/'
  EXPECT_EQ(utf8_prefix("\xED\xA0\x80", 10), fffd + fffd + fffd);  // surrogate
  EXPECT_EQ(utf8_prefix("\xF4\x90\x80\x80", 10), fffd + fffd + fffd + fffd);  // > U+10FFFF
  EXPECT_EQ(utf8_prefix("a\x80z", 2), "a" + fffd);
}

TEST(Utf8DecodeAt, AdvancesOnlyPastAValidSequence) {
  std::string s = "a\xE2\x82\xAC\xC0\xAF";
  size_t i = 0;
  EXPECT_EQ(sluice::decode_utf8_at(s, i), 'a');
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(sluice::decode_utf8_at(s, i), 0x20ACu);
  EXPECT_EQ(i, 4u);
  EXPECT_EQ(sluice::decode_utf8_at(s, i), std::nullopt);  // overlong '/'
  EXPECT_EQ(i, 4u);
  i = s.size();
  EXPECT_EQ(sluice::decode_utf8_at(s, i), std::nullopt);  // at the end
}
