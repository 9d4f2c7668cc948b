// Log streams of training jobs read from their host logs: names, stamps, tokens, and line reads
// forward and backward over a file that is being appended to.
#include "serve/log_streams.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <limits>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"
#include "core/utf8.hpp"

namespace sluice::serve {
namespace {

constexpr std::size_t kForwardChunk = 64 * 1024;
constexpr std::size_t kBackwardChunk = 64 * 1024;
constexpr std::size_t kLongLine = kMaxEventMessage + 1024;  // kept of a longer line
constexpr std::uint64_t kMaxBackwardLine = 16u << 20;       // a longer line stops a backward read
constexpr std::uint64_t kEndScan = 1u << 20;                // first/last event: bytes looked at

// Digits only, as a number; nothing when empty, too long or not all digits.
std::optional<std::int64_t> digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s[0] == '+' || s[0] == '-') return std::nullopt;
  return v;
}

// Digits without a leading zero (but "0"): the one way a number is written in a name.
bool canonical_number(std::string_view s) {
  return digits(s).has_value() && (s.size() == 1 || s[0] != '0');
}

ssize_t pread_full(int fd, char* buf, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, buf + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw errno_error(errno, "reading a training job's log", beneath::fd_path(fd));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

// The stamp that starts a log's first line: an event's, or the run marker's
// ("===== <stamp> sluice train: ...").
std::optional<std::int64_t> first_line_stamp(std::string_view line) {
  if (line.rfind("===== ", 0) == 0) line.remove_prefix(6);
  return parse_utc_stamp(line.substr(0, line.find(' ')));
}

std::uint64_t host_number(std::string_view host) { return static_cast<std::uint64_t>(*digits(host.substr(5))); }

}  // namespace

std::optional<std::int64_t> parse_utc_stamp(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':') return std::nullopt;
  auto field = [&](std::size_t at, std::size_t n) { return digits(t.substr(at, n)); };
  auto year = field(0, 4), mon = field(5, 2), day = field(8, 2), hour = field(11, 2), min = field(14, 2),
       sec = field(17, 2);
  if (!year || !mon || !day || !hour || !min || !sec || *mon < 1 || *mon > 12 || *day < 1 || *day > 31 ||
      *hour > 23 || *min > 59 || *sec > 60) {
    return std::nullopt;
  }
  std::size_t i = 19;
  std::int64_t ms = 0;
  if (t[i] == '.') {
    std::size_t n = 0;
    for (++i; i < t.size() && ascii_isdigit(t[i]); ++i, ++n) {
      if (n < 3) ms = ms * 10 + (t[i] - '0');
    }
    if (n == 0) return std::nullopt;
    for (; n < 3; ++n) ms *= 10;
  }
  std::string_view zone = t.substr(i);
  if (zone != "Z" && zone != "+00:00") return std::nullopt;
  std::tm tm{};
  tm.tm_year = static_cast<int>(*year - 1900);
  tm.tm_mon = static_cast<int>(*mon - 1);
  tm.tm_mday = static_cast<int>(*day);
  tm.tm_hour = static_cast<int>(*hour);
  tm.tm_min = static_cast<int>(*min);
  tm.tm_sec = static_cast<int>(*sec);
  const std::time_t secs = ::timegm(&tm);
  return static_cast<std::int64_t>(secs) * 1000 + ms;
}

std::optional<LineEvent> parse_event_line(std::string_view line, std::string_view host) {
  const std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  auto ts = parse_utc_stamp(line.substr(0, sp));
  if (!ts) return std::nullopt;
  std::string_view rest = line.substr(sp + 1);
  if (rest.size() >= host.size() + 3 && rest[0] == '[' && rest.substr(1, host.size()) == host &&
      rest.substr(host.size() + 1, 2) == "] ") {
    rest.remove_prefix(host.size() + 3);
  }
  return LineEvent{*ts, rest};
}

bool valid_host_name(std::string_view host) {
  return host.size() > 5 && host.size() <= 12 && host.rfind("algo-", 0) == 0 && canonical_number(host.substr(5)) &&
         host.substr(5) != "0";
}

std::string format_stream_name(const StreamName& name) {
  return name.job + "/" + name.host + "-" + std::to_string(name.epoch);
}

