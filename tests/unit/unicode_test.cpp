// The generated tables of core/unicode.cpp against the rules of scripts/gen-unicode-tables, on a
// sample chosen at range edges and where the rules differ (values from Python 3.11 unicodedata).
#include "core/unicode.hpp"

#include <gtest/gtest.h>

using sluice::is_letter_number_separator;
using sluice::simple_case_fold;

TEST(Unicode, VersionIsNamed) { EXPECT_EQ(sluice::unicode_version(), "14.0.0"); }

TEST(Unicode, LetterNumberSeparatorIsCategoriesLNZ) {
  // In: Zs, Lo, No, Lm, Zl, Zp, the last code point of a range and the first of the next.
  for (std::uint32_t cp : {0x20u, 0xA0u, 0xAAu, 0xB2u, 0x2C1u, 0x3000u, 0x2028u, 0x2029u, 0x30000u, 0x3134Au,
                           static_cast<std::uint32_t>('0'), static_cast<std::uint32_t>('z')}) {
    EXPECT_TRUE(is_letter_number_separator(cp)) << std::hex << cp;
  }
  // Out: Pc, Sm, Sk, Cf, So, Cn (unassigned, past the last range, the top), Co, NUL.
  for (std::uint32_t cp : {0x5Fu, 0xD7u, 0x2C2u, 0x200Bu, 0x1F600u, 0x3134Bu, 0x10FFFFu, 0xE000u, 0u}) {
    EXPECT_FALSE(is_letter_number_separator(cp)) << std::hex << cp;
  }
}

TEST(Unicode, SimpleCaseFoldIsCasefoldOrLower) {
  EXPECT_EQ(simple_case_fold('A'), static_cast<std::uint32_t>('a'));
  EXPECT_EQ(simple_case_fold('a'), static_cast<std::uint32_t>('a'));
  EXPECT_EQ(simple_case_fold(0xB5), 0x3BCu);      // casefold() differs from lower() (MICRO SIGN)
  EXPECT_EQ(simple_case_fold(0x3C2), 0x3C3u);     // final sigma: casefold() only
  EXPECT_EQ(simple_case_fold(0x1E9E), 0xDFu);     // casefold() is "ss": lower() instead
  EXPECT_EQ(simple_case_fold(0x1F88), 0x1F80u);   // casefold() two code points: lower()
  EXPECT_EQ(simple_case_fold(0xDF), 0xDFu);       // "ss" and lower() is itself: unchanged
  EXPECT_EQ(simple_case_fold(0x130), 0x130u);     // both expand: unchanged
  EXPECT_EQ(simple_case_fold(0xFB00), 0xFB00u);   // ligature ff: unchanged
  EXPECT_EQ(simple_case_fold(0x212A), static_cast<std::uint32_t>('k'));  // KELVIN SIGN
  EXPECT_EQ(simple_case_fold(0x10400), 0x10428u);  // outside the BMP
  EXPECT_EQ(simple_case_fold(0x1E921), 0x1E943u);  // the last entry
  EXPECT_EQ(simple_case_fold(0x10FFFF), 0x10FFFFu);
}
