// Packing a directory tree into a tar archive (gzip-compressed or plain), as SageMaker does with
// /opt/ml/model and /opt/ml/output/data. Entries are relative paths ("./" stripped), in sorted
// order, regular files, directories and symlinks (kept as links); the archive is written under a
// temporary name and renamed when complete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace sluice::formats {

struct TarSource {
  std::filesystem::path dir;  // its contents become the archive's top level
};

struct TarStats {
  uint64_t files = 0;
  uint64_t bytes = 0;  // file contents, before compression
};

// Packs the contents of every source directory, in order, into one archive at `out`. When two
// sources hold the same relative path (several hosts writing /opt/ml/model), the later one wins,
// so callers list hosts in rank order. Throws sluice::Error.
TarStats write_tar(const std::vector<TarSource>& sources, const std::filesystem::path& out, bool gzip);

}  // namespace sluice::formats
