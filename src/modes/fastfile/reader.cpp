// FastFile's read path (reader.hpp): the Reader's calls, and serving reads from the block table.
// The Reader's state is in reader_impl.hpp; the GETs and disk cache lookups that fill the table
// are in reader_fetch.cpp, the table and its LRU in block_table.cpp, the per-handle read-ahead
// window in read_window.cpp, listing-order detection in listing_walk.cpp, disk cache writes in
// disk_cache_writer.cpp.
#include "modes/fastfile/reader.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "modes/fastfile/reader_impl.hpp"
#include "transfer/buffer.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::modes::fastfile {

size_t ReadReply::size() const {
  size_t n = 0;
  for (const auto& v : iov) n += v.iov_len;
  return n;
}

Reader::Impl::Impl(const Namespace& n, store::ObjectStore& s, ReaderOptions o)
    : ns(n),
      opt(o),
      store(s),
      own_budget(o.budget ? nullptr : std::make_unique<transfer::MemoryBudget>(o.max_memory)),
      own_engine(o.engine ? nullptr : std::make_unique<transfer::Engine>(transfer::EngineOptions{o.max_in_flight})),
      budget(o.budget ? *o.budget : *own_budget),
      group(o.engine ? *o.engine : *own_engine),
      table(n, budget),
      walk(n.file_count()),
      sweep(n.file_count()),
      kernel(n.file_count()) {
  if (opt.disk_cache) writer = std::make_unique<DiskCacheWriter>(*opt.disk_cache);
  // Cold blocks are what other users of a shared budget may take back for their read-ahead.
  reclaimer = budget.add_reclaimer([this](uint64_t bytes) {
    std::unique_lock lock(mu, std::try_to_lock);
    if (lock && !stopping) table.make_room(bytes, false);
  });
}

void Reader::Impl::note_read(Handle& h, const Node& file, uint64_t offset, size_t size) {
  if (h.marked_at_open && !h.read_any) kernel.read_again(file.file_order);
  h.read_any = true;
  if (offset <= h.covered) h.covered = std::max<uint64_t>(h.covered, offset + size);
  if (h.covered >= file.size) kernel.read_whole(file.file_order);
}

// Serves `r` if every block it needs is ready. Blocks missing from the map (dropped while
// others were fetched) are fetched again.
bool Reader::Impl::try_serve(FileState& f, PendingRead& r, Actions& a) {
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
    table.touch(f, i, slot, passed);
  }
  st.bytes_served += r.size;
  a.replies.push_back(std::move(out));
  return true;
}

