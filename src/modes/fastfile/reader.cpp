#include "modes/fastfile/reader.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "modes/fastfile/disk_cache.hpp"
#include "transfer/buffer.hpp"
#include "transfer/engine.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::modes::fastfile {

size_t ReadReply::size() const {
  size_t n = 0;
  for (const auto& v : iov) n += v.iov_len;
  return n;
}

namespace {

using transfer::Buffer;
using transfer::BufferPtr;

struct LruKey {
  Ino ino;
  uint64_t index;
};

struct Slot {
  bool ready = false;
  BufferPtr buf;
  uint32_t waiters = 0;  // pending reads that need this block
  bool cold = false;     // passed by a sequential reader or its file closed: dropped first
  bool in_lru = false;
  bool urgent = false;   // fetched (or promoted) as a read someone waits for
  transfer::Engine::Ticket ticket = 0;  // the engine's, once the GET is queued
  std::list<LruKey>::iterator lru;
};

struct PendingRead {
  uint64_t offset = 0;
  size_t size = 0;
  uint64_t first = 0, last = 0;  // blocks needed, inclusive
  ReplyFn reply;
  bool streaming = false;  // the handle reads sequentially: blocks it passes become cold
};

struct FileState {
  const Node* node = nullptr;
  const Entry* entry = nullptr;
  std::map<uint64_t, Slot> blocks;
  std::list<std::shared_ptr<PendingRead>> pending;
  int handles = 0;
};

struct Handle {
  Ino ino = 0;
  uint64_t next_offset = 0;  // where a sequential reader reads next
  uint64_t window = 0;       // read-ahead bytes beyond the last read; 0 when not streaming
  uint64_t ahead_end = 0;    // read-ahead has been issued for the bytes before this offset
  bool streaming = false;
};

// Blocks [first, first + count) of a file, fetched by one ranged GET (or from the disk cache).
struct Run {
  Ino ino = 0;
  std::string key, etag;
  uint64_t first = 0;
  std::vector<BufferPtr> bufs;
  bool urgent = false;
};

// A read served straight from a ranged GET of the bytes asked for (random reads, no disk cache).
struct Direct {
  Ino ino = 0;
  std::string key, etag;
  uint64_t offset = 0;
  BufferPtr buf;
  ReplyFn reply;
};

struct Reply {
  ReplyFn fn;
  ReadReply reply;
};

// What to do once the lock is released.
struct Actions {
  std::vector<Run> runs;
  std::vector<Direct> directs;
  std::vector<Reply> replies;
  std::vector<transfer::Engine::Ticket> promote;  // read-ahead a reader now waits for
};

}  // namespace

struct Reader::Impl {
  Impl(const Namespace& n, store::ObjectStore& s, ReaderOptions o)
      : ns(n),
        opt(o),
        store(s),
        own_budget(o.budget ? nullptr : std::make_unique<transfer::MemoryBudget>(o.max_memory)),
        own_engine(o.engine ? nullptr : std::make_unique<transfer::Engine>(transfer::EngineOptions{o.max_in_flight})),
        budget(o.budget ? *o.budget : *own_budget),
        group(o.engine ? *o.engine : *own_engine) {
    opened.assign(ns.file_count(), 0);
    streak.assign(ns.file_count(), 0);
    if (opt.disk_cache) writer = std::thread([this] { write_loop(); });
    // Cold blocks are what other users of a shared budget may take back for their read-ahead.
    reclaimer = budget.add_reclaimer([this](uint64_t bytes) {
      std::unique_lock lock(mu, std::try_to_lock);
      if (lock && !stopping) make_room(bytes, false);
    });
  }

  const Namespace& ns;
  ReaderOptions opt;
  store::ObjectStore& store;
  std::unique_ptr<transfer::MemoryBudget> own_budget;  // without a shared budget
  std::unique_ptr<transfer::Engine> own_engine;        // without a shared engine
  transfer::MemoryBudget& budget;
  transfer::FetchGroup group;
  uint64_t reclaimer = 0;

  std::mutex mu;
  std::unordered_map<Ino, FileState> files;
  std::unordered_map<uint64_t, Handle> handles;
  uint64_t next_handle = 1;
  std::list<LruKey> lru;        // ready blocks: front = most recently used, back = first to drop
  std::vector<uint32_t> opened;  // per walk position: the open sequence number of its last open
  std::vector<uint8_t> streak;   // per walk position: files opened in walk order up to it
  uint32_t opens = 0;
  bool stopping = false;
  ReaderStats st;

