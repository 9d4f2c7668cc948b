#include "core/error.hpp"

#include <cerrno>
#include <cstring>

namespace sluice {
namespace {
std::string compose(const std::string& message, const std::string& cause) {
  return cause.empty() ? message : message + ": " + cause;
}
}  // namespace

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kAccessDenied: return "access denied";
    case ErrorKind::kInvalidInput: return "invalid input";
    case ErrorKind::kRetryable: return "retryable";
    case ErrorKind::kDataLoss: return "data loss";
    case ErrorKind::kNoSpace: return "no space";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kCancelled: return "cancelled";
    case ErrorKind::kIo: return "i/o error";
    case ErrorKind::kInternal: return "internal error";
  }
  return "unknown";
}

Error::Error(ErrorKind kind, std::string message, std::string cause)
    : std::runtime_error(compose(message, cause)),
      kind_(kind),
      message_(std::move(message)),
      cause_(std::move(cause)) {}

Error Error::with_context(std::string_view context) const {
  return Error(kind_, std::string(context) + ": " + message_, cause_);
}

Error errno_error(int err, std::string_view what, std::string_view path) {
  ErrorKind kind = ErrorKind::kIo;
  if (err == ENOENT || err == ENOTDIR) kind = ErrorKind::kNotFound;
  if (err == EACCES || err == EPERM || err == EROFS) kind = ErrorKind::kAccessDenied;
  if (err == ENOSPC || err == EDQUOT) kind = ErrorKind::kNoSpace;
  return Error(kind, std::string(what) + " " + std::string(path), std::strerror(err));
}

}  // namespace sluice
