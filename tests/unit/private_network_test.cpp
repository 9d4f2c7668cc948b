// A multi-tenant command's own network (job/private_network.hpp): loopback only, where the one
// forwarded endpoint reaches its target on the host and nothing else of the host does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "job/private_network.hpp"

namespace sluice::job {
namespace {

TEST(LoopbackForward, OnlyLoopbackEndpoints) {
  auto f = loopback_forward("http://127.0.0.1:7480");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].listen_host, "127.0.0.1");
  EXPECT_EQ(f[0].port, 7480);
  EXPECT_EQ(loopback_forward("http://localhost/")[0].port, 80);
  EXPECT_EQ(loopback_forward("https://127.0.0.2")[0].port, 443);
  EXPECT_EQ(loopback_forward("http://127.0.0.1:9000/path")[0].port, 9000);
  for (const char* none : {"https://s3.amazonaws.com", "http://10.0.0.1:80", "http://127.0.0.1:0", "http://127.0.0.1:99999",
                           "http://127.0.0.1:x", "ftp://127.0.0.1:21", ""}) {
    EXPECT_TRUE(loopback_forward(none).empty()) << none;
  }
}

// A TCP listener on the host's 127.0.0.1 (any port) answering "pong" to each connection.
struct Pong {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  uint16_t port = 0;
  std::thread t;
  Pong() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    t = std::thread([this] {
      for (;;) {
        int c = ::accept(fd, nullptr, nullptr);
        if (c < 0) return;
        char buf[16];
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n > 0) (void)!::write(c, "pong", 4);
        ::close(c);
      }
    });
  }
  ~Pong() {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    t.join();
  }
};

// Connects to 127.0.0.1:port from inside the namespace and returns what came back ("" if nothing).
std::string ping_inside(int netns, uint16_t port) {
  return std::async(std::launch::async, [&] {
           if (::setns(netns, CLONE_NEWNET) != 0) return std::string("setns failed");  // this thread only
           int s = ::socket(AF_INET, SOCK_STREAM, 0);
           sockaddr_in a{};
           a.sin_family = AF_INET;
           a.sin_port = htons(port);
           a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
           std::string got;
           if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::write(s, "ping", 4) == 4) {
             char buf[16];
             ssize_t n = ::read(s, buf, sizeof buf);
             if (n > 0) got.assign(buf, static_cast<size_t>(n));
           }
           ::close(s);
           return got;
         }).get();
}

TEST(PrivateNetwork, ReachesTheForwardedEndpointAndNothingElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  Pong allowed, other;
  PrivateNetwork net({Forward{"127.0.0.1", allowed.port, "127.0.0.1"}});
  EXPECT_EQ(ping_inside(net.fd(), allowed.port), "pong");
  EXPECT_EQ(ping_inside(net.fd(), allowed.port), "pong");  // more than one connection
  EXPECT_EQ(ping_inside(net.fd(), other.port), "");        // the host's other listener: unreachable
  PrivateNetwork none({});
  EXPECT_EQ(ping_inside(none.fd(), allowed.port), "");
}

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// An echo server on the host's 127.0.0.1 (any port), a thread per connection, that counts the
// connections it has open: the relay opens one per connection it relays, and closes it only after
// this side did, so `live` never exceeds the relays live at the same time.
struct Echo {
  UniqueFd listener{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  uint16_t port = 0;
  std::mutex mu;
  bool stopping = false;
  std::set<int> open;
  int live = 0, max_live = 0, accepted = 0;
  std::vector<std::thread> threads;  // only the acceptor adds to it
  std::thread acceptor;

  Echo() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener.get(), 256) != 0 ||
        ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error(std::string("echo server: ") + std::strerror(errno));
    }
    port = ntohs(a.sin_port);
    acceptor = std::thread([this] {
      for (;;) {
        int c = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0 && (errno == EINTR || errno == ECONNABORTED)) continue;
        if (c < 0) return;
        std::lock_guard lock(mu);
        if (stopping) {
          ::close(c);
          return;
        }
        ++accepted;
        max_live = std::max(max_live, ++live);
        open.insert(c);
        threads.emplace_back([this, c] { serve(c); });
      }
    });
  }
  void serve(int c) {
    std::vector<char> buf(65536);
    for (bool more = true; more;) {
      ssize_t n = ::read(c, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (ssize_t done = 0; done < n && more;) {
        ssize_t w = ::send(c, buf.data() + done, static_cast<size_t>(n - done), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) more = false;
        done += w;
      }
    }
    std::lock_guard lock(mu);
    open.erase(c);
    --live;
    ::close(c);
  }
  ~Echo() {
    {
      std::lock_guard lock(mu);
      stopping = true;
      ::shutdown(listener.get(), SHUT_RDWR);
      for (int c : open) ::shutdown(c, SHUT_RDWR);
    }
    acceptor.join();
    for (auto& t : threads) t.join();
  }
  int live_now() {
    std::lock_guard lock(mu);
    return live;
  }
  int max_live_now() {
    std::lock_guard lock(mu);
    return max_live;
  }
  int accepted_now() {
    std::lock_guard lock(mu);
    return accepted;
  }
};

