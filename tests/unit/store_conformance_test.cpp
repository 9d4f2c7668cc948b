// The ObjectStore contract (tests/support/store_conformance.hpp) on every backend a unit test can
// make: memory, the file store in a temporary directory, the authorizing store over memory (a
// policy that allows everything in the bucket), and a FaultStore that injects nothing.
#include <gtest/gtest.h>

#include "policy/authorizing_store.hpp"
#include "store/fault_store.hpp"
#include "store/file_store.hpp"
#include "store/memory_store.hpp"
#include "support/store_conformance.hpp"
#include "support/temp_dir.hpp"

namespace sluice::testing {
namespace {

struct Memory : StoreUnderTest {
  store::MemoryStore memory;
  store::ObjectStore& store() override { return memory; }
};

struct Files : StoreUnderTest {
  TempDir dir;
  store::FileStore files{dir.path()};
  store::ObjectStore& store() override { return files; }
};

struct Authorizing : StoreUnderTest {
  store::MemoryStore memory;
  policy::Authorizer auth{{policy::parse_document(R"({"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]}]})")},
                          {},
                          policy::Context{},
                          "arn:aws:iam::123456789012:role/Exec",
                          "",
                          [](const policy::AuditRecord&) {}};
  policy::AuthorizingStore authorizing{memory, auth, policy::resource_base_for(true, "bucket")};
  store::ObjectStore& store() override { return authorizing; }
};

struct NoFaults : StoreUnderTest {
  store::MemoryStore memory;
  store::FaultStore faults{memory, {}};
  store::ObjectStore& store() override { return faults; }
};

template <typename T>
Backend backend(const char* name) {
  return {name, [] { return std::unique_ptr<StoreUnderTest>(new T); }};
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance,
                         ::testing::Values(backend<Memory>("memory"), backend<Files>("file"),
                                           backend<Authorizing>("authorizing"), backend<NoFaults>("faults")),
                         [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::testing
