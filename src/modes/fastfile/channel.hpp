// One FastFile channel: a channel's objects shown read-only at a mount point and streamed on
// demand (docs/fastfile.md). `sluice mount` and `sluice train` (InputMode FastFile) both use it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "dataset/source.hpp"
#include "modes/fastfile/mount.hpp"
#include "modes/fastfile/namespace.hpp"
#include "modes/fastfile/reader.hpp"
#include "store/object_store.hpp"

namespace sluice::modes::fastfile {

class DiskCache;

struct ChannelOptions {
  ReaderOptions reader;   // reader.disk_cache is set from cache_dir
  MountOptions mount;
  std::optional<std::filesystem::path> cache_dir;  // --cache
  uint64_t cache_max_bytes = 0;                    // 0: default_cache_size(cache_dir)
};

// The entries of a resolved channel (objects with relative paths), in listing order: all of
// them, or this host's `share` (indices into objects).
std::vector<Entry> channel_entries(const std::vector<dataset::SourceObject>& objects);
std::vector<Entry> channel_entries(const std::vector<dataset::SourceObject>& objects, const std::vector<size_t>& share);

// Default cache size: half of the free space of the file system that holds `dir`, at most 64 GiB.
uint64_t default_cache_size(const std::filesystem::path& dir);

class Channel {
 public:
  // Builds the tree and mounts it; throws Error (invalid paths, a mountpoint that cannot be
  // used, a cache directory that cannot be written). `store` must outlive the channel.
  Channel(store::ObjectStore& store, std::vector<Entry> entries, ChannelOptions options);
  ~Channel();  // unmounts, then stops the reads
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  void unmount();
  void wait();  // until unmounted (unmount() or from outside)

  const Namespace& tree() const { return ns_; }
  ReaderStats stats() const { return reader_->stats(); }

 private:
  Namespace ns_;
  std::unique_ptr<DiskCache> cache_;
  std::unique_ptr<Reader> reader_;
  std::unique_ptr<Mount> mount_;
};

}  // namespace sluice::modes::fastfile