// Waits up to `limit` for `done`.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
  for (auto end = Clock::now() + limit; Clock::now() < end; std::this_thread::sleep_for(5ms)) {
    if (done()) return true;
  }
  return done();
}

// A TCP socket of the namespace: a socket belongs to the namespace it was made in, whichever
// thread uses it later. Reads time out after 10 s, so that a broken relay fails a test, not hangs it.
int socket_inside(int netns) {
  return std::async(std::launch::async, [netns] {
           if (::setns(netns, CLONE_NEWNET) != 0) return -1;  // this thread only
           int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
           timeval ten{10, 0};
           ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &ten, sizeof ten);
           return s;
         }).get();
}

bool connect_to(int s, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

// Exactly `n` bytes, or fewer at EOF, an error or the read timeout.
std::string read_some(int s, size_t n) {
  std::string got(n, '\0');
  size_t have = 0;
  while (have < n) {
    ssize_t r = ::read(s, got.data() + have, n - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += static_cast<size_t>(r);
  }
  got.resize(have);
  return got;
}

// Whether the connection has ended (EOF or reset) rather than just being silent: reads until
// then, false at the read timeout.
bool ended(int s) {
  char buf[4096];
  for (;;) {
    ssize_t r = ::read(s, buf, sizeof buf);
    if (r > 0 || (r < 0 && errno == EINTR)) continue;
    return r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
  }
}

TEST(PrivateNetwork, RelaysAtMostTheCapAtOnceAndTheRestOnceEarlierOnesEnd) {
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  constexpr int kConnections = 200;
  constexpr int kCap = static_cast<int>(PrivateNetwork::kMaxRelays);
  Echo target;
  PrivateNetwork net({Forward{"127.0.0.1", target.port, "127.0.0.1"}});
  std::vector<UniqueFd> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.emplace_back(socket_inside(net.fd()));
    ASSERT_TRUE(connect_to(clients.back().get(), target.port)) << i << ": " << std::strerror(errno);
    std::string ping = "ping" + std::to_string(1000 + i);
    ASSERT_EQ(::write(clients.back().get(), ping.data(), ping.size()), 8);
  }
  // Every connection is held open: the first kCap are relayed, the others wait.
  ASSERT_TRUE(eventually([&] { return target.live_now() == kCap; })) << target.live_now();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(target.live_now(), kCap);
  EXPECT_EQ(target.accepted_now(), kCap);
  // Ending them one by one makes room for the next: every one of them is served in the end.
  for (int i = 0; i < kConnections; ++i) {
    EXPECT_EQ(read_some(clients[i].get(), 8), "ping" + std::to_string(1000 + i)) << i;
    clients[i].reset();
  }
  EXPECT_TRUE(eventually([&] { return target.live_now() == 0; }));
  EXPECT_EQ(target.accepted_now(), kConnections);
  EXPECT_EQ(target.max_live_now(), kCap);
}

TEST(PrivateNetwork, CarriesTenMebibytesBothWaysIntact) {
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  Echo target;
  PrivateNetwork net({Forward{"127.0.0.1", target.port, "127.0.0.1"}});
  std::string sent(10 << 20, '\0');
  std::mt19937 random(42);
  std::generate(sent.begin(), sent.end(), [&] { return static_cast<char>(random()); });
  UniqueFd s(socket_inside(net.fd()));
  ASSERT_TRUE(connect_to(s.get(), target.port));
  auto start = Clock::now();
  // Writing while reading: the echo comes back while the rest still goes out. Then a half-close,
  // which the relay passes on, so that the echo server ends and the relay passes its EOF back.
  std::thread writer([&] {
    for (size_t done = 0; done < sent.size();) {
      ssize_t w = ::send(s.get(), sent.data() + done, sent.size() - done, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
    ::shutdown(s.get(), SHUT_WR);
  });
  std::string got = read_some(s.get(), sent.size() + 1);  // + 1: up to EOF
  writer.join();
  auto took = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent) << "the bytes differ";
  std::printf("10 MiB each way in %.3f s\n", took);
}

TEST(PrivateNetwork, DestructionDoesNotWaitForHeldConnections) {
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  constexpr int kCap = static_cast<int>(PrivateNetwork::kMaxRelays);
  Echo target;
  auto net = std::make_unique<PrivateNetwork>(std::vector<Forward>{Forward{"127.0.0.1", target.port, "127.0.0.1"}});
  std::vector<UniqueFd> clients;  // relayed and held, or waiting in the backlog
  for (int i = 0; i < kCap + 36; ++i) {
    clients.emplace_back(socket_inside(net->fd()));
    ASSERT_TRUE(connect_to(clients.back().get(), target.port));
  }
  // One relay in the middle of a transfer that nobody reads: both of its buffers full.
  std::string big(8 << 20, 'x');
  ASSERT_EQ(::send(clients[0].get(), "ping", 4, MSG_NOSIGNAL), 4);
  ASSERT_EQ(read_some(clients[0].get(), 4), "ping");
  int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
  ASSERT_GT(::send(clients[0].get(), big.data(), big.size(), flags), 0);
  ASSERT_TRUE(eventually([&] { return target.live_now() == kCap; }));
  std::this_thread::sleep_for(100ms);
  auto start = Clock::now();
  net.reset();
  EXPECT_LT(Clock::now() - start, 500ms);
  // Every connection has ended for the command: relayed ones closed, waiting ones reset.
  for (size_t i = 0; i < clients.size(); ++i) EXPECT_TRUE(ended(clients[i].get())) << i;
  EXPECT_TRUE(eventually([&] { return target.live_now() == 0; }));
}

// At Sluice's fd limit: in a process of its own (a death test re-runs this binary) where
// RLIMIT_NOFILE is low and every free fd is taken. Returns what went wrong, if anything.
std::string at_the_fd_limit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 128);
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return "setrlimit failed";
  // UBSan's vptr check makes a pipe the first time it meets a type, and reports an "invalid vptr"
  // where it cannot: a log line formatted like the relay's warning, so that the warning is not the
  // first when the fds have run out. Before any thread starts: spdlog (not instrumented) sets up
  // its registry on the first line, and TSan sees no order between that and another thread's line.
  log::warn("the fd limit test: {} ({})", "a log line before the fds run out", std::strerror(EMFILE));
  Echo target;
  PrivateNetwork net({Forward{"127.0.0.1", target.port, "127.0.0.1"}});
  const int a = socket_inside(net.fd()), b = socket_inside(net.fd());
  const int c = socket_inside(net.fd()), d = socket_inside(net.fd());
  if (std::min({a, b, c, d}) < 0) return "socket failed";
  if (!connect_to(a, target.port) || ::write(a, "a", 1) != 1 || read_some(a, 1) != "a") return "no relay at all";

  std::vector<int> filler;
  auto fill = [&] {
    for (int fd; (fd = ::dup(0)) >= 0;) filler.push_back(fd);
    return errno == EMFILE;
  };
  auto unfill = [&] {
    for (int fd : filler) ::close(fd);
    filler.clear();
  };
  auto cpu = [] {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };

  // 1. Not one fd free: the relay cannot accept b, so b waits, and the relay waits without spinning.
  if (!fill()) return "dup did not reach EMFILE";
  if (!connect_to(b, target.port) || ::write(b, "b", 1) != 1) return "connect b failed";
  double before = cpu();
  std::this_thread::sleep_for(1s);
  double used = cpu() - before;
  if (used > 0.3) return "the relay spins at the fd limit: " + std::to_string(used) + " s of CPU in 1 s";
  if (::write(a, "A", 1) != 1 || read_some(a, 1) != "A") return "a relayed connection stopped at the fd limit";
  unfill();
  if (read_some(b, 1) != "b") return "b was not relayed once fds were free again";
  ::close(b);
  if (!eventually([&] { return target.live_now() == 1; })) return "b's relay did not end";
  std::this_thread::sleep_for(100ms);  // the relay closes its fds after the echo server's

  // 2. One fd free: the relay accepts c but cannot open its connection to the endpoint, so c ends.
  if (!fill()) return "dup did not reach EMFILE";
  ::close(filler.back());
  filler.pop_back();
  if (!connect_to(c, target.port)) return "connect c failed";
  if (!ended(c)) return "c neither relayed nor ended";
  if (target.accepted_now() != 2) return "c reached the endpoint";
  unfill();
  if (!connect_to(d, target.port) || ::write(d, "d", 1) != 1 || read_some(d, 1) != "d") {
    return "d was not relayed once fds were free again";
  }
  return "";
}

TEST(PrivateNetwork, PausesInsteadOfSpinningAtTheFdLimit) {
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::alarm(30);
        std::string failed = at_the_fd_limit();
        if (!failed.empty()) std::fprintf(stderr, "FAILED: %s\n", failed.c_str());
        std::fflush(stderr);
        std::_Exit(failed.empty() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace sluice::job
