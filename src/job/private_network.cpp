#include "job/private_network.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <system_error>

#include <fmt/core.h>

#include "core/error.hpp"
#include "core/log.hpp"

namespace sluice::job {
namespace {

bool loopback_v4(const std::string& host, in_addr& out) {
  if (host == "localhost") return ::inet_pton(AF_INET, "127.0.0.1", &out) == 1;
  return ::inet_pton(AF_INET, host.c_str(), &out) == 1 && (ntohl(out.s_addr) >> 24) == 127;
}

sockaddr_in address(const std::string& host, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  loopback_v4(host, a.sin_addr);
  return a;
}

// The backlog is where connections beyond kMaxRelays wait: big enough that a burst of them
// completes its handshake and waits for a relay instead of retrying SYNs for seconds. They are the
// command's own connections in the job's own namespace, charged to its own fds.
constexpr int kBacklog = 256;
// How long accepting pauses after an error that says Sluice is short of fds or memory.
constexpr auto kPause = std::chrono::milliseconds(100);
// Buffers one direction of a connection moves per wake-up before the others get their turn.
constexpr int kRoundsPerWake = 16;

// Errors that say Sluice (or the host) is short of something for now: retrying at once would spin.
bool shortage(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM || err == EADDRNOTAVAIL || err == EAGAIN;
}

// One direction of a relayed connection: bytes read from one socket wait in buf[begin, end) to be
// written to the other. Both sockets are non-blocking; nothing here waits.
struct Flow {
  std::unique_ptr<char[]> buf{new char[PrivateNetwork::kRelayBuffer]};
  size_t begin = 0, end = 0;
  bool eof = false;   // the source has no more
  bool done = false;  // eof, everything written, and the destination half-closed

  bool wants_read() const { return !eof && begin == end; }
  bool wants_write() const { return begin < end; }

  // Moves what it can; false on an error that ends the connection.
  bool advance(int from, int to) {
    for (int round = 0; round < kRoundsPerWake && !done; ++round) {
      if (wants_read()) {
        ssize_t n = ::recv(from, buf.get(), PrivateNetwork::kRelayBuffer, 0);
        if (n > 0) {
          begin = 0;
          end = static_cast<size_t>(n);
        } else if (n == 0) {
          eof = true;
        } else if (errno == EINTR) {
          continue;
        } else {
          return errno == EAGAIN || errno == EWOULDBLOCK;
        }
      }
      if (wants_write()) {
        ssize_t n = ::send(to, buf.get() + begin, end - begin, MSG_NOSIGNAL);
        if (n >= 0) {
          begin += static_cast<size_t>(n);
        } else if (errno == EINTR) {
          continue;
        } else {
          return errno == EAGAIN || errno == EWOULDBLOCK;
        }
      }
      if (eof && begin == end) {
        ::shutdown(to, SHUT_WR);
        done = true;
      }
    }
    return true;
  }
};

// A connection from inside the namespace and its counterpart to the target on the host.
struct Relay {
  UniqueFd inside, outside;
  bool connecting = true;  // outside's non-blocking connect has not completed yet
  Flow up, down;           // inside -> outside, outside -> inside

  // What poll should wait for on each socket (0: nothing, and the socket stays out of the poll set,
  // so that a hang-up it reports regardless of the events asked for cannot spin the loop).
  short inside_events() const {
    if (connecting) return 0;
    return static_cast<short>((up.wants_read() ? POLLIN : 0) | (down.wants_write() ? POLLOUT : 0));
  }
  short outside_events() const {
    if (connecting) return POLLOUT;
    return static_cast<short>((down.wants_read() ? POLLIN : 0) | (up.wants_write() ? POLLOUT : 0));
  }

  // After poll reported one of its sockets; false when the connection is over.
  bool advance() {
    if (connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(outside.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return false;
      connecting = false;
    }
    if (!up.advance(inside.get(), outside.get())) return false;
    if (!down.advance(outside.get(), inside.get())) return false;
    return !(up.done && down.done);
  }
};

}  // namespace

std::vector<Forward> loopback_forward(const std::string& endpoint_url) {
  std::string rest = endpoint_url;
  uint16_t port = 0;
  if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
    port = 80;
  } else if (rest.rfind("https://", 0) == 0) {
    rest = rest.substr(8);
    port = 443;
  } else {
    return {};
  }
  rest = rest.substr(0, rest.find('/'));
  std::string host = rest;
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    try {
      int p = std::stoi(rest.substr(colon + 1));
      if (p <= 0 || p > 65535) return {};
      port = static_cast<uint16_t>(p);
    } catch (const std::exception&) {
      return {};
    }
  }
  in_addr a{};
  if (!loopback_v4(host, a)) return {};
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, text, sizeof text);
  return {Forward{text, port, text}};
}

