#include "transfer/engine.hpp"

#include "core/error.hpp"

namespace sluice::transfer {

Engine::Engine(store::ObjectStore& store, EngineOptions options) : store_(store), options_(options) {}

Engine::~Engine() {
  cancel();
  wait_idle();
}

void Engine::fetch(store::GetRequest request, store::DataSink sink, store::Completion done, Priority priority) {
  std::unique_lock lock(mu_);
  if (cancelled()) {
    lock.unlock();
    done(std::make_exception_ptr(Error(ErrorKind::kCancelled, "reading " + request.key, "cancelled")));
    return;
  }
  Job job{std::move(request), std::move(sink), std::move(done), priority == Priority::kUrgent};
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
  auto sink = [this, s = std::move(job.sink)](const char* d, size_t n) { return !cancelled() && s(d, n); };
  auto done = [this, d = std::move(job.done)](std::exception_ptr e) {
    d(e);
    std::unique_lock lock(mu_);
    --in_flight_;
    pump(lock);
    if (in_flight_ == 0 && queue_.empty()) idle_cv_.notify_all();
  };
  store_.get(job.request, std::move(sink), std::move(done));
}

void Engine::wait_idle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return in_flight_ == 0 && queue_.empty(); });
}

void Engine::cancel() {
  std::deque<Job> dropped;
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    dropped.swap(queue_);
    urgent_queued_ = 0;
  }
  for (auto& job : dropped) {
    job.done(std::make_exception_ptr(Error(ErrorKind::kCancelled, "reading " + job.request.key, "cancelled")));
  }
  std::lock_guard lock(mu_);
  if (in_flight_ == 0) idle_cv_.notify_all();
}

}  // namespace sluice::transfer
