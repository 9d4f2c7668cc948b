// Digests used for signing and verification (OpenSSL EVP).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sluice {

std::string hex_encode(std::string_view bytes);
std::string sha256(std::string_view data);                              // raw 32 bytes
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string base64_encode(std::string_view bytes);

// Incremental digest (MD5 or SHA-256) for streaming data.
class Digest {
 public:
  enum class Algo { kMd5, kSha256 };
  explicit Digest(Algo algo);
  ~Digest();
  Digest(Digest&&) noexcept;
  Digest& operator=(Digest&&) noexcept;
  void update(const void* data, size_t len);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string finish_hex();  // may be called once
  std::string finish_raw();  // may be called once

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
