// The transport: libcurl multi handles driven by event-loop threads, with a shared pool of
// keep-alive connections per loop and a cap on concurrent transfers.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "http/request.hpp"

namespace sluice::http {

struct ClientOptions {
  int max_connections = 64;  // transfers in flight across all loops
  int loops = 2;             // event-loop threads (receiving + sink work spreads over them)
  std::chrono::milliseconds connect_timeout{10'000};
  bool verify_tls = true;    // false: an https peer's certificate and host name are not checked
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();  // aborts what is in flight (each done() runs with curl_code CURLE_ABORTED_BY_CALLBACK)
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts one attempt. `sink` (may be empty) receives a 2xx body; `done` runs exactly once on
  // an I/O thread. Neither may block for long: they run on the event loop.
  void start(Request request, Sink sink, std::function<void(Outcome)> done);

  // Runs fn on an I/O thread after delay (used for retry backoff).
  void run_after(std::chrono::milliseconds delay, std::function<void()> fn);

  // Blocking convenience: one attempt, body collected in Response::body.
  Outcome perform(Request request);

  const ClientOptions& options() const { return options_; }

 private:
  class Loop;
  ClientOptions options_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<unsigned> next_{0};
  std::atomic<bool> closing_{false};
};

}  // namespace sluice::http
