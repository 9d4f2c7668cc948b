#include "modes/pipe/epoch_stream.hpp"

#include <fmt/core.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>

#include "core/error.hpp"
#include "formats/recordio.hpp"

namespace sluice::modes::pipe {
namespace {

// A piece of an object to fetch: a byte range, or the whole object when its size is unknown.
struct Chunk {
  size_t record = 0;
  uint64_t offset = 0;
  uint64_t length = 0;  // 0 with whole: unknown
  bool whole = false;
  uint64_t reserved = 0;  // bytes counted against the budget while held
  std::string data;
  bool issued = false, done = false;
  std::exception_ptr error;
};

// gunzip of one object, member after member, into `emit`.
class Gunzip {
 public:
  explicit Gunzip(std::string what) : what_(std::move(what)) {
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw Error(ErrorKind::kInternal, what_, "zlib inflateInit2 failed");
  }
  ~Gunzip() { inflateEnd(&z_); }
  Gunzip(const Gunzip&) = delete;
  Gunzip& operator=(const Gunzip&) = delete;

  // Returns false when emit did (the reader went away).
  bool feed(const char* data, size_t len, const Writer& emit) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z_.avail_in = static_cast<uInt>(len);
    while (z_.avail_in > 0) {
      if (ended_) {  // another gzip member follows
        if (inflateReset(&z_) != Z_OK) throw Error(ErrorKind::kInternal, what_, "zlib inflateReset failed");
        ended_ = false;
      }
      z_.next_out = reinterpret_cast<Bytef*>(out_);
      z_.avail_out = sizeof out_;
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        throw Error(ErrorKind::kDataLoss, what_,
                    fmt::format("not valid gzip data (CompressionType is Gzip): {}", z_.msg ? z_.msg : "zlib error"));
      }
      size_t n = sizeof out_ - z_.avail_out;
      if (n > 0 && !emit(out_, n)) return false;
      if (rc == Z_STREAM_END) ended_ = true;
      if (rc == Z_BUF_ERROR && n == 0) break;
    }
    return true;
  }
  void finish() {
    // Drain what zlib still holds, then insist on a complete last member.
    if (!ended_) throw Error(ErrorKind::kDataLoss, what_, "the gzip data ends before the end of its stream (truncated)");
  }

 private:
  std::string what_;
  z_stream z_{};
  bool ended_ = false;
  char out_[256 << 10];
};

}  // namespace

struct EpochStream::Impl {
  std::vector<Record> records;
  StreamOptions opt;
  std::string what;
  std::vector<Chunk> chunks;
  std::vector<size_t> first_chunk;  // per record: index of its first chunk (chunks of a record are consecutive)

  std::mutex mu;
  std::condition_variable cv;
  size_t next_issue = 0;
  int in_flight = 0;
  uint64_t reserved = 0, peak = 0, fetched = 0;
  int completing = 0;  // completions still running (they use this stream after in_flight drops)
  bool started = false, cancelled = false;

  std::string describe(const Record& r) const { return r.object ? r.object->uri : std::string("inline data"); }

  // Issues fetches while the budget and the in-flight limit allow. Called without the lock.
  void pump() {
    std::vector<size_t> to_issue;
    {
      std::lock_guard lock(mu);
      while (!cancelled && started && next_issue < chunks.size() && in_flight < opt.max_in_flight) {
        Chunk& c = chunks[next_issue];
        uint64_t need = c.whole ? opt.part_size : c.length;
        if (reserved > 0 && reserved + need > opt.max_memory) break;
        c.reserved = need;
        c.issued = true;
        reserved += need;
        peak = std::max(peak, reserved);
        ++in_flight;
        to_issue.push_back(next_issue++);
      }
    }
    for (size_t i : to_issue) issue(i);
  }

  void issue(size_t i) {
    Chunk& c = chunks[i];
    const ObjectSource& src = *records[c.record].object;
    store::GetRequest req;
    req.key = src.key;
    req.if_match = src.etag;
    if (!c.whole) {
      req.range = store::ByteRange{c.offset, c.offset + c.length - 1};
      c.data.reserve(c.length);
    }
    auto sink = [this, i](const char* d, size_t n) {
      chunks[i].data.append(d, n);
      return true;
    };
    auto done = [this, i](std::exception_ptr e) {
      {
        std::lock_guard lock(mu);
        Chunk& c = chunks[i];
        c.done = true;
        c.error = e;
        --in_flight;
        ++completing;
        if (!e) {
          fetched += c.data.size();
          if (c.whole) {  // the real size is known now
            reserved = reserved - c.reserved + c.data.size();
            c.reserved = c.data.size();
            peak = std::max(peak, reserved);
          }
        }
      }
      cv.notify_all();
      pump();
      // The last use of this stream: the destructor may free it as soon as the lock is released.
      std::lock_guard lock(mu);
      --completing;
      cv.notify_all();
    };
    src.engine->fetch(std::move(req), std::move(sink), std::move(done));
  }

