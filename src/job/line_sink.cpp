#include "job/line_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/log.hpp"

namespace sluice::job {
namespace {

constexpr std::size_t kMaxLine = 64 * 1024;  // a longer "line" is passed on in pieces

// "2026-12-05T16:20:01.123Z": the time a log line was written (UTC, milliseconds).
std::string utc_stamp() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", std::string_view(buf, n), static_cast<int>(ts.tv_nsec / 1'000'000));
}

}  // namespace

LineSink::LineSink(std::string prefix, const std::string& log_file) : prefix_(std::move(prefix)) {
  if (!log_file.empty()) {
    log_ = UniqueFd(::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!log_) throw errno_error(errno, "opening the log file", log_file);
    log_name_ = log_file;
  }
}

void LineSink::feed(const char* data, std::size_t size) {
  pending_.append(data, size);
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = pending_.find('\n', start);
    if (nl == std::string::npos) break;
    emit(std::string_view(pending_).substr(start, nl - start));
    start = nl + 1;
  }
  pending_.erase(0, start);
  while (pending_.size() >= kMaxLine) {
    emit(std::string_view(pending_).substr(0, kMaxLine));
    pending_.erase(0, kMaxLine);
  }
}

void LineSink::finish() {
  if (!pending_.empty()) emit(pending_);
  pending_.clear();
}

void LineSink::emit(std::string_view line) {
  if (line.rfind("bwrap: ", 0) == 0) last_bwrap_line_ = std::string(line);
  std::string out;
  out.reserve(prefix_.size() + line.size() + 1);
  out.append(prefix_).append(line).push_back('\n');
  std::fwrite(out.data(), 1, out.size(), stderr);  // one call: lines of parallel hosts never mix
  std::fflush(stderr);
  if (log_) {
    out.insert(0, utc_stamp() + " ");  // the log file's lines carry the time they were written
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::write(log_.get(), out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        log::warn("writing {} failed ({}); the rest of this output goes to the terminal only",
                  log_name_, std::strerror(errno));
        log_.reset();
        break;
      }
      done += static_cast<std::size_t>(n);
    }
  }
}

}  // namespace sluice::job
