#include "http/client.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <queue>
#include <thread>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace sluice::http {
namespace {

constexpr size_t kMaxErrorBody = 1 << 20;  // keep at most 1 MiB of a non-2xx body

struct GlobalInit {
  GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensure_global_init() { static GlobalInit once; }

// A header value: spaces and tabs before it, the line break after it too.
std::string header_value(std::string_view s) { return std::string(trim_right(trim_left(s, " \t"), " \t\r\n")); }

// One attempt in flight.
struct Transfer {
  Request request;
  Sink sink;
  std::function<void(Outcome)> done;
  Outcome outcome;
  curl_slist* header_list = nullptr;
  uint64_t sent = 0;  // body bytes already given to curl
  CURL* easy = nullptr;
  bool status_known = false;
  bool status_ok = false;

  ~Transfer() { curl_slist_free_all(header_list); }
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue): start over
    t->outcome.response.headers.clear();
    t->status_known = false;
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->outcome.response.headers.emplace_back(ascii_lower(line.substr(0, colon)),
                                             header_value(line.substr(colon + 1)));
  }
  return size * n;
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (!t->status_known) {
    long code = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    t->status_known = true;
    t->status_ok = code >= 200 && code < 300;
  }
  t->outcome.body_bytes += len;
  if (t->status_ok && t->sink) {
    if (!t->sink(data, len)) {
      t->outcome.aborted_by_sink = true;
      return CURL_WRITEFUNC_ERROR;
    }
    return len;
  }
  auto& body = t->outcome.response.body;
  if (t->status_ok) {
    body.append(data, len);  // a 2xx body without a sink is the caller's data: keep all of it
  } else if (body.size() < kMaxErrorBody) {
    body.append(data, std::min(len, kMaxErrorBody - body.size()));
  }
  return len;
}

size_t on_read(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const Body& b = t->request.body;
  uint64_t left = b.size() - t->sent;
  size_t want = static_cast<size_t>(std::min<uint64_t>(left, size * n));
  if (want == 0) return 0;
  if (b.bytes) {
    std::copy_n(b.bytes->data() + t->sent, want, buffer);
  } else {
    ssize_t got = ::pread(b.fd, buffer, want, static_cast<off_t>(b.offset + t->sent));
    if (got <= 0) return CURL_READFUNC_ABORT;
    want = static_cast<size_t>(got);
  }
  t->sent += want;
  return want;
}

// Called each time curl is about to send the request, also when it sends it again by itself.
int on_prereq(void* user, char*, char*, int, int) {
  ++static_cast<Transfer*>(user)->outcome.sends;
  return CURL_PREREQFUNC_OK;
}

// curl asks to rewind the body when it must send it again (e.g. on a reused dead connection).
int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > t->request.body.size()) {
    return CURL_SEEKFUNC_FAIL;
  }
  t->sent = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

}  // namespace

