// The CloudWatch Logs view of a training job's output (serve/logs_service.hpp serves it): which
// log streams a job has, and its events read straight from the host logs `sluice train` writes.
//
// Layout, as SageMaker's: one log group, /aws/sagemaker/TrainingJobs, and one stream per host,
// `<TrainingJobName>/algo-K-<epoch>`. A host's stream is its file `<job dir>/logs/algo-K.log`
// (job/line_sink.cpp): each line `<UTC stamp> [algo-K] <text>` is an event whose timestamp is the
// stamp (milliseconds) and whose message is `<text>`, the command's line alone. Other lines (the
// `===== ... sluice train: ... run ... =====` marker a run starts with) are not events.
//
// The epoch in the stream's name is the time (seconds) of the file's first line: the marker
// `sluice train` writes when the host starts, so it is stable across calls and server restarts
// (it is in the file) and changes only when the log is made anew (`--replace`). A file without a
// complete first line has no stream yet (SageMaker's streams also appear with their first output).
// A `--resume` run appends to the same file, so it continues the same stream.
//
// Lines are appended while the job runs: only complete lines (ended by '\n') are ever read; a
// last line still being written is returned once its newline is there. Positions are byte offsets
// of line starts; tokens (seal/unseal) carry them with a check bound to the stream and the query.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/unique_fd.hpp"

namespace sluice::serve {

inline constexpr std::string_view kTrainingJobsLogGroup = "/aws/sagemaker/TrainingJobs";

// CloudWatch's bounds: an event's message is at most 256 KiB (a longer line is cut), a response
// at most 1 MiB of events, each counted as its message's bytes plus 26.
inline constexpr std::size_t kMaxEventMessage = 256 * 1024;
inline constexpr std::size_t kMaxResponseBytes = 1024 * 1024;
inline constexpr std::size_t kEventOverhead = 26;

// "2026-12-05T16:20:01.123Z" or "2026-12-05T16:20:01.123456+00:00" (any number of fraction
// digits, or none) as milliseconds since the epoch; nothing for anything else.
std::optional<std::int64_t> parse_utc_stamp(std::string_view text);

// One line of a host log (without its '\n') as an event: its stamp and its message (the text after
// "<stamp> [host] "; after "<stamp> " when the prefix is another). Nothing for lines that are not
// events (the run marker, a line without a stamp).
struct LineEvent {
  std::int64_t timestamp = 0;
  std::string_view message;
};
std::optional<LineEvent> parse_event_line(std::string_view line, std::string_view host);

// `<job>/<host>-<epoch>` and back. A host is "algo-<digits>"; a job name is SageMaker's
// ([A-Za-z0-9] with single '-' inside, at most 63). Anything else is nothing.
struct StreamName {
  std::string job;
  std::string host;
  std::int64_t epoch = 0;
  bool operator==(const StreamName&) const = default;
};
std::string format_stream_name(const StreamName& name);
std::optional<StreamName> parse_stream_name(std::string_view text);
bool valid_host_name(std::string_view host);

// A token: `payload` followed by a check (16 hex digits of SHA-256 over `context` and payload).
// unseal gives the payload back only when the check matches the same context (the stream or the
// query the token was made for). Not a secret: what a token can name is checked again against
// the file (a position inside the stream's complete lines, at a line start), so a forged one gives
// nothing its caller could not read anyway; the check refuses damaged tokens and tokens of
// another stream or query.
std::string seal(std::string_view payload, std::string_view context);
std::optional<std::string> unseal(std::string_view token, std::string_view context);

// FilterLogEvents' filterPattern, the term syntax of unstructured logs: `ERROR timeout` (every
// term appears), `"an exact phrase"`, `-term` (does not appear), `?ERROR ?WARN` (any of them; not
// mixed with other terms). Case-sensitive substrings, as CloudWatch matches terms. "" matches every
// event. Other syntaxes (JSON `{ ... }`, space-delimited `[ ... ]`, `%regex%`) throw
// Error(kInvalidInput) saying what is supported.
struct FilterPattern {
  std::vector<std::string> all, none, any;
  bool matches(std::string_view message) const;
};
FilterPattern parse_filter_pattern(std::string_view pattern);

// One event read from a log: where its line starts and ends (after the '\n').
struct LogEvent {
  std::int64_t timestamp = 0;
  std::string message;
  std::uint64_t offset = 0;
  std::uint64_t end = 0;
};

// Reads complete lines forward from an offset, through a buffer of `chunk` bytes (grown only for
// a long line). A line longer than kMaxEventMessage + 1 KiB is given cut, and the rest of it skipped.
class LineReader {
 public:
  LineReader(int fd, std::uint64_t offset, std::size_t chunk);
  struct Line {
    std::string_view text;  // valid until the next call
    std::uint64_t offset = 0, end = 0;
  };
  // The next complete line, or nothing when the file has no complete line after position().
  std::optional<Line> next();
  std::uint64_t position() const { return long_ ? long_start_ : pos_; }  // the start of the next line

