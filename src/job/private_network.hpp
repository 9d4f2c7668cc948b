// The network of a multi-tenant job's command: a network namespace of its own, with only a
// loopback interface, where the only thing it can reach is what the job is allowed to reach —
// the object store's endpoint, when the job has scoped store credentials and no
// EnableNetworkIsolation. Sluice listens inside the namespace on the endpoint's own address
// (127.0.0.1:PORT) and relays each connection to the real endpoint on the host, so training code
// keeps using AWS_ENDPOINT_URL unchanged. Nothing else on the host's loopback (other jobs, Sluice's
// own servers, the store's admin ports) and no other host is reachable, and nothing on the host can
// see the job's traffic (the command has no capabilities either: sandbox.hpp run_as).
//
// The command is hostile code, so the relay is bounded whatever it does: one thread (a poll loop
// over non-blocking sockets) relays every connection, at most kMaxRelays at once with two buffers of
// kRelayBuffer bytes each; connections beyond the cap wait in the listen backlog until an earlier
// one ends, and errors that say Sluice is short of fds or memory pause accepting for a moment
// rather than spin. Nothing the command does makes Sluice start threads or terminate.
//
// Creating a namespace needs CAP_SYS_ADMIN (Sluice runs as root in multi-tenant mode).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "core/unique_fd.hpp"

namespace sluice::job {

struct Forward {
  std::string listen_host;  // inside the namespace: a loopback address, e.g. 127.0.0.1
  uint16_t port = 0;        // the same port on both sides
  std::string target_host;  // on the host: where the connection goes
};

// The loopback endpoint of `endpoint_url` ("http://127.0.0.1:7480" -> {127.0.0.1, 7480}); nothing
// for an endpoint that is not a loopback address with an explicit port or scheme default.
std::vector<Forward> loopback_forward(const std::string& endpoint_url);

class PrivateNetwork {
 public:
  // Connections relayed at once; further ones wait, unaccepted, in the listen backlog.
  static constexpr size_t kMaxRelays = 64;
  // Bytes buffered per direction of a relayed connection.
  static constexpr size_t kRelayBuffer = 64 * 1024;

  // Makes the namespace (loopback up) and its listeners; throws errno errors naming the step.
  explicit PrivateNetwork(std::vector<Forward> forwards);
  // Closes the listeners and every relayed connection (held ones too) without waiting for them.
  ~PrivateNetwork();
  PrivateNetwork(const PrivateNetwork&) = delete;
  PrivateNetwork& operator=(const PrivateNetwork&) = delete;

  // An fd of the namespace, for setns(2) in the sandbox's child (SandboxSpec::netns_fd).
  int fd() const { return ns_.get(); }

 private:
  void serve();  // the relay loop, on server_; owns every relayed connection

  std::vector<Forward> forwards_;
  UniqueFd ns_;
  std::vector<UniqueFd> listeners_;  // index-aligned with forwards_; non-blocking
  UniqueFd wake_[2];                 // ends the relay loop
  std::atomic<bool> stopping_{false};
  std::thread server_;
};

}  // namespace sluice::job
