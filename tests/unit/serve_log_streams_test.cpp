// Log streams of training jobs (serve/log_streams.hpp): stamps, event lines, stream names, sealed
// tokens, the filter pattern, and reads of a host log forward, backward and by time, while the
// file is appended to (a partial last line is never read); links and FIFOs are not followed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "serve/log_streams.hpp"
#include "support/expect_error.hpp"
#include "support/log_stamp.hpp"
#include "support/temp_dir.hpp"

namespace sluice::serve {
namespace {

using sluice::testing::expect_error;
using sluice::testing::TempDir;

constexpr std::int64_t kT0 = 1796487601000;  // 2026-12-05T16:20:01.000Z

std::string stamp(std::int64_t ms) { return sluice::testing::log_stamp(ms); }

void append(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f << text;
}

std::string event_line(std::int64_t ms, const std::string& text, const std::string& host = "algo-1") {
  return stamp(ms) + " [" + host + "] " + text + "\n";
}

std::string marker(std::int64_t ms, const std::string& host = "algo-1") {
  return "===== " + stamp(ms) + " sluice train: first run of training job 'job' on " + host + " =====\n";
}

std::vector<std::string> messages(const ReadPage& page) {
  std::vector<std::string> out;
  for (const auto& e : page.events) out.push_back(e.message);
  return out;
}

struct LogDir {
  TempDir tmp;
  std::string job_dir = tmp / "job";
  LogDir() { std::filesystem::create_directories(job_dir + "/logs"); }
  std::string log(const std::string& host = "algo-1") const { return job_dir + "/logs/" + host + ".log"; }
};

TEST(LogStamps, ParseTheLogAndMarkerFormats) {
  EXPECT_EQ(parse_utc_stamp("2026-12-05T16:20:01.123Z"), kT0 + 123);
  EXPECT_EQ(parse_utc_stamp("2026-12-05T16:20:01.123456+00:00"), kT0 + 123);
  EXPECT_EQ(parse_utc_stamp("2026-12-05T16:20:01Z"), kT0);
  EXPECT_EQ(parse_utc_stamp("2026-12-05T16:20:01.5Z"), kT0 + 500);
  for (const char* bad : {"", "=====", "2026-12-05 16:20:01Z", "2026-13-05T16:20:01Z", "2026-12-05T16:20:01",
                          "2026-12-05T16:20:01.Z", "2026-12-05T16:20:01.1+01:00", "2026-12-05T16:20:01Zx"}) {
    EXPECT_FALSE(parse_utc_stamp(bad)) << bad;
  }
}

TEST(LogLines, MessageIsTheCommandsLineAlone) {
  auto ev = parse_event_line("2026-12-05T16:20:01.123Z [algo-1] epoch 1 loss=0.5", "algo-1");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->timestamp, kT0 + 123);
  EXPECT_EQ(ev->message, "epoch 1 loss=0.5");
  EXPECT_EQ(parse_event_line("2026-12-05T16:20:01.123Z [algo-1] ", "algo-1")->message, "");
  EXPECT_EQ(parse_event_line("2026-12-05T16:20:01.123Z [algo-2] x", "algo-1")->message, "[algo-2] x");
  EXPECT_FALSE(parse_event_line(marker(kT0).substr(0, marker(kT0).size() - 1), "algo-1"));
  EXPECT_FALSE(parse_event_line("no stamp here", "algo-1"));
}

TEST(LogStreamNames, RoundTripAndRefuseOthers) {
  StreamName n{"my-job-1", "algo-2", 1796487601};
  EXPECT_EQ(format_stream_name(n), "my-job-1/algo-2-1796487601");
  EXPECT_EQ(parse_stream_name("my-job-1/algo-2-1796487601"), n);
  for (const char* bad : {"my-job", "my-job/algo-2", "my-job/algo-0-1", "my-job/algo-02-1", "my-job/algo-2-01",
                          "../x/algo-1-1", "-job/algo-1-1", "job-/algo-1-1", "job/algo-1-1/x", "job/..-1",
                          "job/algo-x-1", "/algo-1-1", "job/algo-1-"}) {
    EXPECT_FALSE(parse_stream_name(bad)) << bad;
  }
}

TEST(LogTokens, SealedToTheirContextAndRefusedWhenChanged) {
  const std::string t = seal("1234", "job/algo-1-5");
  EXPECT_EQ(unseal(t, "job/algo-1-5"), "1234");
  EXPECT_FALSE(unseal(t, "job/algo-2-5"));  // another stream's
  std::string tampered = t;
  tampered[0] = '9';
  EXPECT_FALSE(unseal(tampered, "job/algo-1-5"));
  EXPECT_FALSE(unseal("1234", "job/algo-1-5"));
  EXPECT_FALSE(unseal("", "job/algo-1-5"));
}

TEST(LogFilterPattern, TermsPhrasesExclusionsAndAny) {
  auto p = parse_filter_pattern("ERROR \"disk full\" -retrying");
  EXPECT_TRUE(p.matches("ERROR: disk full on /opt/ml"));
  EXPECT_FALSE(p.matches("ERROR: disk is full"));
  EXPECT_FALSE(p.matches("ERROR: disk full, retrying"));
  EXPECT_FALSE(p.matches("error: disk full"));  // case matters, as in CloudWatch
  auto any = parse_filter_pattern("?WARN ?ERROR");
  EXPECT_TRUE(any.matches("a WARN"));
  EXPECT_TRUE(any.matches("an ERROR"));
  EXPECT_FALSE(any.matches("INFO"));
  EXPECT_TRUE(parse_filter_pattern("").matches("anything"));
  EXPECT_TRUE(parse_filter_pattern("  ").matches("anything"));
  for (const char* bad : {"{ $.level = \"x\" }", "[ip, user]", "%ERR.*%", "\"open", "?A B", "-"}) {
    expect_error([&] { parse_filter_pattern(bad); }, ErrorKind::kInvalidInput, {"not supported"});
  }
}

TEST(HostLogs, StreamEpochIsTheFirstLinesTimeAndStable) {
  LogDir d;
  EXPECT_FALSE(HostLog::open(d.job_dir, "algo-1"));  // no file: no stream yet
  append(d.log(), "===== 2026-12-05T16:20");         // no complete first line yet
  EXPECT_FALSE(HostLog::open(d.job_dir, "algo-1"));
  append(d.log(), ":01.654321+00:00 sluice train: first run of training job 'job' on algo-1 =====\n");
  auto log = HostLog::open(d.job_dir, "algo-1");
  ASSERT_TRUE(log);
  EXPECT_EQ(log->epoch(), kT0 / 1000);
  EXPECT_EQ(log->creation_ms(), kT0 + 654);
  append(d.log(), event_line(kT0 + 5000, "later"));
  EXPECT_EQ(HostLog::open(d.job_dir, "algo-1")->epoch(), kT0 / 1000);
  EXPECT_FALSE(HostLog::open(d.job_dir, "../job/logs/algo-1"));
  EXPECT_FALSE(HostLog::open(d.job_dir, "algo-01"));
}

TEST(HostLogs, LinksAndFifosAreNotStreams) {
  LogDir d;
  append(d.tmp / "elsewhere.log", marker(kT0) + event_line(kT0, "secret"));
  std::filesystem::create_symlink(d.tmp / "elsewhere.log", d.log("algo-1"));
  EXPECT_FALSE(HostLog::open(d.job_dir, "algo-1"));
  ASSERT_EQ(::mkfifo(d.log("algo-2").c_str(), 0600), 0);
  EXPECT_FALSE(HostLog::open(d.job_dir, "algo-2"));  // and does not hang
  // logs/ itself a link: not followed either.
  LogDir e;
  std::filesystem::remove(e.job_dir + "/logs");
  std::filesystem::create_directories(d.tmp / "other");
  append(d.tmp / "other/algo-1.log", marker(kT0) + event_line(kT0, "secret"));
  std::filesystem::create_symlink(d.tmp / "other", e.job_dir + "/logs");
  EXPECT_FALSE(HostLog::open(e.job_dir, "algo-1"));
  EXPECT_TRUE(job_streams(e.job_dir, "job").empty());
}

TEST(HostLogs, ForwardPagesAndPartialLastLine) {
  LogDir d;
  append(d.log(), marker(kT0));
  for (int i = 0; i < 5; ++i) append(d.log(), event_line(kT0 + i * 1000, "line " + std::to_string(i)));
  append(d.log(), stamp(kT0 + 9000) + " [algo-1] half");  // no newline yet
  auto log = *HostLog::open(d.job_dir, "algo-1");
  ReadLimits two;
  two.max_events = 2;
  ReadPage p1 = log.read_forward(0, two);
  EXPECT_THAT(messages(p1), ::testing::ElementsAre("line 0", "line 1"));
  ReadPage p2 = log.read_forward(p1.next, two);
  EXPECT_THAT(messages(p2), ::testing::ElementsAre("line 2", "line 3"));
  ReadPage p3 = log.read_forward(p2.next, two);
  EXPECT_THAT(messages(p3), ::testing::ElementsAre("line 4"));  // not the half line
  EXPECT_EQ(log.read_forward(p3.next, two).next, p3.next);      // nothing new: same position
  EXPECT_EQ(log.complete_end(), p3.next);
  EXPECT_FALSE(log.valid_position(p3.next + 3));
  EXPECT_FALSE(log.valid_position(p1.next - 1));
  EXPECT_TRUE(log.valid_position(p1.next));
  append(d.log(), " done\n");
  ReadPage p4 = log.read_forward(p3.next, two);
  EXPECT_THAT(messages(p4), ::testing::ElementsAre("half done"));
  EXPECT_EQ(p4.events[0].timestamp, kT0 + 9000);
  EXPECT_EQ(log.first_event_ms(), kT0);
  EXPECT_EQ(log.last_event_ms(), kT0 + 9000);
}

TEST(HostLogs, TimeBoundsByteLimitAndBackward) {
  LogDir d;
  append(d.log(), marker(kT0));
  std::string lines;
  for (int i = 0; i < 6000; ++i) lines += event_line(kT0 + i * 10, "event " + std::to_string(1000 + i));
  append(d.log(), lines);
  append(d.log(), "half");
  auto log = *HostLog::open(d.job_dir, "algo-1");
  ReadLimits window;
  window.start_ms = kT0 + 10 * 4000;
  window.end_ms = kT0 + 10 * 4002;
  const std::uint64_t from = log.seek_time(*window.start_ms);
  EXPECT_GT(from, 0u);
  EXPECT_THAT(messages(log.read_forward(from, window)), ::testing::ElementsAre("event 5000", "event 5001", "event 5002"));
  EXPECT_THAT(messages(log.read_forward(0, window)), ::testing::ElementsAre("event 5000", "event 5001", "event 5002"));
  ReadPage stopped = log.read_forward(from, window);
  EXPECT_EQ(log.read_forward(stopped.next, window).events.size(), 0u);  // past endTime: stays
  EXPECT_EQ(log.read_forward(stopped.next, window).next, stopped.next);

  ReadLimits small;
  small.max_bytes = 10 * (10 + kEventOverhead);  // "event NNNN" is 10 bytes
  EXPECT_EQ(log.read_forward(log.seek_time(kT0 + 10000), small).events.size(), 10u);

  ReadLimits three;
  three.max_events = 3;
  ReadPage last = log.read_backward(log.complete_end(), three);
  EXPECT_THAT(messages(last), ::testing::ElementsAre("event 6997", "event 6998", "event 6999"));
  ReadPage before = log.read_backward(last.next, three);
  EXPECT_THAT(messages(before), ::testing::ElementsAre("event 6994", "event 6995", "event 6996"));
  ReadPage head = log.read_backward(log.read_forward(0, three).next, three);
  EXPECT_THAT(messages(head), ::testing::ElementsAre("event 1000", "event 1001", "event 1002"));
  EXPECT_EQ(log.read_backward(head.next, three).events.size(), 0u);
  EXPECT_EQ(log.read_backward(head.next, three).next, 0u);
}

TEST(HostLogs, LongLinesAreCutToAnEvent) {
  LogDir d;
  append(d.log(), marker(kT0));
  append(d.log(), stamp(kT0) + " [algo-1] " + std::string(300 * 1024, 'x'));
  auto log = *HostLog::open(d.job_dir, "algo-1");
  EXPECT_TRUE(log.read_forward(0, {}).events.empty());  // not complete
  append(d.log(), "\n" + event_line(kT0 + 1, "after"));
  ReadPage page = log.read_forward(0, {});
  ASSERT_EQ(page.events.size(), 2u);
  EXPECT_EQ(page.events[0].message.size(), kMaxEventMessage);
  EXPECT_EQ(page.events[1].message, "after");
  ReadPage back = log.read_backward(log.complete_end(), {});
  ASSERT_EQ(back.events.size(), 2u);
  EXPECT_EQ(back.events[0].message.size(), kMaxEventMessage);
}

TEST(HostLogs, InvalidUtf8IsReplaced) {
  LogDir d;
  append(d.log(), marker(kT0) + event_line(kT0, std::string("bad \xff byte")));
  auto log = *HostLog::open(d.job_dir, "algo-1");
  EXPECT_EQ(log.read_forward(0, {}).events.at(0).message, "bad \xEF\xBF\xBD byte");
}

TEST(JobStreams, OnePerHostWithALineInHostOrder) {
  LogDir d;
  for (int h : {10, 2, 1}) {
    const std::string host = "algo-" + std::to_string(h);
    append(d.log(host), marker(kT0 + h * 1000, host) + event_line(kT0 + h * 1000 + 1, "hi", host));
  }
  append(d.log("algo-3"), "");                   // empty: no stream yet
  append(d.job_dir + "/logs/notes.log", "x\n");  // not a host
  auto streams = job_streams(d.job_dir, "job");
  ASSERT_EQ(streams.size(), 3u);
  EXPECT_EQ(streams[0].stream, "job/algo-1-" + std::to_string(kT0 / 1000 + 1));
  EXPECT_EQ(streams[1].stream, "job/algo-2-" + std::to_string(kT0 / 1000 + 2));
  EXPECT_EQ(streams[2].stream, "job/algo-10-" + std::to_string(kT0 / 1000 + 10));
  EXPECT_EQ(streams[0].first_event_ms, kT0 + 1001);
  EXPECT_EQ(streams[0].last_event_ms, kT0 + 1001);
  EXPECT_TRUE(job_streams(d.tmp / "missing", "job").empty());
  EXPECT_TRUE(job_streams("", "job").empty());
}

}  // namespace
}  // namespace sluice::serve
