#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/exit_code.hpp"
#include "cli/listing_format.hpp"
#include "core/error.hpp"
#include "store/open.hpp"
#include "store/s3_store.hpp"

namespace sluice::cli {
namespace {

// Like `aws s3 ls` with no argument: "DATE TIME BUCKET" for each bucket of the credentials' owner.
int list_buckets(const GlobalOptions& g) {
  auto service = store::open_s3_service(store_options(g, 1));
  for (const auto& b : service->list_buckets()) fmt::print("{} {}\n", listing_date(b.created_ns), b.name);
  return kExitOk;
}

}  // namespace

// Like `aws s3 ls`: "PRE name/" for common prefixes, then "DATE TIME SIZE NAME" for objects;
// names relative to the prefix's directory, full keys with --recursive; --human-readable sizes and
// a --summarize total as the AWS CLI prints them.
int run_ls(const GlobalOptions& g, const LsOptions& o) {
  if (o.uri.empty()) return list_buckets(g);
  Location loc = parse_location(o.uri);
  store::StoreOptions so = store_options(g, 4);
  const store::Address at = store::Address::of(loc);
  auto store = store::open_store(at, so);
  std::string prefix = at.key;
  if (!loc.is_s3() && !prefix.empty() && prefix.back() != '/') prefix += "/";
  std::string shown_base = prefix.substr(0, prefix.rfind('/') + 1);
  if (!loc.is_s3() && o.recursive) shown_base = prefix;
  store::ListRequest req;
  req.prefix = prefix;
  req.delimiter = o.recursive ? "" : "/";
  uint64_t count = 0, objects = 0, bytes = 0;
  store::Pager pager(*store, std::move(req));
  while (auto page = pager.next()) {
    for (const auto& p : page->common_prefixes) fmt::print("{:>30} {}\n", "PRE", p.substr(shown_base.size()));
    for (const auto& obj : page->objects) {
      std::string name = o.recursive && loc.is_s3() ? obj.key : obj.key.substr(shown_base.size());
      std::string size = o.human_readable ? human_readable_size(obj.size) : std::to_string(obj.size);
      fmt::print("{} {:>10} {}\n", listing_date(obj.mtime_epoch_ns), size, name);
      bytes += obj.size;
    }
    objects += page->objects.size();
    count += page->objects.size() + page->common_prefixes.size();
    if (interrupted()) break;
  }
  if (o.summarize) fmt::print("{}", listing_summary(objects, bytes, o.human_readable));
  if (count == 0 && !prefix.empty()) {
    // Like `aws s3 ls`: nothing under the prefix is not an error to print, but it is exit 1.
    return kExitSomeFailed;
  }
  return kExitOk;
}

}  // namespace sluice::cli