class Client::Loop {
 public:
  Loop(int max_active, std::chrono::milliseconds connect_timeout, bool verify_tls)
      : max_active_(std::max(1, max_active)), connect_timeout_(connect_timeout), verify_tls_(verify_tls) {
    multi_ = curl_multi_init();
    if (multi_ == nullptr) throw Error(ErrorKind::kInternal, "curl_multi_init failed");
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(max_active_));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(max_active_));
    thread_ = std::thread([this] { run(); });
  }

  ~Loop() {
    stop();
    for (CURL* e : idle_) curl_easy_cleanup(e);
    curl_multi_cleanup(multi_);
  }

  // Aborts what is in flight and ends the thread; idempotent.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_);
    if (thread_.joinable()) thread_.join();
  }

  void submit(std::unique_ptr<Transfer> t) {
    {
      std::lock_guard lock(mu_);
      incoming_.push_back(std::move(t));
    }
    curl_multi_wakeup(multi_);
  }

  void run_after(std::chrono::milliseconds delay, std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      timers_.push(Timer{std::chrono::steady_clock::now() + delay, seq_++, std::move(fn)});
    }
    curl_multi_wakeup(multi_);
  }

 private:
  struct Timer {
    std::chrono::steady_clock::time_point when;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Timer& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };

  CURL* take_easy() {
    if (!idle_.empty()) {
      CURL* e = idle_.back();
      idle_.pop_back();
      curl_easy_reset(e);
      return e;
    }
    return curl_easy_init();
  }

  void begin(std::unique_ptr<Transfer> t) {
    CURL* e = take_easy();
    t->easy = e;
    Request& r = t->request;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);  // keys may hold "." and ".." segments: send the signed path as is
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_.count()));
    if (!verify_tls_) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (r.timeout.count() > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    if (r.low_speed_window.count() > 0) {
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(std::max<int64_t>(1, r.low_speed_window.count() / 1000)));
    }
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, t.get());

    const bool has_body = r.body.bytes || r.body.fd >= 0;
    if (r.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (r.method == "PUT") {
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    } else if (r.method == "POST") {
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    } else if (r.method != "GET") {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    if (has_body || r.method == "PUT" || r.method == "POST") {
      curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(e, CURLOPT_READDATA, t.get());
      curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
      curl_easy_setopt(e, CURLOPT_SEEKDATA, t.get());
    }

    bool has_content_type = false;
    for (const auto& [name, value] : r.headers) {
      std::string line = name + ": " + value;
      if (value.empty()) line = name + ";";  // curl's syntax for a header with an empty value
      has_content_type = has_content_type || iequals(name, "content-type");
      t->header_list = curl_slist_append(t->header_list, line.c_str());
    }
    t->header_list = curl_slist_append(t->header_list, "Expect:");  // no 100-continue round trip
    if (!has_content_type) t->header_list = curl_slist_append(t->header_list, "Content-Type:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);

    curl_multi_add_handle(multi_, e);
    active_.push_back(std::move(t));
  }

  void finish(CURL* e, CURLcode code) {
    auto it = std::find_if(active_.begin(), active_.end(), [e](const auto& t) { return t->easy == e; });
    std::unique_ptr<Transfer> t = std::move(*it);
    active_.erase(it);
    curl_multi_remove_handle(multi_, e);
    t->outcome.curl_code = code;
    if (code != CURLE_OK) {
      t->outcome.curl_message = curl_easy_strerror(code);
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &t->outcome.response.status);
    idle_.push_back(e);
    t->done(std::move(t->outcome));
  }

  void run() {
    for (;;) {
      std::vector<std::function<void()>> due;
      bool stopping;
      {
        std::lock_guard lock(mu_);
        stopping = stopping_;
        while (!incoming_.empty() && pending_.size() < 1'000'000) {
          pending_.push_back(std::move(incoming_.front()));
          incoming_.pop_front();
        }
        auto now = std::chrono::steady_clock::now();
        while (!timers_.empty() && (timers_.top().when <= now || stopping)) {
          due.push_back(std::move(const_cast<Timer&>(timers_.top()).fn));
          timers_.pop();
        }
      }
      if (stopping) {
        abort_all();
        for (auto& fn : due) fn();
        std::lock_guard lock(mu_);
        if (incoming_.empty() && timers_.empty()) return;
        continue;
      }
      for (auto& fn : due) fn();
      while (!pending_.empty() && static_cast<int>(active_.size()) < max_active_) {
        auto t = std::move(pending_.front());
        pending_.pop_front();
        begin(std::move(t));
      }
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg == CURLMSG_DONE) finish(msg->easy_handle, msg->data.result);
      }
      int wait_ms = 1000;
      {
        std::lock_guard lock(mu_);
        if (!incoming_.empty()) wait_ms = 0;
        if (!timers_.empty()) {
          auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
              timers_.top().when - std::chrono::steady_clock::now());
          wait_ms = std::clamp<int>(static_cast<int>(until.count()), 0, wait_ms);
        }
      }
      if (!pending_.empty() && static_cast<int>(active_.size()) < max_active_) wait_ms = 0;
      if (wait_ms > 0) curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
    }
  }

  void abort_all() {
    while (!active_.empty()) finish(active_.front()->easy, CURLE_ABORTED_BY_CALLBACK);
    std::deque<std::unique_ptr<Transfer>> pending;
    pending.swap(pending_);
    {
      std::lock_guard lock(mu_);
      for (auto& t : incoming_) pending.push_back(std::move(t));
      incoming_.clear();
    }
    for (auto& t : pending) {
      t->outcome.curl_code = CURLE_ABORTED_BY_CALLBACK;
      t->outcome.curl_message = "client shut down";
      t->done(std::move(t->outcome));
    }
  }

  const int max_active_;
  const std::chrono::milliseconds connect_timeout_;
  const bool verify_tls_;
  CURLM* multi_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  bool stopping_ = false;
  std::deque<std::unique_ptr<Transfer>> incoming_;  // guarded by mu_
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;  // guarded by mu_
  uint64_t seq_ = 0;                                                         // guarded by mu_
  std::deque<std::unique_ptr<Transfer>> pending_;   // loop thread only
  std::vector<std::unique_ptr<Transfer>> active_;   // loop thread only
  std::vector<CURL*> idle_;                         // loop thread only
};

Client::Client(ClientOptions options) : options_(options) {
  ensure_global_init();
  int loops = std::max(1, options_.loops);
  int per_loop = std::max(1, (options_.max_connections + loops - 1) / loops);
  for (int i = 0; i < loops; ++i) loops_.push_back(std::make_unique<Loop>(per_loop, options_.connect_timeout, options_.verify_tls));
}

Client::~Client() {
  // Callbacks that run while loops stop (aborted transfers, due retry timers) may start new
  // requests: once closing_ is set those fail at once instead of reaching a stopped loop.
  closing_ = true;
  for (auto& loop : loops_) loop->stop();
}

void Client::start(Request request, Sink sink, std::function<void(Outcome)> done) {
  if (closing_) {
    Outcome o;
    o.curl_code = CURLE_ABORTED_BY_CALLBACK;
    o.curl_message = "client shut down";
    done(std::move(o));
    return;
  }
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->sink = std::move(sink);
  t->done = std::move(done);
  loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()]->submit(std::move(t));
}

void Client::run_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  if (closing_) {
    fn();  // whatever it starts fails at once
    return;
  }
  loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()]->run_after(delay, std::move(fn));
}

Outcome Client::perform(Request request) {
  std::promise<Outcome> p;
  auto f = p.get_future();
  start(std::move(request), {}, [&p](Outcome o) { p.set_value(std::move(o)); });
  return f.get();
}

}  // namespace sluice::http
