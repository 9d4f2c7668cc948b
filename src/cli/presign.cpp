#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/exit_code.hpp"
#include "core/error.hpp"
#include "store/open.hpp"
#include "store/s3_store.hpp"

namespace sluice::cli {

// Like `aws s3 presign`: prints a URL that GETs the object without credentials until it expires.
int run_presign(const GlobalOptions& g, const std::string& uri, int64_t expires_in) {
  Location loc = parse_location(uri);
  if (!loc.is_s3() || loc.key.empty()) {
    throw Error(ErrorKind::kInvalidInput, "presigning '" + uri + "'", "expected s3://BUCKET/KEY");
  }
  if (expires_in < 1 || expires_in > 604800) {
    throw Error(ErrorKind::kInvalidInput, "presigning '" + uri + "'",
                "--expires-in must be 1 to 604800 seconds (7 days), got " + std::to_string(expires_in));
  }
  store::StoreOptions so = store_options(g, 1);
  fmt::print("{}\n", store::open_s3_bucket(loc.bucket, so)->presign_get(loc.key, std::chrono::seconds(expires_in)));
  return kExitOk;
}

}  // namespace sluice::cli
