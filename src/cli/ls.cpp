#include <fmt/core.h>

#include <ctime>

#include "cli/commands.hpp"
#include "cli/exit_code.hpp"
#include "core/error.hpp"
#include "store/open.hpp"

namespace sluice::cli {
namespace {

std::string date_of(int64_t ns) {
  std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

// Like `aws s3 ls`: "PRE name/" for common prefixes, then "DATE TIME SIZE NAME" for objects;
// names relative to the prefix's directory, full keys with --recursive.
int run_ls(const GlobalOptions& g, const LsOptions& o) {
  Location loc = parse_location(o.uri);
  store::StoreOptions so = store_options(g, 4);
  auto store = store::open_store(loc, so);
  std::string prefix = store::key_of(loc);
  if (!loc.is_s3() && !prefix.empty() && prefix.back() != '/') prefix += "/";
  std::string shown_base = prefix.substr(0, prefix.rfind('/') + 1);
  if (!loc.is_s3() && o.recursive) shown_base = prefix;
  store::ListRequest req;
  req.prefix = prefix;
  req.delimiter = o.recursive ? "" : "/";
  uint64_t count = 0;
  store::Pager pager(*store, std::move(req));
  while (auto page = pager.next()) {
    for (const auto& p : page->common_prefixes) fmt::print("{:>30} {}\n", "PRE", p.substr(shown_base.size()));
    for (const auto& obj : page->objects) {
      std::string name = o.recursive && loc.is_s3() ? obj.key : obj.key.substr(shown_base.size());
      fmt::print("{} {:>10} {}\n", date_of(obj.mtime_epoch_ns), obj.size, name);
    }
    count += page->objects.size() + page->common_prefixes.size();
    if (interrupted()) break;
  }
  if (count == 0 && !prefix.empty()) {
    // Like `aws s3 ls`: nothing under the prefix is not an error to print, but it is exit 1.
    return kExitSomeFailed;
  }
  return kExitOk;
}

}  // namespace sluice::cli