std::optional<StreamName> parse_stream_name(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view job = text.substr(0, slash), rest = text.substr(slash + 1);
  if (job.empty() || job.size() > 63 || !ascii_isalnum(job.front()) || !ascii_isalnum(job.back())) return std::nullopt;
  for (char c : job) {
    if (!ascii_isalnum(c) && c != '-') return std::nullopt;
  }
  const std::size_t dash = rest.rfind('-');
  if (dash == std::string_view::npos || !valid_host_name(rest.substr(0, dash)) ||
      !canonical_number(rest.substr(dash + 1))) {
    return std::nullopt;
  }
  return StreamName{std::string(job), std::string(rest.substr(0, dash)), *digits(rest.substr(dash + 1))};
}

std::string seal(std::string_view payload, std::string_view context) {
  std::string data(context);
  data.push_back('\0');
  data.append(payload);
  return std::string(payload) + "." + sha256_hex(data).substr(0, 16);
}

std::optional<std::string> unseal(std::string_view token, std::string_view context) {
  const std::size_t dot = token.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string payload(token.substr(0, dot));
  if (seal(payload, context) != token) return std::nullopt;
  return payload;
}

FilterPattern parse_filter_pattern(std::string_view pattern) {
  auto refuse = [&](std::string_view why) {
    return Error(ErrorKind::kInvalidInput, "filterPattern " + escaped(pattern) + " is not supported here: " + std::string(why),
                 "use terms (all must appear), \"quoted phrases\", -term (must not appear), or ?term ?term (any)");
  };
  FilterPattern out;
  std::string_view rest = trim(pattern);
  if (!rest.empty() && (rest.front() == '{' || rest.front() == '[' || rest.front() == '%')) {
    throw refuse("only the term syntax is");
  }
  while (!(rest = trim_left(rest)).empty()) {
    std::vector<std::string>* list = &out.all;
    if (rest.front() == '-' || rest.front() == '?') {
      list = rest.front() == '-' ? &out.none : &out.any;
      rest.remove_prefix(1);
    }
    std::string term;
    if (!rest.empty() && rest.front() == '"') {
      const std::size_t close = rest.find('"', 1);
      if (close == std::string_view::npos) throw refuse("a quote is not closed");
      term = std::string(rest.substr(1, close - 1));
      rest.remove_prefix(close + 1);
    } else {
      std::size_t n = 0;
      while (n < rest.size() && kWhitespace.find(rest[n]) == std::string_view::npos) ++n;
      term = std::string(rest.substr(0, n));
      rest.remove_prefix(n);
    }
    if (term.empty()) throw refuse("an empty term");
    list->push_back(std::move(term));
  }
  if (!out.any.empty() && (!out.all.empty() || !out.none.empty())) throw refuse("?terms mixed with other terms");
  return out;
}

bool FilterPattern::matches(std::string_view message) const {
  for (const auto& t : all) {
    if (message.find(t) == std::string_view::npos) return false;
  }
  for (const auto& t : none) {
    if (message.find(t) != std::string_view::npos) return false;
  }
  if (any.empty()) return true;
  return std::any_of(any.begin(), any.end(), [&](const std::string& t) { return message.find(t) != std::string_view::npos; });
}

// ---- reading lines ----

LineReader::LineReader(int fd, std::uint64_t offset, std::size_t chunk) : fd_(fd), pos_(offset), chunk_(chunk) {}

bool LineReader::fill() {
  if (start_ > 0) {
    buf_.erase(0, start_);
    start_ = 0;
  }
  const std::size_t old = buf_.size();
  buf_.resize(old + chunk_);
  const ssize_t n = pread_full(fd_, buf_.data() + old, chunk_, pos_ + old);
  buf_.resize(old + static_cast<std::size_t>(n));
  return n > 0;
}

std::optional<LineReader::Line> LineReader::next() {
  for (;;) {
    const std::size_t nl = buf_.find('\n', start_);
    if (nl != std::string::npos) {
      const std::uint64_t end = pos_ + (nl - start_) + 1;
      Line line;
      if (long_) {
        line = Line{cut_, long_start_, end};
        long_ = false;
      } else {
        line = Line{std::string_view(buf_).substr(start_, nl - start_), pos_, end};
      }
      start_ = nl + 1;
      pos_ = end;
      return line;
    }
    const std::size_t have = buf_.size() - start_;
    if (!long_ && have > kLongLine) {  // keep the head of a very long line, drop the rest as it comes
      long_ = true;
      long_start_ = pos_;
      cut_.assign(buf_, start_, kLongLine);
    }
    if (long_) {
      pos_ += have;
      start_ = buf_.size();
    }
    if (!fill()) {
      if (long_) {  // not complete yet: read it again from its start next time
        pos_ = long_start_;
        long_ = false;
        buf_.clear();
        start_ = 0;
      }
      return std::nullopt;
    }
  }
}

