#include "transfer/engine.hpp"

#include "core/error.hpp"

namespace sluice::transfer {

namespace {
std::exception_ptr cancelled_error(const std::string& key) {
  return std::make_exception_ptr(Error(ErrorKind::kCancelled, "reading " + key, "cancelled"));
}
}  // namespace

Engine::Engine(EngineOptions options) : options_(options) {}

Engine::Engine(store::ObjectStore& store, EngineOptions options) : store_(&store), options_(options) {}

Engine::~Engine() {
  cancel();
  wait_idle();
}

store::ObjectStore& Engine::store() {
  if (!store_) throw Error(ErrorKind::kInternal, "transfer engine", "no default store");
  return *store_;
}

Engine::Ticket Engine::fetch(store::ObjectStore& store, store::GetRequest request, store::DataSink sink,
                             store::Completion done, Priority priority) {
  return enqueue(default_group_, store, std::move(request), std::move(sink), std::move(done), priority);
}

Engine::Ticket Engine::fetch(store::GetRequest request, store::DataSink sink, store::Completion done,
                             Priority priority) {
  return enqueue(default_group_, store(), std::move(request), std::move(sink), std::move(done), priority);
}

Engine::Ticket Engine::enqueue(Group& group, store::ObjectStore& store, store::GetRequest request,
                               store::DataSink sink, store::Completion done, Priority priority) {
  std::unique_lock lock(mu_);
  if (cancelled() || group.cancelled) {
    lock.unlock();
    done(cancelled_error(request.key));
    return 0;
  }
  ++group.outstanding;
  const Ticket ticket = next_ticket_++;
  Job job{&store, std::move(request), std::move(sink), std::move(done), &group, priority == Priority::kUrgent, ticket};
  if (job.urgent) {
    queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(urgent_queued_++), std::move(job));
  } else {
    queue_.push_back(std::move(job));
  }
  pump(lock);
  return ticket;
}

void Engine::promote(Ticket ticket) {
  if (ticket == 0) return;
  std::lock_guard lock(mu_);
  for (auto it = queue_.begin() + static_cast<std::ptrdiff_t>(urgent_queued_); it != queue_.end(); ++it) {
    if (it->ticket != ticket) continue;
    Job job = std::move(*it);
    queue_.erase(it);
    job.urgent = true;
    queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(urgent_queued_++), std::move(job));
    return;
  }
}

void Engine::pump(std::unique_lock<std::mutex>& lock) {
  while (in_flight_ < options_.max_in_flight && !queue_.empty()) {
    Job job = std::move(queue_.front());
    queue_.pop_front();
    if (job.urgent) --urgent_queued_;
    ++in_flight_;
    lock.unlock();
    start(std::move(job));
    lock.lock();
  }
}

void Engine::start(Job job) {
  // The caller's sink and completion are held here, not in the wrappers the store gets: the
  // store may destroy its copies after `done` has returned (FileStore's task does), and what the
  // caller's functions capture (buffers counted against a MemoryBudget, the caller itself) must
  // be gone before wait_group() lets the caller free the budget.
  struct Held {
    store::DataSink sink;
    store::Completion done;
    std::atomic<bool> completed{false};
  };
  auto held = std::make_shared<Held>();
  held->sink = std::move(job.sink);
  held->done = std::move(job.done);
  Group* group = job.group;
  auto complete = [this, group, held](std::exception_ptr e) {
    if (held->completed.exchange(true)) return;
    store::Completion d = std::move(held->done);
    held->sink = nullptr;
    d(e);
    d = nullptr;
    // One critical section to the end: once it is left, wait_idle() or wait_group() may return
    // and the engine or the group be destroyed.
    std::unique_lock lock(mu_);
    --in_flight_;
    pump(lock);
    --group->outstanding;
    idle_cv_.notify_all();
  };
  auto sink = [this, group, held](const char* d, size_t n) {
    return !cancelled() && !group->cancelled.load(std::memory_order_relaxed) && held->sink(d, n);
  };
  try {
    job.store->get(job.request, std::move(sink), complete);
  } catch (...) {
    complete(std::current_exception());  // a store that threw instead of completing
  }
}

void Engine::finished(Group& group) {
  std::lock_guard lock(mu_);
  --group.outstanding;
  idle_cv_.notify_all();
}

void Engine::wait_idle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return in_flight_ == 0 && queue_.empty(); });
}

void Engine::wait_group(Group& group) {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return group.outstanding == 0; });
}

// Fails reads taken off the queue as cancelled; each is destroyed (with what it captures)
// before its group stops counting it.
void Engine::fail_dropped(std::deque<Job> dropped) {
  while (!dropped.empty()) {
    Job job = std::move(dropped.front());
    dropped.pop_front();
    job.sink = nullptr;
    job.done(cancelled_error(job.request.key));
    Group& group = *job.group;
    job = Job{};
    finished(group);
  }
}

void Engine::cancel() {
  std::deque<Job> dropped;
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    dropped.swap(queue_);
    urgent_queued_ = 0;
  }
  fail_dropped(std::move(dropped));
  std::lock_guard lock(mu_);
  idle_cv_.notify_all();
}

void Engine::cancel_group(Group& group) {
  std::deque<Job> dropped;
  {
    std::lock_guard lock(mu_);
    group.cancelled = true;
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->group != &group) {
        ++it;
        continue;
      }
      if (static_cast<size_t>(it - queue_.begin()) < urgent_queued_) --urgent_queued_;
      dropped.push_back(std::move(*it));
      it = queue_.erase(it);
    }
  }
  fail_dropped(std::move(dropped));
}

FetchGroup::~FetchGroup() {
  cancel();
  wait_idle();
}

}  // namespace sluice::transfer
