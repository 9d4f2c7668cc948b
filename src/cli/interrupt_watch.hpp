// Runs `cancel` when the user interrupts (SIGINT/SIGTERM, see signals.cpp), until destroyed: for
// work that waits on other threads and cannot poll interrupted() itself.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "cli/commands.hpp"

namespace sluice::cli {

class InterruptWatch {
 public:
  explicit InterruptWatch(std::function<void()> cancel) : thread_([this, cancel = std::move(cancel)] {
      while (!done_) {
        if (interrupted()) {
          cancel();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }) {}
  ~InterruptWatch() {
    done_ = true;
    thread_.join();
  }
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace sluice::cli
