#include <fmt/core.h>

#include <atomic>
#include <cctype>
#include <chrono>

#include "cli/commands.hpp"
#include "core/error.hpp"

namespace sluice::cli {
namespace {

// --no-verify-ssl says so on stderr, once, as the AWS CLI warns of unverified HTTPS requests;
// not for an http:// endpoint, where there is nothing to verify.
void warn_unverified(const store::StoreOptions& so) {
  static std::atomic<bool> warned{false};
  try {
    auto endpoint = auth::resolve_endpoint(so.endpoint_url, so.env);
    std::string scheme = endpoint ? endpoint->substr(0, 7) : "https:/";
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "http://") return;
  } catch (const Error&) {
    return;  // opening the store reports it
  }
  if (warned.exchange(true)) return;
  fmt::print(stderr,
             "sluice: warning: --no-verify-ssl: the endpoint's TLS certificate is not verified, so anyone on the "
             "network path can read and change what is sent and received\n");
}

}  // namespace

store::StoreOptions store_options(const GlobalOptions& g, int max_connections) {
  store::StoreOptions so;
  so.endpoint_url = g.endpoint_url;
  so.env = auth::with_flags(std::move(so.env), {.profile = g.profile, .region = g.region});
  so.verify_tls = g.verify_tls;
  so.max_connections = max_connections;
  if (g.read_timeout_s) so.read_timeout = std::chrono::seconds(*g.read_timeout_s);
  if (g.connect_timeout_s) so.connect_timeout = std::chrono::seconds(*g.connect_timeout_s);
  if (!so.verify_tls) warn_unverified(so);
  return so;
}

}  // namespace sluice::cli
