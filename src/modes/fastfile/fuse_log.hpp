// libfuse's log messages go to Sluice's log (warnings and errors as warnings, the rest as debug);
// while a thread mounts, they are also collected, so that a failed mount's Error says why.
#pragma once

#include <string>

namespace sluice::modes::fastfile {

// Routes libfuse's messages to our log (once per process; later calls do nothing).
void route_fuse_log();

// While alive, libfuse's messages on this thread are also collected ("; "-separated) in text().
class CaptureFuseLog {
 public:
  CaptureFuseLog();
  ~CaptureFuseLog();
  CaptureFuseLog(const CaptureFuseLog&) = delete;
  CaptureFuseLog& operator=(const CaptureFuseLog&) = delete;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace sluice::modes::fastfile
