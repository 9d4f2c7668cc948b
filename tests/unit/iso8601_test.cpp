#include "core/iso8601.hpp"

#include <gtest/gtest.h>

namespace sluice {
namespace {

constexpr int64_t kS = 1'000'000'000;

TEST(Iso8601, ParsesUtcWithAndWithoutFraction) {
  EXPECT_EQ(parse_iso8601_ns("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02T03:04:05Z"), 1672628645LL * kS);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02T03:04:05.5Z"), 1672628645LL * kS + 500'000'000);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02T03:04:05.123456789Z"), 1672628645LL * kS + 123'456'789);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02T03:04:05.1234567891Z"), 1672628645LL * kS + 123'456'789);
  // As job::StatusRecord writes it, and the other spellings of UTC.
  EXPECT_EQ(parse_iso8601_ns("2026-12-05T16:20:01.123456+00:00"), 1796487601LL * kS + 123'456'000);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02t03:04:05-00:00"), 1672628645LL * kS);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02T03:04:05z"), 1672628645LL * kS);
  EXPECT_EQ(parse_iso8601_ns("1969-12-31T23:59:59Z"), -kS);
}

TEST(Iso8601, RefusesWhatIsNotAUtcTime) {
  for (const char* bad : {"", "2023-01-02", "2023-01-02T03:04:05", "2023-01-02T03:04:05+01:00", "2023-01-02 03:04:05Z",
                          "2023-13-02T03:04:05Z", "2023-01-32T03:04:05Z", "2023-01-02T24:04:05Z", "2023-01-02T03:60:05Z",
                          "2023-01-02T03:04:61Z", "2023-01-02T03:04:05.Z", "2023-01-02T03:04:05.5", "2O23-01-02T03:04:05Z",
                          "2023-01-02T03:04:05Zjunk", "9999-12-31T23:59:59Z", "1000-01-01T00:00:00Z"}) {
    EXPECT_EQ(parse_iso8601_ns(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace sluice
