#include "http/request.hpp"

namespace sluice::http {

Body Body::from_string(std::string s) {
  Body b;
  b.bytes = std::make_shared<const std::string>(std::move(s));
  return b;
}

Body Body::from_file(int fd, uint64_t offset, uint64_t length) {
  Body b;
  b.fd = fd;
  b.offset = offset;
  b.length = length;
  return b;
}

std::optional<std::string> Response::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return std::nullopt;
}

}  // namespace sluice::http