  // Disk cache writes, off the I/O threads.
  std::thread writer;
  std::mutex write_mu;
  std::condition_variable write_cv;
  struct DiskWrite {
    std::string key, etag;
    uint64_t index;
    BufferPtr buf;
  };
  std::deque<DiskWrite> writes;
  bool write_stop = false;

  uint64_t block_len(const Node& node, uint64_t index) const {
    uint64_t start = index * opt.block_size;
    return std::min<uint64_t>(opt.block_size, node.size - start);
  }

  FileState& file_state(const Node& node) {
    FileState& f = files[node.ino];
    if (!f.node) {
      f.node = &node;
      f.entry = &ns.entry(node);
    }
    return f;
  }

  // --- memory -------------------------------------------------------------------------------

  void touch(FileState& f, uint64_t index, Slot& slot, bool cold) {
    if (!slot.ready) return;
    if (slot.in_lru) lru.erase(slot.lru);
    slot.cold = cold;
    slot.lru = cold ? lru.insert(lru.end(), LruKey{f.node->ino, index}) : lru.insert(lru.begin(), LruKey{f.node->ino, index});
    slot.in_lru = true;
  }

  // Drops least recently used blocks nobody waits for until `need` more bytes fit. Optional
  // work (read-ahead, prefetch) only drops cold blocks, which sit at the back of the list, so
  // that it never throws away data fetched ahead of a reader to fetch more.
  bool make_room(uint64_t need, bool urgent) {
    if (budget.fits(need)) return true;
    auto it = lru.end();
    while (!budget.fits(need) && it != lru.begin()) {
      --it;
      auto fit = files.find(it->ino);
      if (fit == files.end()) {
        it = lru.erase(it);
        continue;
      }
      auto sit = fit->second.blocks.find(it->index);
      if (sit == fit->second.blocks.end()) {
        it = lru.erase(it);
        continue;
      }
      if (!urgent && !sit->second.cold) break;
      if (sit->second.waiters > 0) continue;
      it = lru.erase(it);
      fit->second.blocks.erase(sit);
      maybe_forget(fit);
    }
    return budget.fits(need);
  }

  void maybe_forget(std::unordered_map<Ino, FileState>::iterator fit) {
    const FileState& f = fit->second;
    if (f.blocks.empty() && f.pending.empty() && f.handles == 0) files.erase(fit);
  }

  // --- issuing ------------------------------------------------------------------------------

  // Makes pending slots for the missing blocks of [first, last] and queues runs to fetch them.
  // Optional work (read-ahead, prefetch) only starts within the budget and returns false when it
  // had to stop; urgent work always starts.
  bool issue(FileState& f, uint64_t first, uint64_t last, bool urgent, Actions& a) {
    const Node& node = *f.node;
    const uint64_t per_run = std::max<uint64_t>(1, opt.max_request / opt.block_size);
    Run run;
    auto flush = [&] {
      if (run.bufs.empty()) return;
      a.runs.push_back(std::move(run));
      run = Run{};
    };
    for (uint64_t i = first; i <= last; ++i) {
      if (f.blocks.count(i)) {
        flush();
        continue;
      }
      uint64_t len = block_len(node, i);
      make_room(len, urgent);
      auto reservation = urgent ? std::optional(budget.reserve(len)) : budget.try_reserve(len, reclaimer);
      if (!reservation) {
        flush();
        return false;
      }
      Slot& slot = f.blocks[i];
      slot.buf = std::make_shared<Buffer>(len, std::move(*reservation), budget.pool());
      slot.urgent = urgent;
      if (run.bufs.empty()) {
        run.ino = node.ino;
        run.key = f.entry->key;
        run.etag = f.entry->etag;
        run.first = i;
        run.urgent = urgent;
      }
      run.bufs.push_back(slot.buf);
      if (run.bufs.size() >= per_run) flush();
    }
    flush();
    return true;
  }

  // --- serving ------------------------------------------------------------------------------

