// The training command's end, in words (exit_status.hpp).
#include "job/exit_status.hpp"

#include <cctype>
#include <cstring>

#include <fmt/format.h>

namespace sluice::job {
namespace {

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

}  // namespace

std::string describe_status(int exit_code, int term_signal) {
  if (term_signal != 0) return fmt::format("killed by signal {} ({})", term_signal, signal_name(term_signal));
  return fmt::format("exited with code {}", exit_code);
}

std::optional<long> json_number(const std::string& json, std::string_view key) {
  std::string quoted = fmt::format("\"{}\"", key);
  std::size_t at = json.find(quoted);
  if (at == std::string::npos) return std::nullopt;
  at = json.find(':', at + quoted.size());
  if (at == std::string::npos) return std::nullopt;
  ++at;
  while (at < json.size() && json[at] == ' ') ++at;
  std::size_t end = at;
  while (end < json.size() && (std::isdigit(static_cast<unsigned char>(json[end])) || json[end] == '-')) ++end;
  if (end == at) return std::nullopt;
  return std::stol(json.substr(at, end - at));
}

std::string describe_run(const RunResult& r, bool kill_sent, std::chrono::seconds max_runtime,
                         std::chrono::milliseconds stop_grace) {
  std::string how = describe_status(r.exit_code, r.term_signal);
  if (r.timed_out || r.stopped_by_user) {
    std::string why = r.timed_out ? fmt::format("MaxRuntimeInSeconds ({} s) reached", max_runtime.count())
                                  : std::string("stop requested");
    std::string sent = kill_sent ? fmt::format("SIGTERM, then SIGKILL {} ms later", stop_grace.count())
                                 : std::string("SIGTERM");
    how = fmt::format("{}: sent {}; the command {}{}", why, sent, r.term_signal != 0 ? "was " : "", how);
  }
  return how;
}

}  // namespace sluice::job
