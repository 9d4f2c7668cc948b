// A store that fails on purpose (store/forwarding_store.hpp decorator), for tests and benchmarks of
// what sits above the store layer: retries, error kinds reaching the edge, nothing half-written.
// Two ways to choose the failing operations, combinable:
//   countdown      the operations numbered [fail_from, fail_from + fail_count) fail (0-based,
//                  counting only the operations `ops` selects);
//   probabilistic  each selected operation fails with `probability`, from a seeded generator (the
//                  same seed gives the same failures for the same sequence of operations).
// A failing get() may first deliver `cut_after_bytes` bytes (a connection cut mid-body).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>

#include "core/error.hpp"
#include "store/forwarding_store.hpp"

namespace sluice::store {

enum class Op : unsigned { kList = 1, kHead = 2, kGet = 4, kPut = 8, kMultipart = 16, kRemove = 32 };

struct FaultPlan {
  unsigned ops = 63;  // a mask of Op values: which operations may fail (all by default)
  int64_t fail_from = -1;  // countdown: the first failing operation; -1: none
  int64_t fail_count = 1;  // how many in a row; -1: every one from fail_from on
  double probability = 0;  // each selected operation fails with this probability
  uint64_t seed = 1;
  ErrorKind kind = ErrorKind::kRetryable;  // what a failure throws
  std::optional<uint64_t> cut_after_bytes = std::nullopt;  // get(): bytes delivered before the failure
};

class FaultStore final : public ForwardingStore {
 public:
  // `inner` must outlive the decorator.
  FaultStore(ObjectStore& inner, FaultPlan plan);

  std::string describe() const override { return "faults(" + inner().describe() + ")"; }
  ListPage list(const ListRequest& request) override;
  ObjectInfo head(const std::string& key) override;
  void get(const GetRequest& request, DataSink sink, Completion done) override;
  std::string put(const std::string& key, Body body, const PutOptions& options = {}) override;
  std::string create_multipart(const std::string& key) override;
  void upload_part(const std::string& key, const std::string& upload_id, int part_number, Body body,
                   std::function<void(std::exception_ptr, std::string etag)> done) override;
  std::string complete_multipart(const std::string& key, const std::string& upload_id,
                                 const std::vector<std::string>& part_etags) override;
  void remove(const std::string& key) override;

  // Operations the plan selected so far, and how many of them failed.
  int64_t operations() const { return operations_; }
  int64_t injected() const { return injected_; }

 private:
  // Counts one operation; the error to throw when it is to fail.
  std::optional<Error> fault(Op op, const std::string& key);

  FaultPlan plan_;
  std::mutex mu_;
  std::mt19937_64 rng_;
  std::atomic<int64_t> operations_{0}, injected_{0};
};

}  // namespace sluice::store
