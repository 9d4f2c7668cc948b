#include "modes/pipe/channel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "core/log.hpp"

namespace sluice::modes::pipe {
namespace fs = std::filesystem;

namespace {

constexpr int kPipeSize = 1 << 20;

void make_fifo(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);  // a FIFO left by an earlier run of the same job
  if (::mkfifo(path.c_str(), 0644) != 0) throw errno_error(errno, "creating the Pipe mode FIFO", path.string());
}

}  // namespace

Channel::Channel(ChannelSpec spec) : spec_(std::move(spec)) {
  if (!spec_.source) throw Error(ErrorKind::kInternal, "Pipe channel " + spec_.name, "no source");
  fs::create_directories(spec_.dir);
  make_fifo(fifo(0));
  thread_ = std::thread([this] { run(); });
}

Channel::~Channel() { stop(); }

fs::path Channel::fifo(uint64_t epoch) const { return spec_.dir / (spec_.name + "_" + std::to_string(epoch)); }

std::optional<Error> Channel::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void Channel::stop() {
  if (stopping_.exchange(true)) {
    if (thread_.joinable()) thread_.join();
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (current_) current_->cancel();
  }
  if (thread_.joinable()) thread_.join();
}

std::vector<Record> Channel::records_for(uint64_t epoch) {
  const dataset::ResolvedSource& src = *spec_.source;
  std::vector<size_t> share = dataset::share_for_epoch(src.size(), spec_.plan, epoch);
  std::vector<Record> records;
  if (src.type == dataset::SourceType::kAugmentedManifestFile) {
    for (size_t i : share) {
      for (const auto& r : src.lines[i].records) {
        Record rec;
        if (r.kind == dataset::AugmentedRecord::Kind::kObjectRef) {
          rec.object = ObjectSource{&spec_.store_for(r.ref), r.ref.key, std::nullopt, {}, r.ref.uri()};
        } else {
          rec.data = r.data;
        }
        records.push_back(std::move(rec));
      }
    }
  } else {
    records.reserve(share.size());
    for (size_t i : share) {
      const auto& o = src.objects[i];
      Record rec;
      rec.object = ObjectSource{&spec_.store_for(o.address), o.address.key, o.size, o.etag, o.address.uri()};
      records.push_back(std::move(rec));
    }
  }
  return records;
}

void Channel::run() {
  uint64_t epoch = 0;
  bool fifo_exists = true;  // fifo(epoch) exists and was never opened
  auto fail = [&](const Error& e) {
    {
      std::lock_guard lock(mu_);
      failure_ = e;
    }
    log::error("Pipe channel '{}': {}", spec_.name, e.what());
    if (spec_.on_failure) spec_.on_failure();
  };
  while (!stopping_) {
    std::unique_ptr<EpochStream> stream;
    try {
      stream = std::make_unique<EpochStream>(records_for(epoch), spec_.stream,
                                             "channel '" + spec_.name + "' epoch " + std::to_string(epoch));
    } catch (const Error& e) {
      fail(e);
      break;
    }
    stream->start();  // prefetch while the FIFO waits for its reader
    {
      std::lock_guard lock(mu_);
      current_ = std::move(stream);
    }
    // Wait for the reader: a non-blocking open for writing fails with ENXIO until one has opened.
    int fd = -1;
    while (!stopping_) {
      fd = ::open(fifo(epoch).c_str(), O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0) break;
      if (errno != ENXIO && errno != EINTR) {
        fail(errno_error(errno, "opening the Pipe mode FIFO", fifo(epoch).string()));
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (fd < 0) break;
    fifo_exists = false;
    opened_++;
    try {
      make_fifo(fifo(epoch + 1));  // the next epoch's FIFO exists once this one is open
      fifo_exists = true;
    } catch (const Error& e) {
      fail(e);
    }
    if (::fcntl(fd, F_SETPIPE_SZ, kPipeSize) < 0) log::debug("F_SETPIPE_SZ on {}: {}", fifo(epoch).string(), std::strerror(errno));

    // Non-blocking writes with poll, so that stop() is never stuck behind a reader that stopped reading.
    Writer out = [&](const char* d, size_t n) {
      while (n > 0) {
        ssize_t w = ::write(fd, d, n);
        if (w > 0) {
          d += w;
          n -= static_cast<size_t>(w);
          continue;
        }
        if (w < 0 && errno == EPIPE) return false;  // the reader closed: the epoch ends here
        if (w < 0 && errno != EAGAIN && errno != EINTR) throw errno_error(errno, "writing the Pipe mode FIFO", fifo(epoch).string());
        if (stopping_) throw Error(ErrorKind::kCancelled, "writing " + fifo(epoch).string(), "the job ended");
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, 100);
      }
      return true;
    };
    bool failed = false;
    try {
      EpochStream* s;
      {
        std::lock_guard lock(mu_);
        s = current_.get();
      }
      bool complete = s->write(out);
      log::info("Pipe channel '{}' epoch {}: {} ({} fetched)", spec_.name, epoch,
                complete ? "complete" : "the reader closed early", s->bytes_fetched());
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kCancelled) {
        fail(e);
        failed = true;
      }
    }
    {
      std::lock_guard lock(mu_);
      current_.reset();
    }
    if (failed) {
      // Keep the FIFO open: closing it would look like the end of the epoch to the reader, which
      // would then take a truncated stream for the data. The runner stops the job.
      while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ::close(fd);
      break;
    }
    ::close(fd);
    if (stopping_) break;
    ++epoch;
  }
  {
    std::lock_guard lock(mu_);
    current_.reset();
  }
  if (fifo_exists) {
    std::error_code ec;
    fs::remove(fifo(epoch + (opened_ > epoch ? 1 : 0)), ec);  // the FIFO nobody opened
  }
}

}  // namespace sluice::modes::pipe