 private:
  bool fill();  // reads more after the buffer; false at the end of the file
  int fd_;
  std::uint64_t pos_;         // file offset of buf_[start_]
  std::size_t chunk_;
  std::string buf_;
  std::size_t start_ = 0;     // first unread byte in buf_
  bool long_ = false;          // a line longer than the buffer keeps is being read
  std::uint64_t long_start_ = 0;
  std::string cut_;            // its head
};

// What a read returns at most, and which events it keeps.
struct ReadLimits {
  std::size_t max_events = 10000;
  std::size_t max_bytes = kMaxResponseBytes;
  std::optional<std::int64_t> start_ms, end_ms;  // inclusive bounds on the timestamp
};
struct ReadPage {
  std::vector<LogEvent> events;  // in file order
  // Forward: where the next read starts (after the last line read). Backward: the start of the
  // earliest line read (the next backward read ends there).
  std::uint64_t next = 0;
};

// A host's log file, opened below the job directory without following a link.
class HostLog {
 public:
  // `job_dir`/logs/`host`.log. Nothing when the host name is not valid, the file is missing, is
  // not a regular file, or has no complete first line with a stamp. Throws Error for other failures.
  static std::optional<HostLog> open(const std::string& job_dir, const std::string& host);

  const std::string& host() const { return host_; }
  std::int64_t epoch() const { return first_ms_ / 1000; }
  std::int64_t creation_ms() const { return first_ms_; }
  int fd() const { return fd_.get(); }
  std::int64_t modified_ms() const;

  // The end of the last complete line now (the file grows meanwhile).
  std::uint64_t complete_end() const;
  // Whether `offset` may start a read: 0, or just after a '\n', at most complete_end().
  bool valid_position(std::uint64_t offset) const;

  // The first and last events' timestamps (reads at most 1 MiB from either end).
  std::optional<std::int64_t> first_event_ms() const;
  std::optional<std::int64_t> last_event_ms() const;

  // Events from `offset` on, in order. With limits.end_ms the read stops before the first event
  // after it (the events are in time order); events before start_ms are skipped.
  ReadPage read_forward(std::uint64_t offset, const ReadLimits& limits) const;
  // The last events before `end` (a line start), in file order; stops at the first event before
  // start_ms, skips those after end_ms, and starts no line once it has reached `floor` (0: the
  // whole file may be read).
  ReadPage read_backward(std::uint64_t end, const ReadLimits& limits, std::uint64_t floor = 0) const;
  // A line start at or before the first event at or after `ms` (a binary search on the stamps,
  // which are in time order as they were written).
  std::uint64_t seek_time(std::int64_t ms) const;

 private:
  HostLog(std::string host, UniqueFd fd, std::int64_t first_ms)
      : host_(std::move(host)), fd_(std::move(fd)), first_ms_(first_ms) {}
  std::string host_;
  UniqueFd fd_;
  std::int64_t first_ms_ = 0;
};

// The event a line makes in a host's log, with its message cut to kMaxEventMessage (at a UTF-8
// character boundary); nothing for a line that is not an event.
std::optional<LogEvent> make_event(std::string_view line, std::uint64_t offset, std::uint64_t end,
                                   std::string_view host);

// The streams of a job: one per host log with a stream, in host order (algo-2 before algo-10).
struct StreamInfo {
  StreamName name;
  std::string stream;  // format_stream_name(name)
  std::int64_t creation_ms = 0;
  std::optional<std::int64_t> first_event_ms, last_event_ms;
  std::int64_t last_ingestion_ms = 0;  // the file's modification time
};
std::vector<StreamInfo> job_streams(const std::string& job_dir, const std::string& job_name);

}  // namespace sluice::serve