  // Serves `r` if every block it needs is ready. Blocks missing from the map (dropped while
  // others were fetched) are fetched again.
  bool try_serve(FileState& f, PendingRead& r, Actions& a) {
    bool ready = true;
    for (uint64_t i = r.first; i <= r.last; ++i) {
      auto it = f.blocks.find(i);
      if (it == f.blocks.end()) {
        issue(f, i, i, true, a);
        f.blocks[i].waiters++;
        ready = false;
      } else if (!it->second.ready) {
        ready = false;
      }
    }
    if (!ready) return false;
    Reply out;
    out.fn = std::move(r.reply);
    uint64_t pos = r.offset, end = r.offset + r.size;
    for (uint64_t i = r.first; i <= r.last; ++i) {
      Slot& slot = f.blocks.at(i);
      uint64_t start = i * opt.block_size;
      uint64_t from = std::max(pos, start) - start;
      uint64_t to = std::min<uint64_t>(end, start + slot.buf->size()) - start;
      out.reply.iov.push_back(iovec{slot.buf->data() + from, static_cast<size_t>(to - from)});
      out.reply.pins.push_back(slot.buf);
      if (slot.waiters) slot.waiters--;
      // A sequential reader does not come back for what it passed (the kernel caches it).
      bool passed = r.streaming && start + slot.buf->size() <= end;
      touch(f, i, slot, passed);
    }
    st.bytes_served += r.size;
    a.replies.push_back(std::move(out));
    return true;
  }

  // A sequential reader does not come back more than a little behind itself: blocks further
  // back than two blocks are dropped once nobody waits for them.
  void drop_passed(FileState& f, uint64_t first) {
    while (!f.blocks.empty()) {
      auto it = f.blocks.begin();
      if (it->first + 2 >= first || !it->second.ready || it->second.waiters) break;
      if (it->second.in_lru) lru.erase(it->second.lru);
      f.blocks.erase(it);
    }
  }

  void fail_waiters(FileState& f, uint64_t first, uint64_t last, std::exception_ptr error, Actions& a) {
    for (auto it = f.pending.begin(); it != f.pending.end();) {
      PendingRead& r = **it;
      if (r.last < first || r.first > last) {
        ++it;
        continue;
      }
      for (uint64_t i = r.first; i <= r.last; ++i) {
        auto sit = f.blocks.find(i);
        if (sit != f.blocks.end() && sit->second.waiters) sit->second.waiters--;
      }
      Reply out;
      out.fn = std::move(r.reply);
      out.reply.error = error;
      a.replies.push_back(std::move(out));
      it = f.pending.erase(it);
    }
  }

  void serve_pending(FileState& f, Actions& a) {
    for (auto it = f.pending.begin(); it != f.pending.end();) {
      if (try_serve(f, **it, a)) {
        it = f.pending.erase(it);
      } else {
        ++it;
      }
    }
  }

  // --- completions (I/O threads) ------------------------------------------------------------

  void block_ready(const Run& run, size_t k, bool from_disk) {
    Actions a;
    {
      std::lock_guard lock(mu);
      auto fit = files.find(run.ino);
      if (fit == files.end()) return;
      auto sit = fit->second.blocks.find(run.first + k);
      if (sit == fit->second.blocks.end() || sit->second.buf != run.bufs[k]) return;  // dropped meanwhile
      sit->second.ready = true;
      touch(fit->second, run.first + k, sit->second, false);
      if (from_disk) {
        st.bytes_from_disk += run.bufs[k]->size();
      } else {
        st.bytes_fetched += run.bufs[k]->size();
      }
      serve_pending(fit->second, a);
    }
    if (!from_disk && opt.disk_cache) {
      std::lock_guard lock(write_mu);
      writes.push_back(DiskWrite{run.key, run.etag, run.first + k, run.bufs[k]});
      write_cv.notify_one();
    }
    finish(a);
  }

  void run_failed(const Run& run, size_t from, std::exception_ptr error) {
    Actions a;
    {
      std::lock_guard lock(mu);
      st.errors++;
      auto fit = files.find(run.ino);
      if (fit == files.end()) return;
      FileState& f = fit->second;
      try {
        std::rethrow_exception(error);
      } catch (const Error& e) {
        error = std::make_exception_ptr(e.with_context("reading " + f.node->name + " (" + f.entry->key + ")"));
      } catch (...) {
      }
      uint64_t first = run.first + from, last = run.first + run.bufs.size() - 1;
      fail_waiters(f, first, last, error, a);
      for (uint64_t i = first; i <= last; ++i) {
        auto sit = f.blocks.find(i);
        if (sit != f.blocks.end() && sit->second.buf == run.bufs[i - run.first] && !sit->second.ready) {
          f.blocks.erase(sit);
        }
      }
      maybe_forget(fit);
    }
    finish(a);
  }