PrivateNetwork::PrivateNetwork(std::vector<Forward> forwards) : forwards_(std::move(forwards)) {
  // The namespace is made by a thread of its own (unshare affects only the calling thread), which
  // brings loopback up and opens the listeners there; the sockets and the namespace fd keep the
  // namespace alive after the thread is gone.
  std::exception_ptr failed;
  std::thread maker;
  try {
    maker = std::thread([&] {
      try {
        if (::unshare(CLONE_NEWNET) != 0) throw errno_error(errno, "creating the job's network namespace", "unshare");
        ns_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        if (!ns_) throw errno_error(errno, "opening the job's network namespace", "/proc/thread-self/ns/net");
        UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
        if (!s || ::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) {
          throw errno_error(errno, "reading the loopback interface", "lo");
        }
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
        if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) {
          throw errno_error(errno, "bringing up the loopback interface", "lo");
        }
        for (const auto& f : forwards_) {
          UniqueFd l(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
          int one = 1;
          ::setsockopt(l.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
          sockaddr_in a = address(f.listen_host, f.port);
          if (!l || ::bind(l.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
              ::listen(l.get(), kBacklog) != 0) {
            throw errno_error(errno, "listening in the job's network namespace",
                              fmt::format("{}:{}", f.listen_host, f.port));
          }
          listeners_.push_back(std::move(l));
        }
      } catch (...) {
        failed = std::current_exception();
      }
    });
  } catch (const std::system_error& e) {
    throw errno_error(e.code().value(), "starting a thread to create the job's network namespace", "");
  }
  maker.join();
  if (failed) std::rethrow_exception(failed);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw errno_error(errno, "creating a pipe", "");
  wake_[0].reset(p[0]);
  wake_[1].reset(p[1]);
  if (!listeners_.empty()) {
    try {
      server_ = std::thread([this] { serve(); });
    } catch (const std::system_error& e) {
      throw errno_error(e.code().value(), "starting the job's network relay", "");
    }
  }
}

PrivateNetwork::~PrivateNetwork() {
  // The loop only ever waits in poll, which the pipe ends; its return closes every relayed
  // connection (they belong to it), and the members' destruction closes the listeners, which
  // resets the connections still waiting in their backlog.
  stopping_ = true;
  if (wake_[1]) (void)!::write(wake_[1].get(), "x", 1);
  if (server_.joinable()) server_.join();
}

// One thread relays every connection: no thread per connection to exhaust, fail to start or join,
// and no state shared with other threads but stopping_ and the pipe. Memory is bounded by
// kMaxRelays * 2 * kRelayBuffer (8 MiB). Runs in the host's network namespace (the constructor's),
// so the connections to the targets are made on the host.
void PrivateNetwork::serve() {
  using Clock = std::chrono::steady_clock;
  try {
    std::vector<std::unique_ptr<Relay>> relays;  // at most kMaxRelays: pushing never allocates
    std::vector<pollfd> fds;                     // wake, listeners, then two per relay
    relays.reserve(kMaxRelays);
    fds.reserve(1 + listeners_.size() + 2 * kMaxRelays);
    std::optional<Clock::time_point> paused_until;  // accepting paused after a shortage
    bool warned = false;                            // about the current shortage: once
    auto pause = [&](int err, const char* step) {
      paused_until = Clock::now() + kPause;
      if (!warned) {
        log::warn("the job's network relay could not {} ({}): pausing new connections", step, std::strerror(err));
        warned = true;
      }
    };
    while (!stopping_) {
      if (paused_until && Clock::now() >= *paused_until) paused_until.reset();
      // At the cap the listeners are left out, so further connections wait in the backlog until a
      // relayed one ends, rather than being accepted and closed: the command's own burst of
      // connections (a data loader's parallel requests) is served late, not failed.
      const bool accepting = !paused_until && relays.size() < kMaxRelays;
      fds.clear();
      fds.push_back({wake_[0].get(), POLLIN, 0});
      for (const auto& l : listeners_) fds.push_back({accepting ? l.get() : -1, POLLIN, 0});
      for (const auto& r : relays) {
        short in = r->inside_events(), out = r->outside_events();
        fds.push_back({in ? r->inside.get() : -1, in, 0});
        fds.push_back({out ? r->outside.get() : -1, out, 0});
      }
      int timeout = -1;
      if (paused_until) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*paused_until - Clock::now()).count();
        timeout = static_cast<int>(std::clamp<decltype(left)>(left, 1, kPause.count()));
      }
      if (::poll(fds.data(), fds.size(), timeout) < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        pause(err, "wait for its connections");
        std::this_thread::sleep_for(kPause);  // poll fails at once again: sleeping is what stops a spin
        continue;
      }
      if (fds[0].revents) break;

      // Relayed connections: move their bytes, and close the ones that are over right away.
      const size_t first = 1 + listeners_.size();
      for (size_t i = 0; i < relays.size(); ++i) {
        if (!fds[first + 2 * i].revents && !fds[first + 2 * i + 1].revents) continue;
        if (!relays[i]->advance()) relays[i].reset();
      }
      std::erase(relays, nullptr);

      // New connections, while below the cap.
      for (size_t i = 0; i < listeners_.size() && accepting; ++i) {
        if (!fds[1 + i].revents) continue;
        while (relays.size() < kMaxRelays && !paused_until) {
          UniqueFd inside(::accept4(listeners_[i].get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
          if (!inside) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) break;
            if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;  // this connection only
            pause(err, "accept a connection");  // EMFILE, ENFILE, ENOBUFS, ENOMEM, or unexpected
            break;
          }
          std::unique_ptr<Relay> r;
          try {
            r = std::make_unique<Relay>();
          } catch (const std::bad_alloc&) {
            pause(ENOMEM, "relay a connection");  // `inside` closes: the command sees it end
            break;
          }
          r->inside = std::move(inside);
          r->outside.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
          if (!r->outside) {
            pause(errno, "open a connection to the endpoint");
            break;
          }
          sockaddr_in a = address(forwards_[i].target_host, forwards_[i].port);
          if (::connect(r->outside.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            r->connecting = false;
          } else if (errno != EINPROGRESS) {
            int err = errno;
            if (shortage(err)) {
              pause(err, "connect to the endpoint");
              break;
            }
            log::debug("the job's network relay could not connect to {}:{}: {}", forwards_[i].target_host,
                       forwards_[i].port, std::strerror(err));
            continue;  // the endpoint refuses: this connection ends, as it would have outside
          }
          relays.push_back(std::move(r));
          warned = false;
        }
      }
    }
  } catch (const std::exception& e) {
    // Only an allocation outside the relays could get here; the job's connections end with it.
    log::error("the job's network relay stopped: {}", e.what());
  }
}

}  // namespace sluice::job
