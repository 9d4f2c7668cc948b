#include <atomic>
#include <csignal>

#include "cli/commands.hpp"

namespace sluice::cli {
namespace {
// Set by the handler (any thread), read by other threads (e.g. the mount's watcher): a lock-free
// atomic, which is async-signal-safe; a volatile sig_atomic_t is only safe within one thread.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);
extern "C" void on_signal(int) { g_interrupted.store(true); }
}  // namespace

bool interrupted() { return g_interrupted.load(); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace sluice::cli
