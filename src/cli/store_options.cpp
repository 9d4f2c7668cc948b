#include <chrono>

#include "cli/commands.hpp"

namespace sluice::cli {

store::StoreOptions store_options(const GlobalOptions& g, int max_connections) {
  store::StoreOptions so;
  so.endpoint_url = g.endpoint_url;
  so.max_connections = max_connections;
  if (g.read_timeout_s) so.read_timeout = std::chrono::seconds(*g.read_timeout_s);
  if (g.connect_timeout_s) so.connect_timeout = std::chrono::seconds(*g.connect_timeout_s);
  return so;
}

}  // namespace sluice::cli
