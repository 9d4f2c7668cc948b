// An in-memory store for the tests that read through the transfer engine (range_stream_test,
// epoch_stream_test): a store::MemoryStore (the one in-memory store, store/memory_store.hpp)
// behind a ForwardingStore that answers each read on an I/O thread of its own, in pieces, like a
// real store, and destroys the read's task only after `done` returned (as FileStore does), so that
// a caller whose completions outlive it is caught. Header-only.
//
// Knobs for the tests: `piece` (bytes per sink call), `delay` (a pause before each piece, so that
// reads are still in flight when a test cancels), `linger` (how long after `done` the task and
// what it captured are destroyed, by a thread of their own while the reader threads go on),
// fail(key, kind) (a read of the key fails, after half its
// bytes), and the count of gets and of reads in progress (asked for, `done` not yet called).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "store/forwarding_store.hpp"
#include "store/memory_store.hpp"

namespace sluice::testing {

class ThreadedStore final : public store::ForwardingStore {
 public:
  // The inner store hands a read to the sink in one call; pieces are cut here (set_piece).
  explicit ThreadedStore(int threads = 4)
      : ForwardingStore(memory_), memory_("memory", std::numeric_limits<size_t>::max()) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
    workers_.emplace_back([this] { reap(); });
  }
  ~ThreadedStore() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    reap_cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  void add(const std::string& key, std::string data) { memory_.put(key, store::Body::from_string(std::move(data))); }
  std::string etag(const std::string& key) { return memory_.head(key).etag; }
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

  void get(const store::GetRequest& request, store::DataSink sink, store::Completion done) override {
    ++gets_;
    ++reading_;  // from the call until `done`: queued reads are in flight too
    std::lock_guard lock(mu_);
    tasks_.push_back([this, request, sink = std::move(sink), done = std::move(done)] {
      std::exception_ptr error;
      memory_.get(request, pieces(request.key, sink), [&](std::exception_ptr e) { error = e; });
      --reading_;
      done(error);
    });
    cv_.notify_one();
  }

 private:
  // Cuts what the inner store delivers (the whole range at once) into pieces, pausing before
  // each, and fails a failing key's read after half of its bytes; what the sink or a failure
  // throws reaches `done` through the inner store.
  store::DataSink pieces(const std::string& key, const store::DataSink& sink) {
    std::optional<ErrorKind> failure;
    {
      std::lock_guard lock(mu_);
      if (auto f = failing_.find(key); f != failing_.end()) failure = f->second;
    }
    return [this, key, &sink, failure](const char* data, size_t len) {
      const size_t fail_at = failure ? len / 2 : len;
      for (size_t off = 0; off < len;) {
        if (off >= fail_at) break;
        if (delay_.load().count() > 0) std::this_thread::sleep_for(delay_.load());
        const size_t n = std::min<size_t>({piece_.load(), len - off, fail_at - off});
        if (!sink(data + off, n)) return false;
        off += n;
      }
      if (failure) throw Error(*failure, "reading memory://" + key, "failed on purpose");
      return true;
    };
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
      const auto linger = linger_.load();
      if (linger.count() == 0) task = nullptr;  // what the read captured goes now, after `done` returned
      lock.lock();
      if (task) {
        lingering_.emplace_back(std::chrono::steady_clock::now() + linger, std::move(task));
        reap_cv_.notify_one();
      }
    }
  }

  // Destroys the tasks of finished reads once their linger is over: what a read captured goes
  // only then, well after `done` returned.
  void reap() {
    std::unique_lock lock(mu_);
    while (true) {
      reap_cv_.wait(lock, [&] { return stop_ || !lingering_.empty(); });
      if (lingering_.empty()) return;
      auto [until, task] = std::move(lingering_.front());
      lingering_.pop_front();
      lock.unlock();
      std::this_thread::sleep_until(until);
      task = nullptr;
      lock.lock();
    }
  }

  store::MemoryStore memory_;  // constructed after the ForwardingStore base, which only keeps its address
  mutable std::mutex mu_;
  std::condition_variable cv_;       // tasks_ or stop_
  std::condition_variable reap_cv_;  // lingering_ or stop_
  std::map<std::string, ErrorKind> failing_;
  std::deque<std::function<void()>> tasks_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::function<void()>>> lingering_;
  bool stop_ = false;
  std::atomic<size_t> piece_{64 << 10};
  std::atomic<std::chrono::microseconds> delay_{std::chrono::microseconds(0)};
  std::atomic<std::chrono::microseconds> linger_{std::chrono::microseconds(0)};
  std::atomic<size_t> gets_{0};
  std::atomic<int> reading_{0};
  std::vector<std::thread> workers_;  // the readers, then the reaper; last: start once the members above exist
};

}  // namespace sluice::testing
