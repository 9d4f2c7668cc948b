// store::FaultStore fails exactly the operations its plan names: a countdown window, a seeded
// probability (the same seed, the same failures), only the selected operations, and a get cut
// after a number of bytes.
#include "store/fault_store.hpp"

#include <gtest/gtest.h>

#include "store/memory_store.hpp"

namespace sluice::store {
namespace {

bool head_fails(FaultStore& s) {
  try {
    s.head("k");
    return false;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kRetryable);
    EXPECT_NE(std::string(e.what()).find("injected fault"), std::string::npos) << e.what();
    return true;
  }
}

TEST(FaultStore, CountdownFailsAWindowOfOperations) {
  MemoryStore m;
  m.put("k", store::Body::from_string("data"));
  FaultStore s(m, {.fail_from = 2, .fail_count = 3});
  std::vector<bool> fails;
  for (int i = 0; i < 7; ++i) fails.push_back(head_fails(s));
  EXPECT_EQ(fails, (std::vector<bool>{false, false, true, true, true, false, false}));
  EXPECT_EQ(s.operations(), 7);
  EXPECT_EQ(s.injected(), 3);

  FaultStore forever(m, {.fail_from = 1, .fail_count = -1});
  EXPECT_FALSE(head_fails(forever));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(head_fails(forever));
}

TEST(FaultStore, OnlySelectedOperationsCountOrFail) {
  MemoryStore m;
  m.put("k", store::Body::from_string("data"));
  FaultStore s(m, {.ops = static_cast<unsigned>(Op::kPut), .fail_from = 0, .fail_count = -1, .kind = ErrorKind::kAccessDenied});
  EXPECT_FALSE(head_fails(s));
  EXPECT_EQ(get_string(s, {"k", std::nullopt, ""}), "data");
  EXPECT_EQ(s.operations(), 0);
  try {
    s.put("x", store::Body::from_string("y"));
    FAIL() << "put did not fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kAccessDenied);
  }
  EXPECT_FALSE(m.contents("x")) << "a failed put wrote";
}

TEST(FaultStore, ProbabilityIsSeeded) {
  MemoryStore m;
  m.put("k", store::Body::from_string("data"));
  auto pattern = [&](uint64_t seed) {
    FaultStore s(m, {.probability = 0.3, .seed = seed});
    std::vector<bool> out;
    for (int i = 0; i < 200; ++i) out.push_back(head_fails(s));
    return out;
  };
  const auto a = pattern(7), b = pattern(7), c = pattern(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const auto failures = std::count(a.begin(), a.end(), true);
  EXPECT_GT(failures, 30);
  EXPECT_LT(failures, 90);
}

TEST(FaultStore, AGetCutMidBodyDeliversThePrefixThenFails) {
  MemoryStore m("m", 4);
  m.put("k", store::Body::from_string("0123456789"));
  FaultStore s(m, {.fail_from = 0, .cut_after_bytes = 6});
  std::string got;
  std::exception_ptr error;
  s.get({"k", std::nullopt, ""}, [&](const char* d, size_t n) { got.append(d, n); return true; },
        [&](std::exception_ptr e) { error = e; });
  EXPECT_EQ(got, "012345");
  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kRetryable);
  }
  // The next get is not selected by the countdown: whole.
  EXPECT_EQ(get_string(s, {"k", std::nullopt, ""}), "0123456789");
}

}  // namespace
}  // namespace sluice::store
