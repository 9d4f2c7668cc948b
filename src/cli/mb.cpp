#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/exit_code.hpp"
#include "core/error.hpp"
#include "store/open.hpp"
#include "store/s3_store.hpp"

namespace sluice::cli {

// Like `aws s3 mb`: creates the bucket; a bucket you already own is not an error.
int run_mb(const GlobalOptions& g, const std::string& uri) {
  Location loc = parse_location(uri);
  if (!loc.is_s3() || !loc.key.empty()) {
    throw Error(ErrorKind::kInvalidInput, "making bucket '" + uri + "'", "expected s3://BUCKET");
  }
  store::StoreOptions so = store_options(g, 2);
  store::open_s3_bucket(loc.bucket, so)->create_bucket();
  fmt::print("make_bucket: {}\n", loc.bucket);
  return kExitOk;
}

}  // namespace sluice::cli