  void start_run(Run run) {
    // Blocks the disk cache has are served from it; the rest are fetched in contiguous pieces.
    if (opt.disk_cache) {
      Run part;
      auto flush = [&] {
        if (!part.bufs.empty()) fetch(std::move(part));
        part = Run{};
      };
      for (size_t k = 0; k < run.bufs.size(); ++k) {
        auto hit = opt.disk_cache->get(run.key, run.etag, run.first + k);
        if (hit && hit->size() == run.bufs[k]->size()) {
          flush();
          std::memcpy(run.bufs[k]->data(), hit->data(), hit->size());
          block_ready(run, k, true);
          continue;
        }
        if (part.bufs.empty()) {
          part.ino = run.ino;
          part.key = run.key;
          part.etag = run.etag;
          part.first = run.first + k;
          part.urgent = run.urgent;
        }
        part.bufs.push_back(run.bufs[k]);
      }
      flush();
      return;
    }
    fetch(std::move(run));
  }

  void fetch(Run run) {
    auto shared = std::make_shared<Run>(std::move(run));
    uint64_t begin = shared->first * opt.block_size, length = 0;
    for (const auto& b : shared->bufs) length += b->size();
    store::GetRequest req{shared->key, store::ByteRange{begin, begin + length - 1}, shared->etag};
    {
      std::lock_guard lock(mu);
      st.requests++;
    }
    const transfer::Engine::Ticket ticket = transfer::fetch_into(
        group, store, std::move(req), shared->bufs, [this, shared](size_t k) { block_ready(*shared, k, false); },
        [this, shared](size_t k, std::exception_ptr error) { run_failed(*shared, k, error); },
        shared->urgent ? transfer::Engine::Priority::kUrgent : transfer::Engine::Priority::kNormal);
    if (ticket == 0 || shared->urgent) return;
    // Read-ahead: a read that began waiting for one of its blocks while it was being queued
    // promotes it now; later ones promote it through the ticket (wait_for()).
    bool promote = false;
    {
      std::lock_guard lock(mu);
      auto fit = files.find(shared->ino);
      if (fit == files.end()) return;
      for (size_t k = 0; k < shared->bufs.size(); ++k) {
        auto sit = fit->second.blocks.find(shared->first + k);
        if (sit == fit->second.blocks.end() || sit->second.buf != shared->bufs[k]) continue;
        sit->second.ticket = ticket;
        promote = promote || (sit->second.waiters > 0 && !sit->second.ready);
      }
    }
    if (promote) group.promote(ticket);
  }

  // A read waits for block `slot`: read ahead and still queued, its GET becomes urgent.
  void wait_for(Slot& slot, Actions& a) {
    if (slot.ready || slot.urgent) return;
    slot.urgent = true;
    if (slot.ticket != 0) a.promote.push_back(slot.ticket);
  }

  void start_direct(Direct d) {
    auto shared = std::make_shared<Direct>(std::move(d));
    store::GetRequest req{shared->key, store::ByteRange{shared->offset, shared->offset + shared->buf->size() - 1}, shared->etag};
    {
      std::lock_guard lock(mu);
      st.requests++;
    }
    auto answer = [this, shared](std::exception_ptr error) {
      ReadReply reply;
      {
        std::lock_guard lock(mu);
        if (error) {
          st.errors++;
          try {
            std::rethrow_exception(error);
          } catch (const Error& e) {
            const Node* node = ns.find(shared->ino);
            error = std::make_exception_ptr(e.with_context("reading " + (node ? node->name : shared->key) + " (" + shared->key + ")"));
          } catch (...) {
          }
        } else {
          st.bytes_fetched += shared->buf->size();
          st.bytes_served += shared->buf->size();
        }
      }
      if (error) {
        reply.error = error;
      } else {
        reply.iov.push_back(iovec{shared->buf->data(), shared->buf->size()});
        reply.pins.push_back(shared->buf);
      }
      shared->reply(reply);
      shared->buf.reset();
    };
    transfer::fetch_into(
        group, store, std::move(req), {shared->buf}, [answer](size_t) { answer(nullptr); },
        [answer](size_t k, std::exception_ptr error) {
          if (k == 0) answer(error);  // (an error after the last byte changes nothing)
        },
        transfer::Engine::Priority::kUrgent);
  }

  void finish(Actions& a) {
    for (transfer::Engine::Ticket t : a.promote) group.promote(t);
    for (auto& r : a.replies) r.fn(r.reply);
    a.replies.clear();
    for (auto& run : a.runs) start_run(std::move(run));
    for (auto& d : a.directs) start_direct(std::move(d));
  }

