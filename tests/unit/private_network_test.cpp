// A multi-tenant command's own network (job/private_network.hpp): loopback only, where the one
// forwarded endpoint reaches its target on the host and nothing else of the host does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

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

}  // namespace
}  // namespace sluice::job
