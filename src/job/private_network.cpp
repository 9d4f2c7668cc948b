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
#include <cstring>

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

// Copies one direction until EOF or an error, then half-closes the other side.
void pump(int from, int to) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(to, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ::shutdown(from, SHUT_RD);
        return;
      }
      done += w;
    }
  }
  ::shutdown(to, SHUT_WR);
}

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
  std::thread maker([&] {
    try {
      if (::unshare(CLONE_NEWNET) != 0) throw errno_error(errno, "creating the job's network namespace", "unshare");
      ns_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
      if (!ns_) throw errno_error(errno, "opening the job's network namespace", "/proc/thread-self/ns/net");
      UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      ifreq ifr{};
      std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
      if (!s || ::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) throw errno_error(errno, "reading the loopback interface", "lo");
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
      if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) throw errno_error(errno, "bringing up the loopback interface", "lo");
      for (const auto& f : forwards_) {
        UniqueFd l(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        int one = 1;
        ::setsockopt(l.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a = address(f.listen_host, f.port);
        if (!l || ::bind(l.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l.get(), 64) != 0) {
          throw errno_error(errno, "listening in the job's network namespace", fmt::format("{}:{}", f.listen_host, f.port));
        }
        listeners_.push_back(std::move(l));
      }
    } catch (...) {
      failed = std::current_exception();
    }
  });
  maker.join();
  if (failed) std::rethrow_exception(failed);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw errno_error(errno, "creating a pipe", "");
  wake_[0].reset(p[0]);
  wake_[1].reset(p[1]);
  if (!listeners_.empty()) server_ = std::thread([this] { serve(); });
}

PrivateNetwork::~PrivateNetwork() {
  stopping_ = true;
  if (wake_[1]) (void)!::write(wake_[1].get(), "x", 1);
  if (server_.joinable()) server_.join();
  std::vector<std::thread> relays;
  {
    std::lock_guard lock(mu_);
    for (int s : open_sockets_) ::shutdown(s, SHUT_RDWR);
    relays.swap(relays_);
  }
  for (auto& t : relays) t.join();
}

void PrivateNetwork::serve() {
  std::vector<pollfd> fds;
  for (const auto& l : listeners_) fds.push_back({l.get(), POLLIN, 0});
  fds.push_back({wake_[0].get(), POLLIN, 0});
  while (!stopping_) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      log::warn("the job's network relay stopped: {}", std::strerror(errno));
      return;
    }
    if (fds.back().revents) return;
    for (size_t i = 0; i < listeners_.size(); ++i) {
      if (!fds[i].revents) continue;
      UniqueFd inside(::accept4(listeners_[i].get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!inside) continue;
      std::lock_guard lock(mu_);
      if (stopping_) return;
      relays_.emplace_back([this, fd = inside.release(), i]() mutable { relay(UniqueFd(fd), forwards_[i]); });
    }
  }
}

void PrivateNetwork::relay(UniqueFd inside, const Forward& forward) {
  UniqueFd outside(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));  // this thread is in the host's namespace
  sockaddr_in a = address(forward.target_host, forward.port);
  if (!outside || ::connect(outside.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    open_sockets_.push_back(inside.get());
    open_sockets_.push_back(outside.get());
  }
  std::thread back([&] { pump(outside.get(), inside.get()); });
  pump(inside.get(), outside.get());
  back.join();
  std::lock_guard lock(mu_);
  for (int s : {inside.get(), outside.get()}) {
    open_sockets_.erase(std::remove(open_sockets_.begin(), open_sockets_.end(), s), open_sockets_.end());
  }
}

}  // namespace sluice::job
