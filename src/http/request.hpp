// One HTTP exchange as the transport sees it: no signing, no retries (see client.hpp, retry.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http {

using Header = std::pair<std::string, std::string>;

// A request body: bytes in memory, or a byte range of an open file (read with pread, so a
// retry can send it again).
struct Body {
  std::shared_ptr<const std::string> bytes;  // when set
  int fd = -1;                               // else, when >= 0
  uint64_t offset = 0;
  uint64_t length = 0;

  static Body from_string(std::string s);
  static Body from_file(int fd, uint64_t offset, uint64_t length);
  uint64_t size() const { return bytes ? bytes->size() : length; }
};

struct Request {
  std::string method = "GET";
  std::string url;  // scheme://host[:port]/path?query, already encoded
  std::vector<Header> headers;
  Body body;
  std::chrono::milliseconds timeout{0};  // whole attempt; 0 = none
  std::chrono::milliseconds low_speed_window{0};  // abort when < 1 byte/s for this long; 0 = off
};

struct Response {
  long status = 0;
  std::vector<Header> headers;  // names lower-cased
  std::string body;             // error bodies and small bodies; streamed bodies go to the sink

  std::optional<std::string> header(std::string_view lower_name) const;
};

// The transport's verdict on one attempt.
struct Outcome {
  int curl_code = 0;         // CURLcode; 0 = a response was received
  std::string curl_message;  // empty when curl_code == 0
  Response response;
  bool aborted_by_sink = false;  // the sink refused data (its own error explains why)
  uint64_t body_bytes = 0;       // bytes handed to the sink or kept in response.body
  // How many times curl sent the request. More than 1 when curl itself sent it again on a new
  // connection because a reused one died before answering: the store may have acted on the
  // first (matters for requests that are not idempotent, like CreateMultipartUpload).
  int sends = 0;
};

// Receives the body of a 2xx response, chunk by chunk, on an I/O thread. Returning false aborts
// the transfer. Bodies of other statuses are kept in Response::body instead.
using Sink = std::function<bool(const char* data, size_t len)>;

}  // namespace sluice::http