  // --- prefetch -----------------------------------------------------------------------------

  // The head of each of the next `depth` files after `order` in walk order (at most
  // prefetch_bytes). Files already (being) fetched are skipped by issue().
  void prefetch_after(size_t order, size_t depth, Actions& a) {
    const size_t limit = std::min(ns.file_count(), order + 1 + depth);
    uint64_t ahead = 0;
    for (size_t o = order + 1; o < limit; ++o) {
      const Node& node = ns.file_at(o);
      uint64_t want = std::min<uint64_t>(node.size, opt.initial_window);
      if (ahead + want > opt.prefetch_bytes) break;
      ahead += want;
      if (want == 0) continue;
      FileState& f = file_state(node);
      f.handles++;  // keeps f alive while making room drops blocks (and maybe_forget files)
      bool ok = issue(f, 0, (want - 1) / opt.block_size, false, a);
      f.handles--;
      if (!ok) break;
    }
  }

  void write_loop() {
    std::unique_lock lock(write_mu);
    while (true) {
      write_cv.wait(lock, [this] { return write_stop || !writes.empty(); });
      if (writes.empty()) return;
      DiskWrite w = std::move(writes.front());
      writes.pop_front();
      lock.unlock();
      opt.disk_cache->put(w.key, w.etag, w.index, w.buf->data(), w.buf->size());
      w.buf.reset();
      lock.lock();
    }
  }
};

Reader::Reader(const Namespace& ns, store::ObjectStore& store, ReaderOptions options)
    : impl_(std::make_unique<Impl>(ns, store, options)) {
  if (options.block_size == 0 || options.max_request < options.block_size) {
    throw Error(ErrorKind::kInvalidInput, "FastFile reader options", "block size must be positive and at most the request size");
  }
}

Reader::~Reader() { shutdown(); }

uint64_t Reader::open(const Node& file) {
  Impl& m = *impl_;
  Actions a;
  uint64_t id;
  {
    std::lock_guard lock(m.mu);
    id = m.next_handle++;
    Handle& h = m.handles[id];
    h.ino = file.ino;
    FileState& f = m.file_state(file);
    f.handles++;
    if (!m.stopping) {
      // Most opened files are read from the start: ask for the head now.
      if (file.size > 0) m.issue(f, 0, (std::min<uint64_t>(file.size, m.opt.initial_window) - 1) / m.opt.block_size, true, a);
      // A walk in listing order: this file's predecessor in walk order was among the last
      // kWalkWindow files opened (a few loader workers may interleave), or this is the first
      // file. The prefetch depth doubles with the length of the walk, 8 files up to
      // prefetch_files, so that a chance match in a random order costs little.
      constexpr uint32_t kWalkWindow = 8;
      const size_t order = file.file_order;
      const uint32_t seq = ++m.opens;
      bool walk = order == 0 || (m.opened[order - 1] != 0 && seq - m.opened[order - 1] <= kWalkWindow);
      m.opened[order] = seq;
      m.streak[order] = walk ? static_cast<uint8_t>(std::min<int>(order == 0 ? 1 : m.streak[order - 1] + 1, 8)) : 0;
      if (walk) m.prefetch_after(order, std::min<size_t>(m.opt.prefetch_files, size_t{4} << m.streak[order]), a);
    }
  }
  m.finish(a);
  return id;
}

