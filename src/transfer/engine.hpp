// The transfer engine shared by every mode: it runs ranged reads against one ObjectStore with a
// bounded number in flight, starting them in the order they were queued. File mode streams
// each read into a file; FastFile and Pipe will stream into buffers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "store/object_store.hpp"

namespace sluice::transfer {

struct EngineOptions {
  int max_in_flight = 64;  // ranged reads outstanding at once
};

class Engine {
 public:
  Engine(store::ObjectStore& store, EngineOptions options);
  ~Engine();  // cancels and waits for what is in flight

  // Queues a read. `done` runs exactly once, on an I/O thread (with Error(kCancelled) if the
  // engine was cancelled before the read started). An urgent read (one a reader is waiting for)
  // starts before every queued read-ahead.
  enum class Priority { kNormal, kUrgent };
  void fetch(store::GetRequest request, store::DataSink sink, store::Completion done,
             Priority priority = Priority::kNormal);

  // Blocks until nothing is queued or in flight.
  void wait_idle();

  // Stops starting reads, makes in-flight sinks refuse data, fails queued reads as cancelled.
  void cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  store::ObjectStore& store() { return store_; }

 private:
  struct Job {
    store::GetRequest request;
    store::DataSink sink;
    store::Completion done;
    bool urgent = false;
  };
  void pump(std::unique_lock<std::mutex>& lock);
  void start(Job job);

  store::ObjectStore& store_;
  EngineOptions options_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::deque<Job> queue_;
  int in_flight_ = 0;
  size_t urgent_queued_ = 0;  // urgent jobs at the front of queue_, in arrival order
};

}  // namespace sluice::transfer