void Reader::Impl::fail_waiters(FileState& f, uint64_t first, uint64_t last, std::exception_ptr error, Actions& a) {
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

void Reader::Impl::serve_pending(FileState& f, Actions& a) {
  for (auto it = f.pending.begin(); it != f.pending.end();) {
    if (try_serve(f, **it, a)) {
      it = f.pending.erase(it);
    } else {
      ++it;
    }
  }
}

// A read waits for block `slot`: read ahead and still queued, its GET becomes urgent.
void Reader::Impl::wait_for(Slot& slot, Actions& a) {
  if (slot.ready || slot.urgent) return;
  slot.urgent = true;
  if (slot.ticket != 0) a.promote.push_back(slot.ticket);
}

Reader::Reader(const Namespace& ns, store::ObjectStore& store, ReaderOptions options)
    : impl_(std::make_unique<Impl>(ns, store, options)) {
  if (options.block_size == 0 || options.max_request < options.block_size) {
    throw Error(ErrorKind::kInvalidInput, "FastFile reader options", "block size must be positive and at most the request size");
  }
}

Reader::~Reader() { shutdown(); }

uint64_t Reader::open(const Node& file) {
  Impl& m = *impl_;
  Impl::Actions a;
  uint64_t id;
  {
    std::lock_guard lock(m.mu);
    id = m.next_handle++;
    m.st.opens++;
    Impl::Handle& h = m.handles[id];
    h.ino = file.ino;
    FileState& f = m.table.file(file);
    f.handles++;
    h.marked_at_open = m.opt.kernel_page_cache && m.kernel.marked(file.file_order);
    if (!m.stopping) {
      // Most opened files are read from the start: ask for the head now, unless the kernel's
      // page cache holds the file (kernel_cache.hpp) and no read is likely to come.
      if (file.size > 0 && !(h.marked_at_open && m.kernel.holds(file.file_order))) m.issue(f, 0, (std::min<uint64_t>(file.size, m.opt.initial_window) - 1) / m.opt.block_size, true, a);
      // A walk in listing order (listing_walk.hpp): prefetch the heads of the next files.
      const size_t depth = m.walk.on_open(file.file_order, m.opt.prefetch_files);
      if (depth) m.prefetch_after(file.file_order, depth, a);
      // A shuffled loader (shuffle_sweep.hpp): fetch ahead the files this epoch has not opened.
      m.sweep.on_open(file.file_order, depth > 0);
      if (m.opt.sweep_max_file) m.pump_sweep(a);
    }
  }
  m.finish(a);
  return id;
}

void Reader::read(uint64_t handle, uint64_t offset, size_t size, ReplyFn reply) {
  Impl& m = *impl_;
  Impl::Actions a;
  {
    std::lock_guard lock(m.mu);
    m.st.reads++;
    auto hit = m.handles.find(handle);
    if (m.stopping || hit == m.handles.end()) {
      ReadReply r;
      r.error = std::make_exception_ptr(Error(ErrorKind::kCancelled, "reading", m.stopping ? "the mount is shutting down" : "unknown file handle"));
      a.replies.push_back({std::move(reply), std::move(r)});
    } else {
      Impl::Handle& h = hit->second;
      FileState& f = m.table.file(*m.ns.find(h.ino));
      const uint64_t file_size = f.node->size;
      if (m.opt.kernel_page_cache) m.note_read(h, *f.node, offset, size);
      if (offset >= file_size || size == 0) {
        a.replies.push_back({std::move(reply), ReadReply{}});
      } else {
        size = static_cast<size_t>(std::min<uint64_t>(size, file_size - offset));
        const uint64_t end = offset + size, B = m.opt.block_size;
        const bool streaming = h.window.on_read(offset, end, m.window_options());
        auto r = std::make_shared<PendingRead>();
        r->offset = offset;
        r->size = size;
        r->first = offset / B;
        r->last = (end - 1) / B;
        r->reply = std::move(reply);
        r->streaming = streaming;
        bool cached = true, any_pending = false;
        for (uint64_t i = r->first; i <= r->last; ++i) {
          auto it = f.blocks.find(i);
          cached = cached && it != f.blocks.end();
          any_pending = any_pending || (it != f.blocks.end() && !it->second.ready);
        }
        if (!streaming && !cached && !any_pending && !m.opt.disk_cache) {
          // A random read: fetch just these bytes.
          m.table.make_room(size, true);
          a.directs.push_back(Impl::Direct{f.node->ino, f.entry->key, f.entry->etag, offset,
                                     std::make_shared<transfer::Buffer>(size, m.budget.reserve(size), m.budget.pool()),
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
          // Read-ahead (read_window.hpp), in GETs of up to max_request bytes each.
          if (auto ahead = h.window.ahead(end, file_size, B); ahead && m.issue(f, ahead->first, ahead->last, false, a)) {
            h.window.issued(*ahead);
          }
          if (streaming) m.table.drop_passed(f, r->first);
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
  auto fit = m.table.files().find(hit->second.ino);
  if (hit->second.marked_at_open && !hit->second.read_any) m.kernel.closed_unread();
  m.handles.erase(hit);
  if (fit != m.table.files().end()) {
    FileState& f = fit->second;
    if (--f.handles == 0) {
      for (auto& [index, slot] : f.blocks) m.table.touch(f, index, slot, true);
    }
    m.table.forget_if_unused(fit);
  }
}

void Reader::shutdown() {
  Impl& m = *impl_;
  Impl::Actions a;
  {
    std::lock_guard lock(m.mu);
    if (m.stopping) return;
    m.stopping = true;
    auto error = std::make_exception_ptr(Error(ErrorKind::kCancelled, "reading", "the mount is shutting down"));
    for (auto& [ino, f] : m.table.files()) m.fail_waiters(f, 0, UINT64_MAX, error, a);
  }
  m.finish(a);
  m.budget.remove_reclaimer(m.reclaimer);
  m.group.cancel();
  m.group.wait_idle();
  if (m.writer) m.writer->stop();
}

bool Reader::opens_unneeded() const {
  std::lock_guard lock(impl_->mu);
  return impl_->opt.kernel_page_cache && !impl_->stopping && impl_->kernel.opens_unneeded();
}

void Reader::read_unopened(const Node& file, uint64_t offset, size_t size, ReplyFn reply) {
  Impl& m = *impl_;
  uint64_t handle = 0, extra = 0;
  {
    std::lock_guard lock(m.mu);
    if (auto it = m.unopened.find(file.ino); it != m.unopened.end()) {
      it->second.users++;
      handle = it->second.handle;
    }
  }
  if (handle == 0) {
    const uint64_t opened = open(file);
    std::lock_guard lock(m.mu);
    auto [it, fresh] = m.unopened.try_emplace(file.ino, Impl::Unopened{opened, 0});
    it->second.users++;
    handle = it->second.handle;
    if (!fresh) {
      // Another read opened the file first: its handle serves both, this one goes (no hit).
      if (auto h = m.handles.find(opened); h != m.handles.end()) h->second.marked_at_open = false;
      extra = opened;
    }
  }
  if (extra != 0) release(extra);
  // The handle goes once no call uses it and its reads have covered the file (a small file after
  // its one read; a large one at its end): a file the kernel drops again gets a new one, and the
  // handles kept are those of files being read.
  auto done = [&] {
    bool last = false;
    {
      std::lock_guard lock(m.mu);
      auto it = m.unopened.find(file.ino);
      if (it == m.unopened.end() || --it->second.users > 0) return;
      auto h = m.handles.find(handle);
      last = h == m.handles.end() || h->second.covered >= file.size;
      if (last) m.unopened.erase(it);
    }
    if (last) release(handle);
  };
  try {
    read(handle, offset, size, std::move(reply));
  } catch (...) {
    done();
    throw;
  }
  done();
}

ReaderStats Reader::stats() const {
  std::lock_guard lock(impl_->mu);
  ReaderStats s = impl_->st;
  s.memory_in_use = impl_->budget.reserved();
  s.memory_peak = impl_->budget.peak();
  return s;
}

}  // namespace sluice::modes::fastfile