void Reader::read(uint64_t handle, uint64_t offset, size_t size, ReplyFn reply) {
  Impl& m = *impl_;
  Actions a;
  {
    std::lock_guard lock(m.mu);
    auto hit = m.handles.find(handle);
    if (m.stopping || hit == m.handles.end()) {
      ReadReply r;
      r.error = std::make_exception_ptr(Error(ErrorKind::kCancelled, "reading", m.stopping ? "the mount is shutting down" : "unknown file handle"));
      a.replies.push_back({std::move(reply), std::move(r)});
    } else {
      Handle& h = hit->second;
      FileState& f = m.file_state(*m.ns.find(h.ino));
      const uint64_t file_size = f.node->size;
      if (offset >= file_size || size == 0) {
        a.replies.push_back({std::move(reply), ReadReply{}});
      } else {
        size = static_cast<size_t>(std::min<uint64_t>(size, file_size - offset));
        const uint64_t end = offset + size, B = m.opt.block_size;
        // Sequential: at the expected offset, or near it (the kernel's read-ahead sends reads
        // out of order); a fresh handle reading from 0 starts streaming.
        bool seq = offset == h.next_offset ||
                   (h.streaming && offset + 2 * B >= h.next_offset && offset <= h.next_offset + h.window + m.opt.max_request);
        if (seq) {
          h.window = h.streaming ? std::min(h.window * 2, m.opt.max_window) : m.opt.initial_window;
          if (!h.streaming) h.ahead_end = 0;
          h.streaming = true;
          h.next_offset = std::max(h.next_offset, end);
        } else {
          h.streaming = false;
          h.window = 0;
          h.next_offset = end;
        }
        auto r = std::make_shared<PendingRead>();
        r->offset = offset;
        r->size = size;
        r->first = offset / B;
        r->last = (end - 1) / B;
        r->reply = std::move(reply);
        r->streaming = h.streaming;
        bool cached = true, any_pending = false;
        for (uint64_t i = r->first; i <= r->last; ++i) {
          auto it = f.blocks.find(i);
          cached = cached && it != f.blocks.end();
          any_pending = any_pending || (it != f.blocks.end() && !it->second.ready);
        }
        if (!h.streaming && !cached && !any_pending && !m.opt.disk_cache) {
          // A random read: fetch just these bytes.
          m.make_room(size, true);
          a.directs.push_back(Direct{f.node->ino, f.entry->key, f.entry->etag, offset,
                                     std::make_shared<Buffer>(size, m.budget.reserve(size), m.budget.pool()),
                                     std::move(r->reply)});
        } else {
          // Mark the blocks this read needs before making room for the missing ones, so that
          // room is never made by dropping one of them.
          std::vector<uint64_t> missing;
          for (uint64_t i = r->first; i <= r->last; ++i) {
            auto it = f.blocks.find(i);
            if (it == f.blocks.end()) {
              missing.push_back(i);
            } else {
              it->second.waiters++;
              m.wait_for(it->second, a);
            }
          }
          m.issue(f, r->first, r->last, true, a);
          for (uint64_t i : missing) f.blocks[i].waiters++;
          if (!m.try_serve(f, *r, a)) f.pending.push_back(r);
          // Read-ahead is topped up in large pieces: once less than half the window is left
          // ahead of the reader, everything up to a full window is issued (GETs of up to
          // max_request bytes each).
          if (h.streaming && end < file_size) {
            uint64_t target = std::min(file_size, end + h.window);
            if (h.ahead_end < end) h.ahead_end = end;
            if (h.ahead_end < file_size && h.ahead_end - end < h.window / 2 + 1) {
              uint64_t from = (h.ahead_end + B - 1) / B, to = (target - 1) / B;
              if (from <= to && m.issue(f, from, to, false, a)) h.ahead_end = target;
            }
          }
          if (h.streaming) m.drop_passed(f, r->first);
        }
      }
    }
  }
  m.finish(a);
}

void Reader::release(uint64_t handle) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  auto hit = m.handles.find(handle);
  if (hit == m.handles.end()) return;
  auto fit = m.files.find(hit->second.ino);
  m.handles.erase(hit);
  if (fit != m.files.end()) {
    FileState& f = fit->second;
    if (--f.handles == 0) {
      for (auto& [index, slot] : f.blocks) m.touch(f, index, slot, true);
    }
    m.maybe_forget(fit);
  }
}

void Reader::shutdown() {
  Impl& m = *impl_;
  Actions a;
  {
    std::lock_guard lock(m.mu);
    if (m.stopping) return;
    m.stopping = true;
    auto error = std::make_exception_ptr(Error(ErrorKind::kCancelled, "reading", "the mount is shutting down"));
    for (auto& [ino, f] : m.files) m.fail_waiters(f, 0, UINT64_MAX, error, a);
  }
  m.finish(a);
  m.budget.remove_reclaimer(m.reclaimer);
  m.group.cancel();
  m.group.wait_idle();
  if (m.writer.joinable()) {
    {
      std::lock_guard lock(m.write_mu);
      m.write_stop = true;
    }
    m.write_cv.notify_one();
    m.writer.join();
  }
}

ReaderStats Reader::stats() const {
  std::lock_guard lock(impl_->mu);
  ReaderStats s = impl_->st;
  s.memory_in_use = impl_->budget.reserved();
  s.memory_peak = impl_->budget.peak();
  return s;
}

}  // namespace sluice::modes::fastfile
