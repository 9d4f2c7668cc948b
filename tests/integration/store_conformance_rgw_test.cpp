// The ObjectStore contract (tests/support/store_conformance.hpp) on S3 itself: a fresh bucket of
// the local Ceph RGW per test, removed with everything in it afterwards.
#include <gtest/gtest.h>

#include "../support/store_conformance.hpp"
#include "support.hpp"

namespace sluice::itest {
namespace {

using testing::StoreConformance;

struct Rgw : testing::StoreUnderTest {
  TestBucket bucket{"conformance"};
  store::ObjectStore& store() override { return bucket.store(); }
};

INSTANTIATE_TEST_SUITE_P(Rgw, StoreConformance,
                         ::testing::Values(testing::Backend{"s3", [] { return std::unique_ptr<testing::StoreUnderTest>(new Rgw); }}),
                         [](const ::testing::TestParamInfo<testing::Backend>& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::itest
