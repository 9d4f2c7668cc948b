// libfuse's messages in Sluice's log, and collected for a failed mount's Error (fuse_log.hpp).
#include "modes/fastfile/fuse_log.hpp"

#include "modes/fastfile/fuse_ops.hpp"  // first of the FUSE includes: it sets FUSE_USE_VERSION

#include <cstdarg>
#include <cstdio>
#include <mutex>

#include "core/log.hpp"

namespace sluice::modes::fastfile {
namespace {

thread_local std::string* t_capture = nullptr;

void fuse_log_to_spdlog(enum fuse_log_level level, const char* fmt, va_list ap) {
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  std::string s(buf);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.empty()) return;
  if (t_capture != nullptr) {
    if (!t_capture->empty()) t_capture->append("; ");
    t_capture->append(s);
    log::debug("libfuse: {}", s);
    return;
  }
  if (level <= FUSE_LOG_WARNING) {
    log::warn("libfuse: {}", s);
  } else {
    log::debug("libfuse: {}", s);
  }
}

}  // namespace

void route_fuse_log() {
  static std::once_flag once;
  std::call_once(once, [] { fuse_set_log_func(fuse_log_to_spdlog); });
}

CaptureFuseLog::CaptureFuseLog() { t_capture = &text_; }
CaptureFuseLog::~CaptureFuseLog() { t_capture = nullptr; }

}  // namespace sluice::modes::fastfile
