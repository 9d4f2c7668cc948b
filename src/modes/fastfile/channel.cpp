#include "modes/fastfile/channel.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>

#include "core/error.hpp"
#include "modes/fastfile/disk_cache.hpp"

namespace sluice::modes::fastfile {

namespace {
Entry entry_of(const dataset::SourceObject& o) {
  return Entry{o.relative_path, o.address.key, o.size, o.etag, o.mtime_epoch_ns};
}
}  // namespace

std::vector<Entry> channel_entries(const std::vector<dataset::SourceObject>& objects) {
  std::vector<Entry> entries;
  entries.reserve(objects.size());
  for (const auto& o : objects) entries.push_back(entry_of(o));
  return entries;
}

std::vector<Entry> channel_entries(const std::vector<dataset::SourceObject>& objects, const std::vector<size_t>& share) {
  std::vector<Entry> entries;
  entries.reserve(share.size());
  for (size_t i : share) entries.push_back(entry_of(objects.at(i)));
  return entries;
}

uint64_t default_cache_size(const std::filesystem::path& dir) {
  struct statvfs v {};
  std::filesystem::path at = dir;  // the directory may not exist yet: ask its nearest ancestor
  while (::statvfs(at.c_str(), &v) != 0) {
    if (at == at.parent_path()) return 1ull << 30;
    at = at.parent_path();
  }
  uint64_t free_bytes = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
  return std::min<uint64_t>(free_bytes / 2, 64ull << 30);
}

Channel::Channel(store::ObjectStore& store, std::vector<Entry> entries, ChannelOptions options)
    : ns_(Namespace::build(std::move(entries))) {
  if (options.cache_dir) {
    uint64_t max = options.cache_max_bytes ? options.cache_max_bytes : default_cache_size(*options.cache_dir);
    cache_ = std::make_unique<DiskCache>(*options.cache_dir, max, options.reader.block_size);
    options.reader.disk_cache = cache_.get();
  }
  // Files are opened with keep_cache unless direct I/O (fuse_ops.cpp): the kernel keeps their pages.
  options.reader.kernel_page_cache = !options.mount.direct_io;
  reader_ = std::make_unique<Reader>(ns_, store, options.reader);
  mount_ = std::make_unique<Mount>(ns_, *reader_, options.mount);
}

Channel::~Channel() {
  if (mount_) mount_->unmount();
  if (reader_) reader_->shutdown();
}

void Channel::unmount() { mount_->unmount(); }
void Channel::wait() { mount_->wait(); }

}  // namespace sluice::modes::fastfile
