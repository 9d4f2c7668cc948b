#include "store/fault_store.hpp"

#include <fmt/core.h>

#include <memory>

namespace sluice::store {

FaultStore::FaultStore(ObjectStore& inner, FaultPlan plan) : ForwardingStore(inner), plan_(plan), rng_(plan.seed) {}

std::optional<Error> FaultStore::fault(Op op, const std::string& key) {
  if ((plan_.ops & static_cast<unsigned>(op)) == 0) return std::nullopt;
  bool fails;
  int64_t n;
  {
    std::lock_guard lock(mu_);
    n = operations_++;
    fails = plan_.fail_from >= 0 && n >= plan_.fail_from && (plan_.fail_count < 0 || n < plan_.fail_from + plan_.fail_count);
    if (plan_.probability > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < plan_.probability) fails = true;
  }
  if (!fails) return std::nullopt;
  ++injected_;
  return Error(plan_.kind, fmt::format("{}/{}", describe(), key), fmt::format("injected fault (operation {})", n));
}

ListPage FaultStore::list(const ListRequest& request) {
  if (auto e = fault(Op::kList, request.prefix)) throw *e;
  return inner().list(request);
}

ObjectInfo FaultStore::head(const std::string& key) {
  if (auto e = fault(Op::kHead, key)) throw *e;
  return inner().head(key);
}

void FaultStore::get(const GetRequest& request, DataSink sink, Completion done) {
  auto e = fault(Op::kGet, request.key);
  if (!e) return inner().get(request, std::move(sink), std::move(done));
  if (!plan_.cut_after_bytes || *plan_.cut_after_bytes == 0) return done(std::make_exception_ptr(*e));
  // Deliver the first bytes, then fail as a cut connection does.
  auto left = std::make_shared<uint64_t>(*plan_.cut_after_bytes);
  auto cut = std::make_shared<bool>(false);
  inner().get(
      request,
      [sink = std::move(sink), left, cut](const char* data, size_t len) {
        if (*left == 0) {
          *cut = true;
          return false;
        }
        const size_t n = static_cast<size_t>(std::min<uint64_t>(len, *left));
        *left -= n;
        if (!sink(data, n)) return false;
        if (n < len) {
          *cut = true;
          return false;
        }
        return true;
      },
      [done = std::move(done), err = *e, cut](std::exception_ptr inner_error) {
        // A body shorter than the cut, delivered whole: the failure still comes, as planned.
        done(*cut || !inner_error ? std::make_exception_ptr(err) : inner_error);
      });
}

std::string FaultStore::put(const std::string& key, Body body, const PutOptions& options) {
  if (auto e = fault(Op::kPut, key)) throw *e;
  return inner().put(key, std::move(body), options);
}

std::string FaultStore::create_multipart(const std::string& key) {
  if (auto e = fault(Op::kMultipart, key)) throw *e;
  return inner().create_multipart(key);
}

void FaultStore::upload_part(const std::string& key, const std::string& upload_id, int part_number, Body body,
                             std::function<void(std::exception_ptr, std::string etag)> done) {
  if (auto e = fault(Op::kMultipart, key)) return done(std::make_exception_ptr(*e), {});
  inner().upload_part(key, upload_id, part_number, std::move(body), std::move(done));
}

std::string FaultStore::complete_multipart(const std::string& key, const std::string& upload_id,
                                           const std::vector<std::string>& part_etags) {
  if (auto e = fault(Op::kMultipart, key)) throw *e;
  return inner().complete_multipart(key, upload_id, part_etags);
}

void FaultStore::remove(const std::string& key) {
  if (auto e = fault(Op::kRemove, key)) throw *e;
  inner().remove(key);
}

}  // namespace sluice::store
