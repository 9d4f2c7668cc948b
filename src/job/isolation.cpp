// Which isolation a sandbox gets on this machine: Isolation's names, whether bubblewrap can run
// (bwrap_probe.hpp), and kAuto resolved, with the "no isolation" warning once per process
// (sandbox.hpp).
#include <atomic>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/log.hpp"
#include "job/bwrap_probe.hpp"
#include "job/sandbox.hpp"

namespace sluice::job {
namespace {

std::atomic<bool> g_warned_no_isolation{false};

}  // namespace

std::string_view to_string(Isolation isolation) {
  switch (isolation) {
    case Isolation::kAuto: return "auto";
    case Isolation::kBubblewrap: return "bubblewrap";
    case Isolation::kNone: return "none";
  }
  return "unknown";
}

bool bubblewrap_available(std::string* why_not) {
  const Probe& p = probe();
  if (why_not != nullptr) *why_not = p.why_not;
  return p.ok;
}

Isolation resolve_isolation(Isolation requested) {
  if (requested == Isolation::kNone) return Isolation::kNone;
  std::string why;
  if (bubblewrap_available(&why)) return Isolation::kBubblewrap;
  if (requested == Isolation::kBubblewrap) {
    throw Error(ErrorKind::kInvalidInput, "bubblewrap isolation was requested but cannot run here", why);
  }
  if (!g_warned_no_isolation.exchange(true)) {
    log::warn("bubblewrap cannot run here ({}): training commands run WITHOUT isolation, directly "
              "on this machine. /opt/ml is not mounted: scripts must take their paths from the "
              "SM_* variables; read-only channels and network isolation are not enforced.",
              why);
  }
  return Isolation::kNone;
}

}  // namespace sluice::job
