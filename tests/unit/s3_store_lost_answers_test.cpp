// S3Store when the answer to a request that is not idempotent is lost after the store carried it
// out: the connection dies without an answer and the request is sent again (by curl itself on a
// fresh connection when the dead one was reused, or by the retry policy). A scripted store on
// 127.0.0.1 plays the S3 side.
//  - CreateMultipartUpload: the upload the lost answer created is found (ListMultipartUploads)
//    and aborted; ours is kept; nothing else is aborted.
//  - CompleteMultipartUpload: a store that no longer knows the upload (NoSuchUpload) has
//    completed it if the object's ETag is the one our parts make; else the error stands.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "http/client.hpp"
#include "store/s3_store.hpp"
#include "support/scripted_server.hpp"

namespace sluice::store {
namespace {

using namespace std::chrono_literals;
using sluice::testing::ScriptedServer;
using Reply = ScriptedServer::Reply;
using Seen = ScriptedServer::Seen;

// One loop and one connection, so that the second request reuses the first one's connection.
S3Store store_for(const ScriptedServer& s) {
  S3Config c;
  c.bucket = "b";
  c.endpoint = s.url("");
  c.credentials.access_key_id = "AKIDEXAMPLE";
  c.credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  c.retry.max_attempts = 3;
  c.retry.base = 1ms;
  c.retry.cap = 2ms;
  return S3Store(c, std::make_shared<http::Client>(http::ClientOptions{1, 1, 5000ms}));
}

std::string iso_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&t));
  return buf;
}

std::string initiate_body(const std::string& id) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
         "<UploadId>" + id + "</UploadId></InitiateMultipartUploadResult>";
}

std::string uploads_body(const std::vector<std::pair<std::string, std::string>>& key_ids) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListMultipartUploadsResult><Bucket>b</Bucket>";
  for (const auto& [key, id] : key_ids) {
    out += "<Upload><Key>" + key + "</Key><UploadId>" + id + "</UploadId><Initiated>" + iso_now() +
           "</Initiated></Upload>";
  }
  return out + "<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>";
}

Reply reply(int status, std::string body = {}, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}
Reply ok(std::string body) { return reply(200, std::move(body)); }
Reply object(const std::string& etag, size_t size) {  // the answer to a HEAD
  Reply r = reply(200, {}, {{"ETag", "\"" + etag + "\""}});
  r.content_length = size;
  return r;
}

Reply dropped() {
  Reply r;
  r.drop = true;
  return r;
}

bool is(const Seen& s, const std::string& method, const std::string& target_part) {
  return s.method == method && s.target.find(target_part) != std::string::npos;
}

// A HEAD first, so that the next request goes on a reused connection.
Reply warm_head(const Seen& s) {
  return is(s, "HEAD", "/b/warm") ? object("0123", 0) : reply(404);
}

TEST(S3StoreLostAnswers, CreateResentOnAFreshConnectionAbortsTheUploadTheLostAnswerMade) {
  int creates = 0;
  ScriptedServer server([&](const Seen& s, int) {
    if (is(s, "POST", "/b/k?uploads")) {
      // The store creates upload "lost" and the connection dies before the answer; the request
      // comes again and creates "ours".
      return ++creates == 1 ? dropped() : ok(initiate_body("ours"));
    }
    if (is(s, "GET", "uploads")) return ok(uploads_body({{"k", "lost"}, {"k", "ours"}, {"k2", "other-key"}}));
    if (is(s, "DELETE", "/b/k?uploadId=")) return reply(204);
    return warm_head(s);
  });
  auto store = store_for(server);
  store.head("warm");
  EXPECT_EQ(store.create_multipart("k"), "ours");

  std::vector<std::string> deletes;
  bool listed = false;
  for (const auto& s : server.seen()) {
    if (s.method == "DELETE") deletes.push_back(s.target);
    if (is(s, "GET", "uploads")) {
      listed = true;
      EXPECT_NE(s.target.find("prefix=k"), std::string::npos) << s.target;
    }
  }
  EXPECT_EQ(creates, 2);
  EXPECT_TRUE(listed) << "the lost answer went unnoticed: no ListMultipartUploads";
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0], "/b/k?uploadId=lost");
}

TEST(S3StoreLostAnswers, CreateAnsweredAtOnceListsNothing) {
  ScriptedServer server([&](const Seen& s, int) {
    if (is(s, "POST", "/b/k?uploads")) return ok(initiate_body("ours"));
    return warm_head(s);
  });
  auto store = store_for(server);
  store.head("warm");
  EXPECT_EQ(store.create_multipart("k"), "ours");
  for (const auto& s : server.seen()) EXPECT_FALSE(is(s, "GET", "uploads") || s.method == "DELETE") << s.target;
}

// Parts "a"*32 and "b"*32: the ETag of their object is MD5(raw(a..) raw(b..)) "-2".
const std::vector<std::string> kParts = {std::string(32, 'a'), std::string(32, 'b')};
const std::string kPartsEtag = "8039a288fc27346c4ebd08f17995e8bc-2";

Reply no_such_upload() {
  return reply(404, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>",
               {{"Content-Type", "application/xml"}});
}

TEST(S3StoreLostAnswers, CompleteWhoseAnswerWasLostIsRecognisedByTheObjectsEtag) {
  int completes = 0;
  ScriptedServer server([&](const Seen& s, int) {
    if (is(s, "POST", "/b/k?uploadId=u1")) return ++completes == 1 ? dropped() : no_such_upload();
    if (is(s, "HEAD", "/b/k")) return object(kPartsEtag, 10485760);
    return warm_head(s);
  });
  auto store = store_for(server);
  store.head("warm");
  EXPECT_EQ(store.complete_multipart("k", "u1", kParts), kPartsEtag);
  EXPECT_EQ(completes, 2);
}

TEST(S3StoreLostAnswers, CompleteNoSuchUploadWithAnotherObjectStaysAnError) {
  int completes = 0;
  ScriptedServer server([&](const Seen& s, int) {
    if (is(s, "POST", "/b/k?uploadId=u1")) return ++completes == 1 ? dropped() : no_such_upload();
    if (is(s, "HEAD", "/b/k")) return object("ffffffffffffffffffffffffffffffff-2", 1);
    return warm_head(s);
  });
  auto store = store_for(server);
  store.head("warm");
  try {
    store.complete_multipart("k", "u1", kParts);
    FAIL() << "a NoSuchUpload for an object with another ETag was taken as success";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("NoSuchUpload"), std::string::npos) << e.what();
  }
}

TEST(S3StoreLostAnswers, CompleteNoSuchUploadAtTheFirstSendIsAnError) {
  // Nothing was lost: the upload is unknown (aborted by someone else), whatever the object is.
  ScriptedServer server([&](const Seen& s, int) {
    if (is(s, "POST", "/b/k?uploadId=u1")) return no_such_upload();
    if (is(s, "HEAD", "/b/k")) return object(kPartsEtag, 1);
    return warm_head(s);
  });
  auto store = store_for(server);
  store.head("warm");
  EXPECT_THROW(store.complete_multipart("k", "u1", kParts), Error);
  for (const auto& s : server.seen()) EXPECT_FALSE(s.method == "HEAD" && s.target == "/b/k") << "HEAD of the object";
}

}  // namespace
}  // namespace sluice::store
