#include "transfer/range_stream.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace sluice::transfer {

RangeStream::RangeStream(Engine& engine, MemoryBudget& budget, std::vector<RangePiece> pieces, RangeStreamOptions options)
    : budget_(budget),
      pieces_(std::move(pieces)),
      opt_(options),
      slots_(pieces_.size()),
      window_(std::max<uint64_t>(1, std::min(options.initial_window, options.max_window))),
      group_(engine) {
  opt_.max_window = std::max(opt_.max_window, window_);  // at least 1
  opt_.max_in_flight = std::max(opt_.max_in_flight, 1);
}

RangeStream::~RangeStream() {
  cancel();
  group_.wait_idle();
}

uint64_t RangeStream::need_of(size_t i) const {
  const RangePiece& p = pieces_[i];
  return p.request.range ? p.request.range->length() : p.size_hint;
}

void RangeStream::start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return;
    started_ = true;
  }
  pump();
}

void RangeStream::pump() {
  struct Issue {
    size_t index;
    MemoryBudget::Reservation reservation;
    bool urgent;
  };
  std::vector<Issue> to_issue;
  {
    std::lock_guard lock(mu_);
    while (!cancelled_ && started_ && next_issue_ < pieces_.size() && in_flight_ < opt_.max_in_flight) {
      const size_t i = next_issue_;
      const uint64_t need = need_of(i);
      const bool demand = waiting_ && i == taken_;
      if (!demand && ahead_ > 0 && ahead_ + need > window_) break;
      MemoryBudget::Reservation r;
      if (demand) {
        r = budget_.reserve(need);
      } else if (auto opt = budget_.try_reserve(need)) {
        r = std::move(*opt);
      } else {
        break;  // the budget is full: a later next() or completion tries again
      }
      Slot& s = slots_[i];
      s.issued = true;
      s.urgent = demand;
      s.need = need;
      ahead_ += need;
      ++in_flight_;
      ++next_issue_;
      to_issue.push_back(Issue{i, std::move(r), demand});
    }
  }
  for (auto& is : to_issue) issue(is.index, std::move(is.reservation), is.urgent);
}

void RangeStream::issue(size_t i, MemoryBudget::Reservation reservation, bool urgent) {
  const RangePiece& p = pieces_[i];
  const auto priority = urgent ? Engine::Priority::kUrgent : Engine::Priority::kNormal;
  Engine::Ticket ticket = 0;
  try {
    if (p.request.range) {
      const size_t length = static_cast<size_t>(p.request.range->length());
      auto buf = std::make_shared<Buffer>(length, std::move(reservation), budget_.pool());
      {
        std::lock_guard lock(mu_);
        slots_[i].buf = buf;
      }
      ticket = fetch_into(
          group_, *p.store, p.request, {buf}, [this, i](size_t) { complete(i, nullptr); },
          [this, i](size_t k, std::exception_ptr e) {
            if (k == 0) complete(i, e);  // (an error after the last byte changes nothing)
          },
          priority);
    } else {
      {
        std::lock_guard lock(mu_);
        slots_[i].reserved = std::move(reservation);
      }
      // Only this read's I/O thread appends to `whole` until complete() publishes it under the lock.
      std::string* whole = &slots_[i].whole;
      ticket = group_.fetch(
          *p.store, p.request,
          [whole](const char* d, size_t n) {
            whole->append(d, n);
            return true;
          },
          [this, i](std::exception_ptr e) { complete(i, e); }, priority);
    }
  } catch (...) {
    // No memory for the buffer: the piece fails (and its reservation went with `reservation` or
    // goes when the slot is given back), so that next() does not wait for it forever.
    complete(i, std::current_exception());
    return;
  }
  // A consumer that began waiting for this piece while it was being queued as read-ahead.
  bool promote = false;
  {
    std::lock_guard lock(mu_);
    Slot& s = slots_[i];
    s.ticket = ticket;
    promote = !s.urgent && !s.done && waiting_ && taken_ == i;
    if (promote) s.urgent = true;
  }
  if (promote) group_.promote(ticket);
}

void RangeStream::complete(size_t i, std::exception_ptr error) {
  {
    std::lock_guard lock(mu_);
    Slot& s = slots_[i];
    if (s.done) return;  // (issue() failing after the read had completed)
    s.done = true;
    s.error = error;
    --in_flight_;
    if (!error) {
      if (s.buf) {
        fetched_ += s.buf->size();
      } else {
        fetched_ += s.whole.size();
        s.reserved.resize(s.whole.size());  // the real size is known now
        ahead_ = ahead_ - s.need + s.whole.size();
        s.need = s.whole.size();
      }
    }
    if (cancelled_) give_back(s);
  }
  cv_.notify_all();
  pump();
}

void RangeStream::give_back(Slot& s) {
  s.buf.reset();
  std::string().swap(s.whole);
  s.reserved.release();
}

std::string_view RangeStream::next() {
  std::unique_lock lock(mu_);
  if (taken_ >= pieces_.size()) throw Error(ErrorKind::kInternal, "reading ahead", "no piece left");
  if (taken_ > 0) {
    give_back(slots_[taken_ - 1]);
    window_ = window_ > opt_.max_window / 2 ? opt_.max_window : window_ * 2;
  }
  const size_t i = taken_;
  started_ = true;
  waiting_ = true;
  lock.unlock();
  pump();  // requests piece i now if read-ahead had not
  lock.lock();
  // Read ahead and still queued behind other reads of the engine: it is demand now.
  if (slots_[i].issued && !slots_[i].done && !slots_[i].urgent && slots_[i].ticket != 0) {
    slots_[i].urgent = true;
    const Engine::Ticket ticket = slots_[i].ticket;
    lock.unlock();
    group_.promote(ticket);
    lock.lock();
  }
  cv_.wait(lock, [&] { return cancelled_ || slots_[i].done; });
  waiting_ = false;
  if (cancelled_) throw Error(ErrorKind::kCancelled, "reading " + pieces_[i].request.key, "cancelled");
  Slot& s = slots_[i];
  ++taken_;
  ahead_ -= s.need;
  if (s.error) std::rethrow_exception(s.error);
  if (s.buf) return {s.buf->data(), s.buf->size()};
  return s.whole;
}

bool RangeStream::has_next() const {
  std::lock_guard lock(mu_);
  return taken_ < pieces_.size();
}

void RangeStream::cancel() {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    // The piece the consumer holds stays until it asks for the next one.
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (i + 1 != taken_ && (slots_[i].done || !slots_[i].issued)) give_back(slots_[i]);
    }
  }
  cv_.notify_all();
  group_.cancel();
}

uint64_t RangeStream::bytes_fetched() const {
  std::lock_guard lock(mu_);
  return fetched_;
}

uint64_t RangeStream::window() const {
  std::lock_guard lock(mu_);
  return window_;
}

}  // namespace sluice::transfer