  // Waits for chunk i and returns it (throws its error, or kCancelled).
  Chunk& wait(size_t i) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return cancelled || chunks[i].done; });
    if (cancelled) throw Error(ErrorKind::kCancelled, what, "stopped");
    Chunk& c = chunks[i];
    if (c.error) {
      try {
        std::rethrow_exception(c.error);
      } catch (const Error& e) {
        // A store's error names the object already ("reading s3://b/k: ..."): not twice.
        const std::string object = describe(records[c.record]);
        if (e.message().find(object) != std::string::npos) throw e.with_context(what);
        throw e.with_context(fmt::format("{}: reading {}", what, object));
      }
    }
    return c;
  }

  void release(size_t i) {
    {
      std::lock_guard lock(mu);
      Chunk& c = chunks[i];
      reserved -= c.reserved;
      c.reserved = 0;
      std::string().swap(c.data);
    }
    pump();
  }
};

EpochStream::EpochStream(std::vector<Record> records, StreamOptions options, std::string what)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.records = std::move(records);
  m.opt = options;
  m.what = std::move(what);
  if (m.opt.part_size == 0) m.opt.part_size = 8ull << 20;
  m.first_chunk.resize(m.records.size());
  for (size_t r = 0; r < m.records.size(); ++r) {
    m.first_chunk[r] = m.chunks.size();
    const auto& obj = m.records[r].object;
    if (!obj) continue;
    if (!obj->size) {
      Chunk c;
      c.record = r;
      c.whole = true;
      m.chunks.push_back(std::move(c));
      continue;
    }
    for (uint64_t off = 0; off < *obj->size; off += m.opt.part_size) {
      Chunk c;
      c.record = r;
      c.offset = off;
      c.length = std::min(m.opt.part_size, *obj->size - off);
      m.chunks.push_back(std::move(c));
    }
  }
}

EpochStream::~EpochStream() {
  cancel();
  // Completions reference this stream: wait until none is outstanding or still running (ASan
  // caught a completion calling pump() on a stream freed once in_flight had reached 0).
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait(lock, [&] { return impl_->in_flight == 0 && impl_->completing == 0; });
}

void EpochStream::start() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->started) return;
    impl_->started = true;
  }
  impl_->pump();
}

void EpochStream::cancel() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->cancelled = true;
  }
  impl_->cv.notify_all();
}

bool EpochStream::write(const Writer& out) {
  Impl& m = *impl_;
  start();
  bool open = true;
  auto emit = [&](const char* d, size_t n) {
    if (open && n > 0) open = out(d, n);
    return open;
  };
  auto emit_void = [&](const char* d, size_t n) { emit(d, n); };
  for (size_t r = 0; r < m.records.size() && open; ++r) {
    const Record& rec = m.records[r];
    const size_t first = m.first_chunk[r];
    const size_t last = r + 1 < m.records.size() ? m.first_chunk[r + 1] : m.chunks.size();  // exclusive
    if (!rec.object) {
      if (m.opt.framing == Framing::kRecordIO) {
        formats::RecordIOWrapper w(rec.data.size());
        w.feed(rec.data.data(), rec.data.size(), emit_void);
        w.finish(emit_void);
      } else {
        emit(rec.data.data(), rec.data.size());
      }
      continue;
    }
    const std::string what = fmt::format("{}: {}", m.what, rec.object->uri);
    if (m.opt.gzip) {
      Gunzip gz(what);
      if (m.opt.framing == Framing::kRecordIO) {
        std::string whole;  // the decompressed size goes into the header: decompress first
        Writer collect = [&](const char* d, size_t n) {
          whole.append(d, n);
          return true;
        };
        for (size_t c = first; c < last; ++c) {
          Chunk& ch = m.wait(c);
          gz.feed(ch.data.data(), ch.data.size(), collect);
          m.release(c);
        }
        gz.finish();
        formats::RecordIOWrapper w(whole.size());
        w.feed(whole.data(), whole.size(), emit_void);
        w.finish(emit_void);
      } else {
        for (size_t c = first; c < last && open; ++c) {
          Chunk& ch = m.wait(c);
          open = gz.feed(ch.data.data(), ch.data.size(), emit);
          m.release(c);
        }
        if (open) gz.finish();
      }
      continue;
    }
    if (m.opt.framing == Framing::kRecordIO) {
      uint64_t size = rec.object->size ? *rec.object->size : 0;
      if (!rec.object->size) size = m.wait(first).data.size();  // "-ref" object: fetched whole
      formats::RecordIOWrapper w(size);
      for (size_t c = first; c < last && open; ++c) {
        Chunk& ch = m.wait(c);
        w.feed(ch.data.data(), ch.data.size(), emit_void);
        m.release(c);
      }
      if (open) w.finish(emit_void);
    } else {
      for (size_t c = first; c < last && open; ++c) {
        Chunk& ch = m.wait(c);
        emit(ch.data.data(), ch.data.size());
        m.release(c);
      }
    }
  }
  return open;
}

uint64_t EpochStream::bytes_fetched() const {
  std::lock_guard lock(impl_->mu);
  return impl_->fetched;
}

uint64_t EpochStream::peak_memory() const {
  std::lock_guard lock(impl_->mu);
  return impl_->peak;
}

}  // namespace sluice::modes::pipe
