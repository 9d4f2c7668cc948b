// FastFile's reader, filling the block table (reader_impl.hpp): the blocks a read, read-ahead or
// prefetch needs become runs of contiguous blocks, each fetched by one ranged GET with If-Match
// on the listing's ETag (the blocks the disk cache holds are read from it instead); random reads
// without a disk cache are served straight from a GET of the bytes asked for. Completions arrive
// on the engine's I/O threads: they mark blocks ready (or fail the reads that wait for them) and
// queue fetched blocks for the disk cache.
#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "modes/fastfile/disk_cache.hpp"
#include "modes/fastfile/reader_impl.hpp"
#include "transfer/buffer.hpp"
#include "transfer/engine.hpp"

namespace sluice::modes::fastfile {

// Makes pending slots for the missing blocks of [first, last] and queues runs to fetch them.
// Optional work (read-ahead, prefetch) only starts within the budget and returns false when it
// had to stop; urgent work always starts.
bool Reader::Impl::issue(FileState& f, uint64_t first, uint64_t last, bool urgent, Actions& a) {
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
    table.make_room(len, urgent);
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

// The head of each of the next `depth` files after `order` in walk order (at most
// prefetch_bytes). Files already (being) fetched are skipped by issue().
void Reader::Impl::prefetch_after(size_t order, size_t depth, Actions& a) {
  const size_t limit = std::min(ns.file_count(), order + 1 + depth);
  uint64_t ahead = 0;
  for (size_t o = order + 1; o < limit; ++o) {
    const Node& node = ns.file_at(o);
    uint64_t want = std::min<uint64_t>(node.size, opt.initial_window);
    if (ahead + want > opt.prefetch_bytes) break;
    ahead += want;
    if (want == 0 || (opt.kernel_page_cache && kernel.holds(o))) continue;
    FileState& f = table.file(node);
    f.handles++;  // keeps f alive while making room drops blocks (and forgets files)
    bool ok = issue(f, 0, (want - 1) / opt.block_size, false, a);
    f.handles--;
    if (!ok) break;
  }
}

void Reader::Impl::pump_sweep(Actions& a) {
  size_t steps = kSweepStepsPerCall;
  uint64_t bytes = 0;
  while (bytes < kSweepBytesPerCall) {
    const std::optional<size_t> order = sweep.next(steps);
    if (!order) return;
    const Node& node = ns.file_at(*order);
    if (node.size == 0 || node.size > opt.sweep_max_file) continue;
    if (opt.kernel_page_cache && kernel.holds(*order)) continue;  // served without a read
    FileState& f = table.file(node);
    f.handles++;  // keeps f alive while making room drops blocks (and forgets files)
    // At most half the budget: read-ahead and the other users of a shared budget keep the rest
    // (blocks already read are dropped to stay under it).
    bool ok = table.make_room(node.size + budget.limit() / 2, false) &&
              issue(f, 0, (node.size - 1) / opt.block_size, false, a);
    f.handles--;
    table.forget_if_unused(table.files().find(node.ino));
    if (!ok) {
      sweep.put_back(*order);  // the budget is full: again when an open has made room
      return;
    }
    bytes += node.size;
  }
}

void Reader::Impl::finish(Actions& a) {
  for (transfer::Engine::Ticket t : a.promote) group.promote(t);
  for (auto& r : a.replies) r.fn(r.reply);
  a.replies.clear();
  for (auto& run : a.runs) start_run(std::move(run));
  for (auto& d : a.directs) start_direct(std::move(d));
}

void Reader::Impl::start_run(Run run) {
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

void Reader::Impl::fetch(Run run) {
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
    auto fit = table.files().find(shared->ino);
    if (fit == table.files().end()) return;
    for (size_t k = 0; k < shared->bufs.size(); ++k) {
      auto sit = fit->second.blocks.find(shared->first + k);
      if (sit == fit->second.blocks.end() || sit->second.buf != shared->bufs[k]) continue;
      sit->second.ticket = ticket;
      promote = promote || (sit->second.waiters > 0 && !sit->second.ready);
    }
  }
  if (promote) group.promote(ticket);
}

void Reader::Impl::start_direct(Direct d) {
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

void Reader::Impl::block_ready(const Run& run, size_t k, bool from_disk) {
  Actions a;
  {
    std::lock_guard lock(mu);
    auto fit = table.files().find(run.ino);
    if (fit == table.files().end()) return;
    auto sit = fit->second.blocks.find(run.first + k);
    if (sit == fit->second.blocks.end() || sit->second.buf != run.bufs[k]) return;  // dropped meanwhile
    sit->second.ready = true;
    table.touch(fit->second, run.first + k, sit->second, false);
    if (from_disk) {
      st.bytes_from_disk += run.bufs[k]->size();
    } else {
      st.bytes_fetched += run.bufs[k]->size();
    }
    serve_pending(fit->second, a);
  }
  if (!from_disk && writer) writer->put(run.key, run.etag, run.first + k, run.bufs[k]);
  finish(a);
}

void Reader::Impl::run_failed(const Run& run, size_t from, std::exception_ptr error) {
  Actions a;
  {
    std::lock_guard lock(mu);
    st.errors++;
    auto fit = table.files().find(run.ino);
    if (fit == table.files().end()) return;
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
    table.forget_if_unused(fit);
  }
  finish(a);
}

}  // namespace sluice::modes::fastfile