std::optional<LogEvent> make_event(std::string_view line, std::uint64_t offset, std::uint64_t end,
                                   std::string_view host) {
  auto parsed = parse_event_line(line, host);
  if (!parsed) return std::nullopt;
  std::string_view text = parsed->message;
  if (text.size() > kMaxEventMessage) {
    std::size_t cut = kMaxEventMessage;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // a character's start
    text = text.substr(0, cut);
  }
  return LogEvent{parsed->timestamp, utf8_prefix(text, std::numeric_limits<std::size_t>::max()), offset, end};
}

// ---- a host's log ----

std::optional<HostLog> HostLog::open(const std::string& job_dir, const std::string& host) {
  if (!valid_host_name(host) || job_dir.empty()) return std::nullopt;
  UniqueFd root(::open(job_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw errno_error(errno, "opening a training job's directory", job_dir);
  }
  const std::string rel = "logs/" + host + ".log";
  // O_NONBLOCK: a FIFO planted there must not hang the server (it is refused below).
  UniqueFd fd(beneath::open_at(root.get(), rel, O_RDONLY | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return std::nullopt;
    throw errno_error(errno, "opening a training job's log", job_dir + "/" + rel);
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw errno_error(errno, "reading a training job's log", job_dir + "/" + rel);
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  LineReader reader(fd.get(), 0, 4096);
  auto first = reader.next();
  if (!first) return std::nullopt;
  auto ms = first_line_stamp(first->text);
  if (!ms || *ms < 0) return std::nullopt;
  return HostLog(host, std::move(fd), *ms);
}

std::int64_t HostLog::modified_ms() const {
  struct stat st{};
  if (::fstat(fd_.get(), &st) != 0) return first_ms_;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

std::uint64_t HostLog::complete_end() const {
  struct stat st{};
  if (::fstat(fd_.get(), &st) != 0) throw errno_error(errno, "reading a training job's log", host_);
  std::uint64_t end = static_cast<std::uint64_t>(st.st_size);
  std::string buf;
  while (end > 0) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kBackwardChunk, end));
    buf.resize(n);
    const auto got = static_cast<std::size_t>(pread_full(fd_.get(), buf.data(), n, end - n));
    const std::size_t nl = std::string_view(buf.data(), got).rfind('\n');
    if (nl != std::string_view::npos) return end - n + nl + 1;
    end -= n;
  }
  return 0;
}

bool HostLog::valid_position(std::uint64_t offset) const {
  if (offset == 0) return true;
  if (offset > complete_end()) return false;
  char c = 0;
  return pread_full(fd_.get(), &c, 1, offset - 1) == 1 && c == '\n';
}

std::optional<std::int64_t> HostLog::first_event_ms() const {
  LineReader reader(fd_.get(), 0, kForwardChunk);
  while (reader.position() < kEndScan) {
    auto line = reader.next();
    if (!line) break;
    if (auto ev = parse_event_line(line->text, host_)) return ev->timestamp;
  }
  return std::nullopt;
}

std::optional<std::int64_t> HostLog::last_event_ms() const {
  ReadLimits limits;
  limits.max_events = 1;
  const std::uint64_t end = complete_end();
  ReadPage page = read_backward(end, limits, end > kEndScan ? end - kEndScan : 0);
  if (page.events.empty()) return std::nullopt;
  return page.events.back().timestamp;
}

ReadPage HostLog::read_forward(std::uint64_t offset, const ReadLimits& limits) const {
  ReadPage page;
  LineReader reader(fd_.get(), offset, kForwardChunk);
  std::size_t bytes = 0;
  while (page.events.size() < limits.max_events) {
    const std::uint64_t before = reader.position();
    auto line = reader.next();
    if (!line) break;
    auto ev = make_event(line->text, line->offset, line->end, host_);
    if (!ev) continue;
    if (limits.end_ms && ev->timestamp > *limits.end_ms) {
      page.next = before;  // the read stops here: later events are later still
      return page;
    }
    if (limits.start_ms && ev->timestamp < *limits.start_ms) continue;
    const std::size_t cost = ev->message.size() + kEventOverhead;
    if (!page.events.empty() && bytes + cost > limits.max_bytes) {
      page.next = before;
      return page;
    }
    bytes += cost;
    page.events.push_back(std::move(*ev));
  }
  page.next = reader.position();
  return page;
}

ReadPage HostLog::read_backward(std::uint64_t end, const ReadLimits& limits, std::uint64_t floor) const {
  ReadPage page;
  std::string buf;  // the file's bytes [wstart, cur)
  std::uint64_t wstart = end, cur = end;
  std::size_t bytes = 0;
  while (cur > floor && page.events.size() < limits.max_events) {
    // The line that ends at `cur` (its '\n' is the byte before cur): find its start.
    auto line_start = [&]() -> std::optional<std::uint64_t> {
      const std::size_t rel_end = static_cast<std::size_t>(cur - wstart);
      if (rel_end < 2) return std::nullopt;
      const std::size_t nl = buf.rfind('\n', rel_end - 2);
      if (nl == std::string::npos) return std::nullopt;
      return wstart + nl + 1;
    };
    std::optional<std::uint64_t> start = line_start();
    while (!start && wstart > 0) {
      if (cur - wstart > kMaxBackwardLine) {
        throw Error(ErrorKind::kDataLoss, "a line of the log of " + host_ + " is longer than 16 MiB");
      }
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kBackwardChunk, wstart));
      std::string more(n, '\0');
      pread_full(fd_.get(), more.data(), n, wstart - n);
      buf.insert(0, more);
      wstart -= n;
      start = line_start();
    }
    const std::uint64_t from = start.value_or(0);
    const std::string_view text(buf.data() + (from - wstart), static_cast<std::size_t>(cur - 1 - from));
    if (auto ev = make_event(text, from, cur, host_)) {
      if (limits.start_ms && ev->timestamp < *limits.start_ms) break;
      if (!limits.end_ms || ev->timestamp <= *limits.end_ms) {
        const std::size_t cost = ev->message.size() + kEventOverhead;
        if (!page.events.empty() && bytes + cost > limits.max_bytes) break;
        bytes += cost;
        page.events.push_back(std::move(*ev));
      }
    }
    cur = from;
    buf.resize(static_cast<std::size_t>(cur - wstart));
  }
  std::reverse(page.events.begin(), page.events.end());
  page.next = cur;
  return page;
}

