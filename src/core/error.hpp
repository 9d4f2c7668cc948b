// Errors carry a kind and a cause; they become exit codes, errno or a FailureReason only at the edge.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice {

enum class ErrorKind {
  kNotFound,       // the bucket, key, file or profile does not exist
  kAccessDenied,   // credentials rejected or not allowed
  kInvalidInput,   // the user's input is wrong: a URI, a flag, a key that cannot be mapped to a path
  kRetryable,      // transient: connection reset, timeout, 5xx, SlowDown (after the retry budget is spent)
  kDataLoss,       // bytes are wrong or missing: short body, checksum mismatch, object changed under us
  kNoSpace,        // local disk full
  kConflict,       // two inputs collide (e.g. key "a" and key "a/b")
  kCancelled,      // the user or a signal stopped the work
  kIo,             // a local file system error other than the above
  kInternal,       // a bug or an unexpected answer
};

std::string_view to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string cause = {});

  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  const std::string& cause() const { return cause_; }

  // A copy whose message is prefixed with context, e.g. "downloading s3://b/k".
  Error with_context(std::string_view context) const;

 private:
  ErrorKind kind_;
  std::string message_;
  std::string cause_;
};

// An Error from errno for a local file operation on `path`.
Error errno_error(int err, std::string_view what, std::string_view path);

}  // namespace sluice
