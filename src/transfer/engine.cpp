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

void Engine::fetch(store::ObjectStore& store, store::GetRequest request, store::DataSink sink, store::Completion done,
                   Priority priority) {
  enqueue(default_group_, store, std::move(request), std::move(sink), std::move(done), priority);
}

void Engine::fetch(store::GetRequest request, store::DataSink sink, store::Completion done, Priority priority) {
  enqueue(default_group_, store(), std::move(request), std::move(sink), std::move(done), priority);
}

void Engine::enqueue(Group& group, store::ObjectStore& store, store::GetRequest request, store::DataSink sink,
                     store::Completion done, Priority priority) {
  std::unique_lock lock(mu_);
  if (cancelled() || group.cancelled) {
    lock.unlock();
    done(cancelled_error(request.key));
    return;
  }
  ++group.outstanding;
  Job job{&store, std::move(request), std::move(sink), std::move(done), &group, priority == Priority::kUrgent};
  if (job.urgent) {
    queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(urgent_queued_++), std::move(job));
  } else {
    queue_.push_back(std::move(job));
  }
  pump(lock);
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
  Group* group = job.group;
  auto sink = [this, group, s = std::move(job.sink)](const char* d, size_t n) {
    return !cancelled() && !group->cancelled.load(std::memory_order_relaxed) && s(d, n);
  };
  auto done = [this, group, d = std::move(job.done)](std::exception_ptr e) {
    d(e);
    std::unique_lock lock(mu_);
    --in_flight_;
    --group->outstanding;
    pump(lock);
    idle_cv_.notify_all();
  };
  job.store->get(job.request, std::move(sink), std::move(done));
}

void Engine::wait_idle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return in_flight_ == 0 && queue_.empty(); });
}

void Engine::wait_group(Group& group) {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return group.outstanding == 0; });
}

void Engine::cancel() {
  std::deque<Job> dropped;
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    dropped.swap(queue_);
    urgent_queued_ = 0;
  }
  for (auto& job : dropped) job.done(cancelled_error(job.request.key));
  std::lock_guard lock(mu_);
  for (auto& job : dropped) --job.group->outstanding;
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
  for (auto& job : dropped) job.done(cancelled_error(job.request.key));
  std::lock_guard lock(mu_);
  group.outstanding -= static_cast<int>(dropped.size());
  idle_cv_.notify_all();
}

FetchGroup::~FetchGroup() {
  cancel();
  wait_idle();
}

}  // namespace sluice::transfer
