// The authorizing store decorator over the real file store: allowed accesses go through, denied ones
// fail with kAccessDenied naming action, resource, role and tags before reaching the store, and
// every decision is audited.
#include "policy/authorizing_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "core/error.hpp"
#include "store/file_store.hpp"
#include "support/temp_dir.hpp"

namespace sluice::policy {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const char* kTenantPolicy = R"({"Version": "2012-10-17", "Statement": [
  {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::input-bucket/${aws:PrincipalTag/tenant-id}/*"},
  {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::input-bucket",
   "Condition": {"StringLike": {"s3:prefix": "${aws:PrincipalTag/tenant-id}/*"}}},
  {"Sid": "Write", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::input-bucket/${aws:PrincipalTag/tenant-id}/out/*"}]})";

struct Fixture {
  TempDir dir;
  store::FileStore files{dir.path()};
  std::vector<AuditRecord> audit;
  Authorizer auth{{parse_document(kTenantPolicy)},
                  {},
                  Context{{"aws:PrincipalTag/tenant-id", {"example-tenant"}}},
                  "arn:aws:iam::123456789012:role/Exec",
                  "tenant-id=example-tenant",
                  [this](const AuditRecord& r) { audit.push_back(r); }};
  AuthorizingStore store{files, auth, resource_base_for(true, "input-bucket")};
  Fixture() {
    fs::create_directories(dir / "example-tenant");
    fs::create_directories(dir / "other-tenant");
    std::ofstream(dir / "example-tenant/a.txt") << "mine";
    std::ofstream(dir / "other-tenant/b.txt") << "theirs";
  }
};

std::exception_ptr get_error(store::ObjectStore& s, const std::string& key, std::string* body) {
  std::promise<std::exception_ptr> done;
  s.get(store::GetRequest{key, std::nullopt, ""}, [&](const char* d, size_t n) { body->append(d, n); return true; },
        [&](std::exception_ptr e) { done.set_value(e); });
  return done.get_future().get();
}

TEST(AuthorizingStore, AllowsTheTenantsOwnObjects) {
  Fixture f;
  std::string body;
  EXPECT_EQ(get_error(f.store, "example-tenant/a.txt", &body), nullptr);
  EXPECT_EQ(body, "mine");
  EXPECT_EQ(f.store.head("example-tenant/a.txt").size, 4u);
  auto page = f.store.list(store::ListRequest{"example-tenant/", "", "", 1000});
  ASSERT_EQ(page.objects.size(), 1u);
  f.store.put("example-tenant/out/m.bin", store::Body::from_string("model"));
  EXPECT_TRUE(fs::exists(f.dir / "example-tenant/out/m.bin"));
  ASSERT_FALSE(f.audit.empty());
  EXPECT_TRUE(f.audit.front().allowed);
  EXPECT_EQ(f.audit.front().resource, "arn:aws:s3:::input-bucket/example-tenant/a.txt");
}

TEST(AuthorizingStore, RefusesAnotherTenantBeforeTheStoreIsAsked) {
  Fixture f;
  std::string body;
  auto e = get_error(f.store, "other-tenant/b.txt", &body);
  ASSERT_NE(e, nullptr);
  try {
    std::rethrow_exception(e);
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::kAccessDenied);
    std::string what = err.what();
    EXPECT_NE(what.find("s3:GetObject"), std::string::npos) << what;
    EXPECT_NE(what.find("arn:aws:s3:::input-bucket/other-tenant/b.txt"), std::string::npos) << what;
    EXPECT_NE(what.find("role/Exec"), std::string::npos) << what;
    EXPECT_NE(what.find("tenant-id=example-tenant"), std::string::npos) << what;
  }
  EXPECT_TRUE(body.empty());
  EXPECT_THROW(f.store.head("other-tenant/b.txt"), Error);
  EXPECT_THROW(f.store.list(store::ListRequest{"other-tenant/", "", "", 1000}), Error);
  EXPECT_THROW(f.store.list(store::ListRequest{"", "", "", 1000}), Error);  // the whole bucket
  EXPECT_THROW(f.store.put("other-tenant/x", store::Body::from_string("x")), Error);
  EXPECT_THROW(f.store.put("example-tenant/a.txt", store::Body::from_string("overwrite")), Error);  // read-only part
  EXPECT_THROW(f.store.remove("example-tenant/a.txt"), Error);
  EXPECT_FALSE(fs::exists(f.dir / "other-tenant/x"));
  std::string kept;
  std::getline(std::ifstream(f.dir / "example-tenant/a.txt"), kept);
  EXPECT_EQ(kept, "mine");  // neither overwritten nor removed
  ASSERT_FALSE(f.audit.empty());
  EXPECT_FALSE(f.audit.back().allowed);
  EXPECT_EQ(f.audit.back().action, "s3:DeleteObject");
}

TEST(AuthorizingStore, WithoutTheTagNothingIsAllowed) {
  TempDir dir;
  fs::create_directories(dir / "example-tenant");
  std::ofstream(dir / "example-tenant/a.txt") << "mine";
  store::FileStore files(dir.path());
  Authorizer auth({parse_document(kTenantPolicy)}, {}, Context{}, "arn:aws:iam::123456789012:role/Exec", "");
  AuthorizingStore s(files, auth, resource_base_for(true, "input-bucket"));
  EXPECT_THROW(s.head("example-tenant/a.txt"), Error);
  EXPECT_THROW(s.list(store::ListRequest{"example-tenant/", "", "", 1000}), Error);
}

TEST(AuditLog, WritesOneJsonLinePerDecision) {
  TempDir dir;
  {
    AuditLog log(dir / "audit.jsonl");
    log.write(AuditRecord{"s3:GetObject", "arn:aws:s3:::b/k", "arn:aws:iam::1:role/R", false, "no statement allows it"});
    log.write(AuditRecord{"s3:ListBucket", "arn:aws:s3:::b", "arn:aws:iam::1:role/R", true, "allowed by identity policy 0 statement 1"});
  }
  std::ifstream in(dir / "audit.jsonl");
  std::string l1, l2, l3;
  std::getline(in, l1);
  std::getline(in, l2);
  EXPECT_FALSE(std::getline(in, l3));
  EXPECT_NE(l1.find(R"("decision":"Deny")"), std::string::npos) << l1;
  EXPECT_NE(l2.find(R"("action":"s3:ListBucket")"), std::string::npos) << l2;
  EXPECT_THROW(AuditLog(dir / "missing/dir/audit.jsonl"), Error);
}

}  // namespace
}  // namespace sluice::policy