std::uint64_t HostLog::seek_time(std::int64_t ms) const {
  std::uint64_t lo = 0, hi = complete_end();
  while (hi - lo > kForwardChunk) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    LineReader reader(fd_.get(), mid, 4096);
    reader.next();  // the rest of the line mid falls in
    std::optional<LogEvent> ev;
    while (!ev && reader.position() < hi) {
      auto line = reader.next();
      if (!line) break;
      ev = make_event(line->text, line->offset, line->end, host_);
    }
    if (ev && ev->timestamp < ms) {
      lo = ev->offset;
    } else {
      hi = mid;
    }
  }
  return lo;
}

std::vector<StreamInfo> job_streams(const std::string& job_dir, const std::string& job_name) {
  std::vector<StreamInfo> out;
  if (job_dir.empty()) return out;
  UniqueFd root(::open(job_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return out;
  const int logs = beneath::open_at(root.get(), "logs", O_RDONLY | O_DIRECTORY);
  if (logs < 0) return out;
  DIR* dir = ::fdopendir(logs);
  if (dir == nullptr) {
    ::close(logs);
    return out;
  }
  std::vector<std::string> hosts;
  while (const dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name.size() > 4 && name.substr(name.size() - 4) == ".log" && valid_host_name(name.substr(0, name.size() - 4))) {
      hosts.emplace_back(name.substr(0, name.size() - 4));
    }
  }
  ::closedir(dir);
  std::sort(hosts.begin(), hosts.end(),
            [](const std::string& a, const std::string& b) { return host_number(a) < host_number(b); });
  for (const std::string& host : hosts) {
    auto log = HostLog::open(job_dir, host);
    if (!log) continue;
    StreamInfo info;
    info.name = StreamName{job_name, host, log->epoch()};
    info.stream = format_stream_name(info.name);
    info.creation_ms = log->creation_ms();
    info.first_event_ms = log->first_event_ms();
    info.last_event_ms = log->last_event_ms();
    info.last_ingestion_ms = log->modified_ms();
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace sluice::serve
