#include "modes/pipe/epoch_stream.hpp"

#include <fmt/core.h>
#include <zlib.h>

#include <algorithm>

#include "core/error.hpp"
#include "formats/recordio.hpp"
#include "transfer/range_stream.hpp"

namespace sluice::modes::pipe {
namespace {

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
  std::vector<size_t> first_piece;  // per record: index of its first piece (a record's pieces are consecutive)
  size_t pieces = 0;
  std::unique_ptr<transfer::MemoryBudget> own_budget;  // without a shared one
  std::unique_ptr<transfer::Engine> own_engine;
  std::unique_ptr<transfer::RangeStream> stream;  // after the engine and budget it uses

  std::string describe(const Record& r) const { return r.object ? r.object->uri : std::string("inline data"); }

  // The next piece of record r (throws its error, with `what` and the object, or kCancelled).
  std::string_view next(size_t r) {
    try {
      return stream->next();
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kCancelled) throw Error(ErrorKind::kCancelled, what, "stopped");
      // A store's error names the object already ("reading s3://b/k: ..."): not twice.
      const std::string object = describe(records[r]);
      if (e.message().find(object) != std::string::npos) throw e.with_context(what);
      throw e.with_context(fmt::format("{}: reading {}", what, object));
    }
  }
};

EpochStream::EpochStream(std::vector<Record> records, StreamOptions options, std::string what)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.records = std::move(records);
  m.opt = options;
  m.what = std::move(what);
  if (m.opt.part_size == 0) m.opt.part_size = 8ull << 20;
  if (!m.opt.budget) {
    m.own_budget = std::make_unique<transfer::MemoryBudget>(m.opt.max_memory);
    m.opt.budget = m.own_budget.get();
  }
  if (!m.opt.engine) {
    m.own_engine = std::make_unique<transfer::Engine>(transfer::EngineOptions{m.opt.max_in_flight});
    m.opt.engine = m.own_engine.get();
  }
  std::vector<transfer::RangePiece> pieces;
  m.first_piece.resize(m.records.size());
  for (size_t r = 0; r < m.records.size(); ++r) {
    m.first_piece[r] = pieces.size();
    const auto& obj = m.records[r].object;
    if (!obj) continue;
    transfer::RangePiece p;
    p.store = obj->store;
    p.request.key = obj->key;
    p.request.if_match = obj->etag;
    if (!obj->size) {
      p.size_hint = m.opt.part_size;  // "-ref" object: fetched whole
      pieces.push_back(std::move(p));
      continue;
    }
    for (uint64_t off = 0; off < *obj->size; off += m.opt.part_size) {
      p.request.range = store::ByteRange{off, std::min(*obj->size, off + m.opt.part_size) - 1};
      pieces.push_back(p);
    }
  }
  m.pieces = pieces.size();
  transfer::RangeStreamOptions ro;
  ro.initial_window = m.opt.initial_window;
  ro.max_window = m.opt.max_window ? std::min(m.opt.max_window, m.opt.budget->limit()) : m.opt.budget->limit();
  ro.max_in_flight = m.opt.max_in_flight;
  m.stream = std::make_unique<transfer::RangeStream>(*m.opt.engine, *m.opt.budget, std::move(pieces), ro);
}

EpochStream::~EpochStream() { impl_->stream.reset(); }  // before the engine and budget it uses

void EpochStream::start() { impl_->stream->start(); }

void EpochStream::cancel() { impl_->stream->cancel(); }

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
    const size_t first = m.first_piece[r];
    const size_t last = r + 1 < m.records.size() ? m.first_piece[r + 1] : m.pieces;  // exclusive
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
          std::string_view piece = m.next(r);
          gz.feed(piece.data(), piece.size(), collect);
        }
        gz.finish();
        formats::RecordIOWrapper w(whole.size());
        w.feed(whole.data(), whole.size(), emit_void);
        w.finish(emit_void);
      } else {
        for (size_t c = first; c < last && open; ++c) {
          std::string_view piece = m.next(r);
          open = gz.feed(piece.data(), piece.size(), emit);
        }
        if (open) gz.finish();
      }
      continue;
    }
    if (m.opt.framing == Framing::kRecordIO) {
      // A "-ref" object (size unknown) is one piece, fetched whole: its size is known once read.
      std::string_view piece = first < last ? m.next(r) : std::string_view();
      formats::RecordIOWrapper w(rec.object->size ? *rec.object->size : piece.size());
      for (size_t c = first; c < last && open; ++c) {
        if (c > first) piece = m.next(r);
        w.feed(piece.data(), piece.size(), emit_void);
      }
      if (open) w.finish(emit_void);
    } else {
      for (size_t c = first; c < last && open; ++c) {
        std::string_view piece = m.next(r);
        emit(piece.data(), piece.size());
      }
    }
  }
  return open;
}

uint64_t EpochStream::bytes_fetched() const { return impl_->stream->bytes_fetched(); }

uint64_t EpochStream::peak_memory() const { return impl_->opt.budget->peak(); }

}  // namespace sluice::modes::pipe
