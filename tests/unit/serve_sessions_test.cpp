// Issued sessions (serve/sessions.hpp): insert and find round trips, a reused access key id is
// kConflict without the secret in the message, expired sessions are still found until
// delete_expired removes them, and sessions survive a restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "serve/sessions.hpp"
#include "support/expect_error.hpp"
#include "support/state_db_fixture.hpp"
#include "support/temp_dir.hpp"

namespace sluice::serve {
namespace {

using sluice::testing::expect_error;
using sluice::testing::TempDir;

IssuedSession make_session(const std::string& key, double expiration) {
  return {.access_key_id = key,
          .secret_access_key = "SecretKeyDoNotLeak/" + key,
          .session_token = "SessionTokenDoNotLeak+" + key,
          .role_arn = "arn:aws:iam::111122223333:role/job-creator",
          .session_name = "alice",
          .tags = {{"tenant-id", "a"}, {"team", "vision & speech"}},
          .transitive_tag_keys = {"tenant-id"},
          .parent_arn = "arn:aws:iam::111122223333:user/alice",
          .source_identity = "alice@example.com",
          .expiration = expiration};
}

class SessionsTest : public sluice::testing::OnStateDb<Sessions> {
 protected:
  Sessions& sessions = store;
};

TEST_F(SessionsTest, InsertThenFind) {
  IssuedSession s = make_session("ASIA0001", 1700003600.5);
  sessions.insert(s);
  EXPECT_EQ(sessions.find("ASIA0001"), s);
  EXPECT_FALSE(sessions.find("ASIA0002").has_value());
  EXPECT_FALSE(sessions.find("asia0001").has_value());  // access key ids are exact
  IssuedSession bare = make_session("ASIA0002", 1);
  bare.tags.clear();
  bare.transitive_tag_keys.clear();
  bare.source_identity.clear();
  sessions.insert(bare);
  EXPECT_EQ(sessions.find("ASIA0002"), bare);
}

TEST_F(SessionsTest, AReusedAccessKeyIdIsAConflictThatShowsNoSecret) {
  IssuedSession s = make_session("ASIA0001", 100);
  sessions.insert(s);
  Error e = expect_error([&] { sessions.insert(make_session("ASIA0001", 200)); }, ErrorKind::kConflict, {"ASIA0001"});
  EXPECT_THAT(e.what(), ::testing::Not(::testing::HasSubstr("DoNotLeak")));
  EXPECT_EQ(sessions.find("ASIA0001"), s);
}

TEST_F(SessionsTest, ExpiredSessionsAreFoundUntilDeleted) {
  sessions.insert(make_session("ASIA-old", 100));
  sessions.insert(make_session("ASIA-now", 200));
  sessions.insert(make_session("ASIA-new", 300));
  EXPECT_TRUE(sessions.find("ASIA-old").has_value());  // the caller tells expired from unknown
  EXPECT_EQ(sessions.delete_expired(99), 0u);
  EXPECT_EQ(sessions.delete_expired(200), 2u);  // at or before now
  EXPECT_FALSE(sessions.find("ASIA-old").has_value());
  EXPECT_FALSE(sessions.find("ASIA-now").has_value());
  EXPECT_TRUE(sessions.find("ASIA-new").has_value());
  EXPECT_EQ(sessions.delete_expired(200), 0u);
}

TEST(Sessions, SurviveARestart) {
  TempDir tmp;
  IssuedSession s = make_session("ASIA0001", 1e9);
  {
    StateDb db(tmp / "state.db");
    Sessions(db).insert(s);
  }
  StateDb db(tmp / "state.db");
  EXPECT_EQ(Sessions(db).find("ASIA0001"), s);
}

}  // namespace
}  // namespace sluice::serve
