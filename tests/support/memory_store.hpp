// An in-memory store for the tests that read through the transfer engine (range_stream_test,
// memory_budget_test): objects in a map, each read answered on an I/O thread of the store's own in
// pieces, like a real store, and its task destroyed only after `done` returned (as FileStore
// does), so that a caller whose completions outlive it is caught. Writes throw
// (ReadOnlyTestStore). Header-only.
//
// Knobs for the tests: `piece` (bytes per sink call), `delay` (a pause before each piece, so that
// reads are still in flight when a test cancels), `linger` (a pause after `done` before the task
// and what it captured are destroyed), fail(key, kind) (a read of the key fails, after half its
// bytes), and the count of gets and of reads in progress.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "store/object_store.hpp"
#include "support/read_only_store.hpp"

namespace sluice::testing {

class MemoryStore final : public ReadOnlyTestStore {
 public:
  explicit MemoryStore(int threads = 4) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~MemoryStore() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  void add(const std::string& key, std::string data) {
    std::lock_guard lock(mu_);
    objects_[key] = Object{std::move(data), "etag-" + std::to_string(++versions_)};
  }
  std::string etag(const std::string& key) const {
    std::lock_guard lock(mu_);
    return objects_.at(key).etag;
  }
  // Reads of `key` fail with `kind` once half of their bytes have been sent.
  void fail(const std::string& key, ErrorKind kind) {
    std::lock_guard lock(mu_);
    failing_[key] = kind;
  }
  void set_piece(size_t bytes) { piece_ = std::max<size_t>(1, bytes); }
  void set_delay(std::chrono::microseconds delay) { delay_ = delay; }
  void set_linger(std::chrono::microseconds linger) { linger_ = linger; }
  size_t gets() const { return gets_; }
  int reading() const { return reading_; }

  std::string describe() const override { return "memory"; }
  store::ListPage list(const store::ListRequest& request) override {
    std::lock_guard lock(mu_);
    store::ListPage page;
    for (auto it = objects_.lower_bound(request.prefix); it != objects_.end() && it->first.starts_with(request.prefix); ++it) {
      page.objects.push_back({it->first, it->second.data.size(), it->second.etag, 0});
    }
    return page;
  }
  store::ObjectInfo head(const std::string& key) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) throw Error(ErrorKind::kNotFound, "reading the metadata of memory://" + key, "no such key");
    return {key, it->second.data.size(), it->second.etag, 0};
  }
  void get(const store::GetRequest& request, store::DataSink sink, store::Completion done) override {
    ++gets_;
    std::lock_guard lock(mu_);
    tasks_.push_back([this, request, sink = std::move(sink), done = std::move(done)] {
      ++reading_;
      std::exception_ptr error;
      try {
        serve(request, sink);
      } catch (...) {
        error = std::current_exception();
      }
      --reading_;
      done(error);
    });
    cv_.notify_one();
  }

 private:
  struct Object {
    std::string data;
    std::string etag;
  };

  void serve(const store::GetRequest& request, const store::DataSink& sink) {
    const std::string where = "reading memory://" + request.key;
    std::string data;
    std::optional<ErrorKind> failure;
    {
      std::lock_guard lock(mu_);
      auto it = objects_.find(request.key);
      if (it == objects_.end()) throw Error(ErrorKind::kNotFound, where, "no such key");
      if (!request.if_match.empty() && request.if_match != it->second.etag) {
        throw Error(ErrorKind::kDataLoss, where, "the object changed (If-Match failed)");
      }
      data = it->second.data;
      if (auto f = failing_.find(request.key); f != failing_.end()) failure = f->second;
    }
    uint64_t first = 0, end = data.size();
    if (request.range) {
      if (request.range->last >= data.size()) throw Error(ErrorKind::kInvalidInput, where, "range past the end");
      first = request.range->first;
      end = request.range->last + 1;
    }
    const uint64_t fail_at = failure ? first + (end - first) / 2 : end;
    for (uint64_t off = first; off < end;) {
      if (off >= fail_at) throw Error(*failure, where, "failed on purpose");
      if (delay_.load().count() > 0) std::this_thread::sleep_for(delay_.load());
      const uint64_t n = std::min<uint64_t>({piece_.load(), end - off, fail_at - off});
      if (!sink(data.data() + off, static_cast<size_t>(n))) throw Error(ErrorKind::kCancelled, where, "stopped by the reader");
      off += n;
    }
    if (failure) throw Error(*failure, where, "failed on purpose");
  }

  void work() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      if (linger_.load().count() > 0) std::this_thread::sleep_for(linger_.load());
      task = nullptr;  // what the read captured goes only now, after `done` returned
      lock.lock();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Object> objects_;
  std::map<std::string, ErrorKind> failing_;
  uint64_t versions_ = 0;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::atomic<size_t> piece_{64 << 10};
  std::atomic<std::chrono::microseconds> delay_{std::chrono::microseconds(0)};
  std::atomic<std::chrono::microseconds> linger_{std::chrono::microseconds(0)};
  std::atomic<size_t> gets_{0};
  std::atomic<int> reading_{0};
  std::vector<std::thread> workers_;  // last: start once the members above exist
};

}  // namespace sluice::testing
