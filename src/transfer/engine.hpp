// The transfer engine of the process: every mode's ranged reads go through one Engine, which
// keeps a bounded number in flight across all stores and starts them in the order they were
// queued, reads a reader is waiting for first. File mode streams each read into a file;
// FastFile and Pipe stream into buffers (transfer/buffer.hpp, range_stream.hpp).
//
// Each user of the engine reads through a FetchGroup of its own, so that it can cancel and wait
// for its reads without touching the others'.
#pragma once

#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "store/object_store.hpp"

namespace sluice::transfer {

struct EngineOptions {
  int max_in_flight = 64;  // ranged reads outstanding at once, all stores together
};

class FetchGroup;

class Engine {
 public:
  explicit Engine(EngineOptions options);
  // An engine with a default store, for the callers of fetch() without one.
  Engine(store::ObjectStore& store, EngineOptions options);
  ~Engine();  // cancels and waits for what is in flight
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a read from `store`. `done` runs exactly once, on an I/O thread (with
  // Error(kCancelled) if the read was cancelled before it started). An urgent read (one a reader
  // is waiting for) starts before every queued read-ahead. `sink` and `done`, and all they
  // capture, are destroyed before the read stops counting as outstanding (wait_idle() and
  // FetchGroup::wait_idle() return after that), however long the store keeps its own copies.
  // Returns a ticket for promote(), 0 when the read was not queued (cancelled).
  enum class Priority { kNormal, kUrgent };
  using Ticket = uint64_t;
  Ticket fetch(store::ObjectStore& store, store::GetRequest request, store::DataSink sink, store::Completion done,
               Priority priority = Priority::kNormal);
  // The same from the default store.
  Ticket fetch(store::GetRequest request, store::DataSink sink, store::Completion done,
               Priority priority = Priority::kNormal);

  // Makes a queued read urgent (a reader now waits for what was read-ahead): it starts before
  // every read queued as normal. Nothing happens once it has started.
  void promote(Ticket ticket);

  // Blocks until nothing is queued or in flight.
  void wait_idle();

  // Stops starting reads, makes in-flight sinks refuse data, fails queued reads as cancelled:
  // every group's.
  void cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  store::ObjectStore& store();  // the default store; throws kInternal without one
  int max_in_flight() const { return options_.max_in_flight; }

 private:
  friend class FetchGroup;
  struct Group {
    std::atomic<bool> cancelled{false};
    int outstanding = 0;  // queued or in flight, completion included (under mu_)
  };
  struct Job {
    store::ObjectStore* store;
    store::GetRequest request;
    store::DataSink sink;
    store::Completion done;
    Group* group;
    bool urgent = false;
    Ticket ticket = 0;
  };
  Ticket enqueue(Group& group, store::ObjectStore& store, store::GetRequest request, store::DataSink sink,
                 store::Completion done, Priority priority);
  void pump(std::unique_lock<std::mutex>& lock);
  void start(Job job);
  void finished(Group& group);
  void fail_dropped(std::deque<Job> dropped);
  void cancel_group(Group& group);
  void wait_group(Group& group);

  store::ObjectStore* store_ = nullptr;
  EngineOptions options_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::deque<Job> queue_;
  int in_flight_ = 0;
  size_t urgent_queued_ = 0;  // urgent jobs at the front of queue_, in arrival order
  Ticket next_ticket_ = 1;
  Group default_group_;
};

// The reads of one user of an engine, cancelled and waited for together. The engine must
// outlive the group.
class FetchGroup {
 public:
  explicit FetchGroup(Engine& engine) : engine_(engine) {}
  ~FetchGroup();  // cancel(), then wait_idle()
  FetchGroup(const FetchGroup&) = delete;
  FetchGroup& operator=(const FetchGroup&) = delete;

  Engine::Ticket fetch(store::ObjectStore& store, store::GetRequest request, store::DataSink sink,
                       store::Completion done, Engine::Priority priority = Engine::Priority::kNormal) {
    return engine_.enqueue(group_, store, std::move(request), std::move(sink), std::move(done), priority);
  }
  void promote(Engine::Ticket ticket) { engine_.promote(ticket); }
  // Blocks until none of this group's reads is queued, in flight or completing.
  void wait_idle() { engine_.wait_group(group_); }
  // Fails this group's queued reads as cancelled and makes its in-flight sinks refuse data; the
  // group takes no more reads (they fail as cancelled).
  void cancel() { engine_.cancel_group(group_); }
  bool cancelled() const { return group_.cancelled.load(std::memory_order_relaxed) || engine_.cancelled(); }
  Engine& engine() { return engine_; }

 private:
  Engine& engine_;
  Engine::Group group_;
};

}  // namespace sluice::transfer
