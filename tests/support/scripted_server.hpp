// A scripted HTTP/1.1 server on 127.0.0.1 for tests of the http layer (http_client_test,
// retry_test). Header-only; one server per test.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sluice::testing {

using namespace std::chrono_literals;

// ---- a scripted HTTP/1.1 server on 127.0.0.1 ----------------------------------------------------
// Answers each request with what the handler returns, keeps connections alive unless told to
// close, counts connections and requests, and stops itself after `lifetime` even when a test
// fails before stopping it. The destructor stops it and joins every thread.
class ScriptedServer {
 public:
  struct Reply {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<size_t> content_length;  // the declared length; default body.size()
    std::chrono::milliseconds delay{0};    // wait this long before answering
    bool close = false;                    // close the connection after answering
    bool drop = false;                     // close the connection without answering (it died)
  };
  struct Seen {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    std::string header(const std::string& name) const {
      for (const auto& [n, v] : headers) {
        if (n == name) return v;
      }
      return {};
    }
  };
  using Handler = std::function<Reply(const Seen& request, int index)>;

  explicit ScriptedServer(Handler handler, std::chrono::seconds lifetime = std::chrono::seconds(60))
      : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("socket failed");
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 256) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("bind/listen failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this, lifetime] { accept_loop(lifetime); });
  }

  ~ScriptedServer() { stop(); }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  void stop() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> conns;
    {
      std::lock_guard lock(mu_);
      conns.swap(conn_threads_);
    }
    for (auto& t : conns) t.join();
  }

  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  int max_concurrent() const { return max_in_flight_.load(); }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void accept_loop(std::chrono::seconds lifetime) {
    auto deadline = std::chrono::steady_clock::now() + lifetime;
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections_;
      std::lock_guard lock(mu_);
      conn_threads_.emplace_back([this, c] { serve(c); });
    }
    stop_ = true;  // past the lifetime: the connections end too
    ::close(listen_fd_);
  }

  // Appends what arrives on c to buf; false at EOF, error or stop.
  bool read_some(int c, std::string& buf) {
    for (;;) {
      if (stop_) return false;
      pollfd p{c, POLLIN, 0};
      int r = ::poll(&p, 1, 20);
      if (r < 0) return false;
      if (r == 0) continue;
      char tmp[65536];
      ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<size_t>(n));
      return true;
    }
  }

  static bool send_all(int c, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(c, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  static std::string lower(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }

  void serve(int c) {
    std::string buf;
    for (;;) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!read_some(c, buf)) {
          ::close(c);
          return;
        }
      }
      Seen s;
      std::string head = buf.substr(0, end);
      size_t line_end = head.find("\r\n");
      std::string first = head.substr(0, line_end);
      size_t sp1 = first.find(' '), sp2 = first.find(' ', sp1 + 1);
      s.method = first.substr(0, sp1);
      s.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t content_length = 0;
      for (size_t pos = line_end; pos != std::string::npos && pos < head.size();) {
        size_t next = head.find("\r\n", pos + 2);
        std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = lower(line.substr(0, colon));
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          if (name == "content-length") content_length = std::stoul(value);
          s.headers.emplace_back(name, value);
        }
        pos = next;
      }
      buf.erase(0, end + 4);
      while (buf.size() < content_length) {
        if (!read_some(c, buf)) {
          ::close(c);
          return;
        }
      }
      s.body = buf.substr(0, content_length);
      buf.erase(0, content_length);

      int index = requests_.fetch_add(1);
      {
        std::lock_guard lock(mu_);
        seen_.push_back(s);
      }
      int now = ++in_flight_;
      for (int prev = max_in_flight_.load(); now > prev && !max_in_flight_.compare_exchange_weak(prev, now);) {
      }
      Reply r = handler_(s, index);
      auto until = std::chrono::steady_clock::now() + r.delay;
      while (!stop_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      if (r.drop) {
        --in_flight_;
        break;
      }
      std::string out = "HTTP/1.1 " + std::to_string(r.status) + " Scripted\r\n";
      out += "Content-Length: " + std::to_string(r.content_length.value_or(r.body.size())) + "\r\n";
      for (const auto& [n, v] : r.headers) out += n + ": " + v + "\r\n";
      if (r.close) out += "Connection: close\r\n";
      out += "\r\n";
      if (s.method != "HEAD") out += r.body;
      bool sent = !stop_ && send_all(c, out);
      --in_flight_;
      if (!sent || r.close) break;
    }
    ::close(c);
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0}, requests_{0}, in_flight_{0}, max_in_flight_{0};
  mutable std::mutex mu_;
  std::vector<std::thread> conn_threads_;  // guarded by mu_
  std::vector<Seen> seen_;                 // guarded by mu_
  std::thread acceptor_;
};

}  // namespace sluice::testing
