#include "cli/progress_reporter.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/human_size.hpp"

namespace sluice::cli {

std::string human_bytes(double b) { return human_size(b, 0); }

ProgressReporter::ProgressReporter(const transfer::Progress& progress, OutputStyle style, std::string verb)
    : progress_(progress), style_(style), verb_(std::move(verb)), tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {
  if (style_ == OutputStyle::kHuman && tty_) {
    thread_ = std::thread([this] {
      while (!stop_) {
        render(false);
        for (int i = 0; i < 5 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
}

ProgressReporter::~ProgressReporter() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

double ProgressReporter::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressReporter::render(bool) {
  double secs = std::max(1e-3, elapsed_seconds());
  double moved = static_cast<double>(progress_.done_bytes - progress_.skipped_bytes);
  double total = static_cast<double>(progress_.total_bytes);
  double done = static_cast<double>(progress_.done_bytes);
  double rate = moved / secs;
  std::string eta = "--";
  if (rate > 0 && total > done) eta = fmt::format("{:.0f}s", (total - done) / rate);
  int pct = total > 0 ? static_cast<int>(100.0 * done / total) : 100;
  fmt::print(stderr, "\r\033[K{} / {} ({}%)  {}/{} objects  {}/s  ETA {}", human_bytes(done), human_bytes(total), pct,
             progress_.done_files.load(), progress_.total_files.load(), human_bytes(rate), eta);
  std::fflush(stderr);
}

void ProgressReporter::finish(uint64_t failed_files) {
  if (finished_) return;
  finished_ = true;
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  double secs = elapsed_seconds();
  uint64_t files = progress_.done_files - progress_.skipped_files;
  uint64_t bytes = progress_.done_bytes - progress_.skipped_bytes;
  double rate = static_cast<double>(bytes) / std::max(1e-3, secs);
  if (style_ == OutputStyle::kJson) {
    nlohmann::json j = {{"operation", verb_},           {"objects", files},
                        {"bytes", bytes},               {"skipped_objects", progress_.skipped_files.load()},
                        {"skipped_bytes", progress_.skipped_bytes.load()}, {"failed_objects", failed_files},
                        {"seconds", secs},              {"bytes_per_second", rate},
                        {"objects_per_second", static_cast<double>(files) / std::max(1e-3, secs)}};
    fmt::print("{}\n", j.dump());
    return;
  }
  if (style_ == OutputStyle::kQuiet) return;
  if (tty_) fmt::print(stderr, "\r\033[K");
  std::string line = fmt::format("{} {} objects, {} in {:.2f}s ({}/s, {:.0f} objects/s)", verb_, files,
                                 human_bytes(static_cast<double>(bytes)), secs, human_bytes(rate),
                                 static_cast<double>(files) / std::max(1e-3, secs));
  if (progress_.skipped_files > 0) {
    line += fmt::format("; skipped {} already complete ({})", progress_.skipped_files.load(),
                        human_bytes(static_cast<double>(progress_.skipped_bytes)));
  }
  if (failed_files > 0) line += fmt::format("; {} FAILED", failed_files);
  fmt::print(stderr, "{}\n", line);
}

}  // namespace sluice::cli
