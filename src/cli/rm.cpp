#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/exit_code.hpp"
#include "core/error.hpp"
#include "dataset/key_path.hpp"
#include "store/open.hpp"
#include "store/s3_store.hpp"

namespace sluice::cli {
namespace {

Location s3_location(const std::string& uri, const char* what) {
  Location loc = parse_location(uri);
  if (!loc.is_s3()) throw Error(ErrorKind::kInvalidInput, std::string(what) + " '" + uri + "'", "expected an s3:// location");
  return loc;
}

}  // namespace

// Like `aws s3 rm`: one object, or with -r every object under the prefix (as a directory).
int run_rm(const GlobalOptions& g, const std::string& uri, bool recursive) {
  Location loc = s3_location(uri, "deleting");
  auto store = store::open_store(store::Address::of(loc), store_options(g, 4));
  if (!recursive) {
    if (loc.key.empty() || loc.key.back() == '/') {
      throw Error(ErrorKind::kInvalidInput, "deleting '" + uri + "'", "this names a prefix, not an object; add --recursive");
    }
    store->remove(loc.key);
    fmt::print("delete: s3://{}/{}\n", loc.bucket, loc.key);
    return kExitOk;
  }
  std::string prefix = dataset::directory_prefix(loc.key);
  for (const auto& obj : store::list_all(*store, prefix)) {
    if (interrupted()) return 130;
    store->remove(obj.key);
    fmt::print("delete: s3://{}/{}\n", loc.bucket, obj.key);
  }
  return kExitOk;
}

// Like `aws s3 rb`: removes an empty bucket; --force deletes its objects first.
int run_rb(const GlobalOptions& g, const std::string& uri, bool force) {
  Location loc = s3_location(uri, "removing bucket");
  if (!loc.key.empty()) throw Error(ErrorKind::kInvalidInput, "removing bucket '" + uri + "'", "expected s3://BUCKET");
  if (force) run_rm(g, uri, true);
  store::open_s3_bucket(loc.bucket, store_options(g, 4))->delete_bucket();
  fmt::print("remove_bucket: {}\n", loc.bucket);
  return kExitOk;
}

}  // namespace sluice::cli
